/**
 * "Only records newer than the last one emitted", per poll target. Polling a sliding
 * range such as `start=now-PT10M` every minute returns each record about ten times;
 * a high-water mark per target (the newest record time emitted) lets each through once.
 * See docs/adr/0031-record-dedupe.md.
 */
import { parseIsoTime } from './timestamp';
import { LruMap } from './lru-keys';

export type TimeUnit = 'ms' | 's';

/** Value at a dotted path ("records", "current.dt", "data[0].intensity"); blank = the value itself. */
export function valueAtPath(value: unknown, path: string): unknown {
  if (!path) return value;
  let current: unknown = value;
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (part === '') continue;
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The records of a response: the array at `path`, or the body itself as one record when `path` is blank. */
export function extractRecords(
  body: unknown,
  path: string,
): { ok: true; records: unknown[] } | { ok: false; reason: string } {
  if (!path) return { ok: true, records: Array.isArray(body) ? body : [body] };
  const found = valueAtPath(body, path);
  if (Array.isArray(found)) return { ok: true, records: found };
  if (found === undefined || found === null)
    return { ok: false, reason: `the response has no "${path}" (set the records path to where the list is)` };
  return { ok: true, records: [found] };
}

/**
 * Epoch ms of a record time: numbers in `unit` (One Call's `dt` is in seconds), numeric
 * strings likewise, ISO-8601 strings with zone-less ones read as UTC.
 */
export function recordTimeMs(value: unknown, unit: TimeUnit = 'ms'): number | undefined {
  const scale = unit === 's' ? 1000 : 1;
  if (typeof value === 'number') return Number.isFinite(value) ? value * scale : undefined;
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text) * scale;
    return parseIsoTime(text);
  }
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.getTime();
  return undefined;
}

export interface TimedRecord<R> {
  record: R;
  timeMs: number;
}

export interface DedupeResult<R> {
  /** Records newer than the mark, oldest first (APIs often list newest first). */
  fresh: TimedRecord<R>[];
  /** Records at or before the mark (already emitted), or repeating a time within the response. */
  seen: number;
  /** Records without a readable time; dropped, since they cannot be deduplicated. */
  untimed: number;
  /** Records stamped after `notAfterMs` (bad clocks); dropped without moving the mark. */
  future: number;
}

/** High-water marks per target key; serialisable into the context store. */
export type DedupeState = Record<string, number>;

/** Targets whose mark is kept: a target list that keeps changing cannot grow the state without bound. */
export const MAX_DEDUPE_KEYS = 100_000;

export class RecordDedupe {
  private readonly marks: LruMap<number>;

  constructor(state?: DedupeState, maxKeys = MAX_DEDUPE_KEYS) {
    this.marks = new LruMap(maxKeys);
    // LruMap.set forgets the target idle the longest once maxKeys are held.
    for (const [key, mark] of Object.entries(state ?? {}))
      if (Number.isFinite(mark)) this.marks.set(key, mark);
  }

  /** Newest record time emitted for `key`, if any. */
  mark(key: string): number | undefined {
    return this.marks.get(key);
  }

  /**
   * Splits `records` into the fresh ones (and advances the mark past them) and the rest.
   * Records stamped after `notAfterMs` (the wall clock + the future bound) are dropped:
   * one record stamped 2099 would otherwise hold the mark there for good.
   */
  take<R>(
    key: string,
    records: readonly R[],
    timeOf: (record: R) => number | undefined,
    notAfterMs = Infinity,
  ): DedupeResult<R> {
    const mark = this.marks.use(key) ?? -Infinity;
    const fresh: TimedRecord<R>[] = [];
    let seen = 0;
    let untimed = 0;
    let future = 0;
    for (const record of records) {
      const timeMs = timeOf(record);
      if (timeMs === undefined || !Number.isFinite(timeMs)) untimed++;
      else if (timeMs > notAfterMs) future++;
      else if (timeMs > mark) fresh.push({ record, timeMs });
      else seen++;
    }
    // One record per time: a second record with the same time is not newer than the first.
    fresh.sort((a, b) => a.timeMs - b.timeMs); // stable: the first listed wins
    const unique = fresh.filter((f, i) => i === 0 || f.timeMs !== fresh[i - 1].timeMs);
    seen += fresh.length - unique.length;
    // A new target past maxKeys makes LruMap.set forget the one idle the longest: its next poll emits again.
    if (unique.length > 0) this.marks.set(key, unique[unique.length - 1].timeMs);
    return { fresh: unique, seen, untimed, future };
  }

  reset(key?: string): void {
    if (key === undefined) this.marks.clear();
    else this.marks.delete(key);
  }

  toJSON(): DedupeState {
    return Object.fromEntries(this.marks);
  }
}
