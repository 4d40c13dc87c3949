import type { Node } from './node-red-types';

export type StatusKind = 'ok' | 'busy' | 'warn' | 'error' | 'idle';

const LOOK: Record<
  StatusKind,
  { fill: 'green' | 'blue' | 'yellow' | 'red' | 'grey'; shape: 'dot' | 'ring' }
> = {
  ok: { fill: 'green', shape: 'dot' },
  busy: { fill: 'blue', shape: 'dot' },
  warn: { fill: 'yellow', shape: 'ring' },
  error: { fill: 'red', shape: 'ring' },
  idle: { fill: 'grey', shape: 'ring' },
};

/** Node status under 20 characters (the design's limit), coloured by kind. */
export function showStatus(node: Node, kind: StatusKind, text: string): void {
  const short = text.length > 19 ? `${text.slice(0, 18)}…` : text;
  node.status({ ...LOOK[kind], text: short });
}

export function clearStatus(node: Node): void {
  node.status({});
}

/** Compact count for status text: 1234 → "1.2k", 2500000 → "2.5M". */
export function compactCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** "1 key", "12 keys", "1.2k keys": a compact count with its noun in the right number. */
export function countOf(n: number, noun: string): string {
  return `${compactCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** HH:MM:SS UTC of an instant, for "ok 12:01:00" style status. */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}
