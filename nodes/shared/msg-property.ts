import type { NodeAPI } from './node-red-types';

/** Reads a dotted msg path ("payload.value"); blank path → undefined. */
export function readMsgPath(RED: NodeAPI, msg: object, path: string): unknown {
  if (!path) return undefined;
  try {
    return RED.util.getMessageProperty(msg as Record<string, unknown>, path);
  } catch {
    return undefined;
  }
}

/** A reader of one msg path: plain names ("payload") read directly, dotted paths through Node-RED. */
export function msgPathReader(RED: NodeAPI, path: string): (msg: object) => unknown {
  if (/^[A-Za-z_$][\w$]*$/.test(path)) return (msg) => (msg as Record<string, unknown>)[path];
  return (msg) => readMsgPath(RED, msg, path);
}

/** A finite number from a number or numeric string; otherwise a reason why not. */
export function readNumber(
  value: unknown,
  what = 'value',
): { ok: true; value: number } | { ok: false; reason: string } {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return { ok: true, value };
    return { ok: false, reason: `${what} ${String(value)} is not a finite number` };
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    if (Number.isFinite(n)) return { ok: true, value: n };
    const hint = /^-?\d+,\d+$/.test(value.trim()) ? ' (decimal comma? send "12.5", not "12,5")' : '';
    return { ok: false, reason: `${what} "${truncate(value)}" is not a number${hint}` };
  }
  if (value === undefined || value === null) return { ok: false, reason: `${what} is missing` };
  const kind = Array.isArray(value) ? 'array' : typeof value;
  return { ok: false, reason: `${what} is ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}, not a number` };
}

/** A key for per-key state: strings as they are, numbers as text, anything else rejected. */
export function readKey(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (value === undefined || value === null) return '';
  return undefined;
}

export function truncate(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
