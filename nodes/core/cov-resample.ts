/**
 * Change-of-value (COV) readings → fixed buckets (docs/adr/0012–0014).
 *
 * - Buckets are laid out from local midnight in `timeZone`: [start, end), the last one of
 *   a day cut at midnight (a 23- or 25-hour DST day has 46 or 50 half hours). `bucketId`
 *   is the 1-based index in the local day (HalfHourId 1–48), the bucket is labelled by
 *   its start.
 * - The value between readings is the last reading carried forward (LOCF), into and
 *   through empty buckets; `linear` interpolates between readings instead (and holds the
 *   last reading flat when no later one is known yet). Time before the very first
 *   reading has no value: the mean is over the covered part of the bucket.
 * - mean = ∫value dt / covered time; energy = mean × bucket hours; count = readings in
 *   the bucket; filled = no reading in it; stale = some value in it was carried longer
 *   than `maxCarryMs`.
 * - Event time (docs/adr/0005-event-time.md): readings wait sorted until the key's
 *   watermark (newest reading − grace) passes their bucket's end, or a flush. A reading
 *   for a bucket already emitted is late; one stamped more than `maxFutureMs` ahead of the
 *   wall clock is refused and does not move the watermark. `closeLive` is the idle
 *   fallback for live keys that went quiet (the caller decides when a key is live).
 */
import { DEFAULT_MAX_FUTURE_MS, EventClock, type Boundaries } from './event-time';
import { localDayBounds } from './time-zone';

export type ResampleMethod = 'locf' | 'linear';

export interface ResampleSettings {
  bucketMs: number;
  method: ResampleMethod;
  timeZone: string;
  /** Maximum carry-forward age before a bucket is marked stale; 0 = unlimited. */
  maxCarryMs: number;
  /** The lateness: how far behind the key's newest reading a reading may arrive. */
  graceMs: number;
  /** Readings stamped further ahead of the wall clock are refused (default 300 s). */
  maxFutureMs?: number;
}

/** Why a reading was refused: late (its bucket was emitted) or bad input. */
export interface Refusal {
  kind: 'late' | 'future' | 'span';
  reason: string;
}

export interface Bucket {
  bucketId: number;
  startMs: number;
  endMs: number;
  mean: number;
  energy: number;
  count: number;
  filled: boolean;
  stale: boolean;
}

/** A bucket as gridflow's msgs carry it (cov-resampler's output, nats-in's COV buckets). */
export function bucketPayload(b: Bucket) {
  return {
    bucket_id: b.bucketId,
    start: new Date(b.startMs).toISOString(),
    end: new Date(b.endMs).toISOString(),
    mean: b.mean,
    energy: b.energy,
    count: b.count,
    filled: b.filled,
    stale: b.stale,
  };
}

export interface CovResamplerState {
  frontierMs: number | null;
  emitted: boolean;
  carry: { timeMs: number; value: number } | null;
  times: number[];
  values: number[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * Every bucket between two readings is filled (LOCF), so one reading decades away would
 * allocate millions of buckets and take the runtime down: such a reading is refused.
 * 200,000 buckets = 11 years of half hours, 139 days of minutes, 2.3 days of seconds.
 */
export const MAX_SPAN_BUCKETS = 200_000;

/** The bucket that holds instant `t`: start, end and 1-based id in the local day. */
export function bucketAt(
  timeMs: number,
  bucketMs: number,
  timeZone: string,
): { bucketId: number; startMs: number; endMs: number } {
  let dayStart: number;
  let dayEnd: number;
  if (timeZone === 'UTC') {
    dayStart = Math.floor(timeMs / DAY_MS) * DAY_MS;
    dayEnd = dayStart + DAY_MS;
  } else {
    ({ start: dayStart, end: dayEnd } = localDayBounds(timeMs, timeZone));
  }
  const k = Math.floor((timeMs - dayStart) / bucketMs);
  const startMs = dayStart + k * bucketMs;
  return { bucketId: k + 1, startMs, endMs: Math.min(startMs + bucketMs, dayEnd) };
}

/** Bucket boundaries of `bucketAt`: every bucket end, the last of a local day cut at midnight. */
export function bucketBoundaries(bucketMs: number, timeZone: string): Boundaries {
  return {
    after: (t) => bucketAt(t, bucketMs, timeZone).endMs,
    atOrBefore: (t) => bucketAt(t, bucketMs, timeZone).startMs,
  };
}

/** Neumaier-compensated running sum. */
class CompensatedSum {
  sum = 0;
  c = 0;
  add(x: number): void {
    const t = this.sum + x;
    this.c += Math.abs(this.sum) >= Math.abs(x) ? this.sum - t + x : x - t + this.sum;
    this.sum = t;
  }
  value(): number {
    return this.sum + this.c;
  }
}

export class CovResampler {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;
  private carry: { timeMs: number; value: number } | undefined;
  private frontierMs: number | undefined;
  private emitted = false;
  /** Judges readings from the future; closing follows the sorted readings (`closeByData`). */
  private readonly clock: EventClock;

  constructor(
    readonly settings: ResampleSettings,
    state?: CovResamplerState,
  ) {
    if (!(settings.bucketMs > 0)) throw new Error(`bucket length ${settings.bucketMs} ms must be > 0`);
    this.clock = new EventClock(
      { latenessMs: settings.graceMs, maxFutureMs: settings.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS },
      bucketBoundaries(settings.bucketMs, settings.timeZone),
      'start',
    );
    if (state) {
      this.frontierMs = state.frontierMs ?? undefined;
      this.emitted = state.emitted;
      this.carry = state.carry ?? undefined;
      this.times = [...state.times];
      this.values = [...state.values];
    }
  }

  /** Readings waiting for their bucket to close. */
  get pending(): number {
    return this.times.length - this.head;
  }

  /** Time of the newest reading held or carried, or undefined. */
  get newestTimeMs(): number | undefined {
    if (this.pending > 0) return this.times[this.times.length - 1];
    return this.carry?.timeMs;
  }

  /**
   * Adds a reading; returns why it was refused, or undefined. `nowMs` is the wall clock
   * for the future bound (omitted: no bound, as for a whole file resampled at once).
   */
  add(timeMs: number, value: number, nowMs = Infinity): Refusal | undefined {
    const future = this.clock.admit(timeMs, nowMs);
    if (!future.ok && future.kind === 'future') {
      return {
        kind: 'future',
        reason: `reading ${future.reason}; raise maxFutureSeconds if the clocks differ`,
      };
    }
    const span = this.spanBucketsWith(timeMs);
    if (span > MAX_SPAN_BUCKETS) {
      return {
        kind: 'span',
        reason: `reading at ${new Date(timeMs).toISOString()} is ${Math.round(span)} buckets away from this key's other readings (at most ${MAX_SPAN_BUCKETS} are filled between readings); check its time, or send msg.reset for the key to start from it`,
      };
    }
    if (this.emitted && this.frontierMs !== undefined && timeMs < this.frontierMs) {
      return {
        kind: 'late',
        reason: `reading at ${new Date(timeMs).toISOString()} is for a bucket already emitted (up to ${new Date(this.frontierMs).toISOString()}); raise graceSeconds to wait longer`,
      };
    }
    if (!this.emitted) {
      const start = bucketAt(timeMs, this.settings.bucketMs, this.settings.timeZone).startMs;
      if (this.frontierMs === undefined || start < this.frontierMs) this.frontierMs = start;
    }
    const times = this.times;
    let i = times.length;
    while (i > this.head && times[i - 1] > timeMs) i--; // stable: after equal times
    if (i === times.length) {
      times.push(timeMs);
      this.values.push(value);
    } else {
      times.splice(i, 0, timeMs);
      this.values.splice(i, 0, value);
    }
    return undefined;
  }

  /** How many buckets the held readings, the carried value and `timeMs` would span together. */
  private spanBucketsWith(timeMs: number): number {
    const newest = this.newestTimeMs;
    if (newest === undefined) return 0;
    const oldest = Math.min(
      this.frontierMs ?? Infinity,
      this.carry?.timeMs ?? Infinity,
      this.pending > 0 ? this.times[this.head] : Infinity,
    );
    return (Math.max(newest, timeMs) - Math.min(oldest, timeMs)) / this.settings.bucketMs;
  }

  /** Closes the buckets that the watermark has passed: end ≤ newest reading − grace. */
  closeByData(): Bucket[] {
    const newest = this.pending > 0 ? this.times[this.times.length - 1] : undefined;
    return newest === undefined ? [] : this.closeThrough(newest - this.settings.graceMs);
  }

  /**
   * The idle fallback for a live key that went quiet (its readings are stamped about when
   * they arrive, so the wall clock stands in for the next reading): closes the buckets
   * whose end + grace the clock `nowMs` has passed, carrying the last value at most one
   * day (or maxCarry, if longer) past the newest reading, so a dead sensor does not emit
   * forever. Never called for replayed or historic data, which only data and flush close.
   */
  closeLive(nowMs: number): Bucket[] {
    const newest = this.newestTimeMs;
    if (newest === undefined) return [];
    const horizon = newest + Math.max(DAY_MS, this.settings.maxCarryMs);
    return this.closeThrough(Math.min(nowMs - this.settings.graceMs, horizon));
  }

  /** Emits every bucket up to `untilMs` (default: end of the local day of the newest reading). */
  flush(untilMs?: number): Bucket[] {
    const newest = this.newestTimeMs;
    if (newest === undefined) return [];
    const until =
      untilMs ??
      (this.settings.timeZone === 'UTC'
        ? Math.floor(newest / DAY_MS) * DAY_MS + DAY_MS
        : localDayBounds(newest, this.settings.timeZone).end);
    return this.closeThrough(until);
  }

  /** Emits every bucket whose end is ≤ `throughMs`. */
  closeThrough(throughMs: number): Bucket[] {
    const out: Bucket[] = [];
    const { bucketMs, timeZone } = this.settings;
    while (this.frontierMs !== undefined && (this.carry !== undefined || this.pending > 0)) {
      const b = bucketAt(this.frontierMs, bucketMs, timeZone);
      if (b.endMs > throughMs) break;
      // Nothing known yet for this bucket and no value to carry: wait for data.
      if (this.carry === undefined && this.times[this.head] >= b.endMs) {
        this.frontierMs = bucketAt(this.times[this.head], bucketMs, timeZone).startMs;
        continue;
      }
      out.push(this.closeBucket(b.bucketId, b.startMs, b.endMs));
      this.frontierMs = b.endMs;
      this.emitted = true;
    }
    this.compact();
    return out;
  }

  reset(): void {
    this.times = [];
    this.values = [];
    this.head = 0;
    this.carry = undefined;
    this.frontierMs = undefined;
    this.emitted = false;
  }

  toJSON(): CovResamplerState {
    this.compact(true);
    return {
      frontierMs: this.frontierMs ?? null,
      emitted: this.emitted,
      carry: this.carry ?? null,
      times: [...this.times],
      values: [...this.values],
    };
  }

  private closeBucket(bucketId: number, startMs: number, endMs: number): Bucket {
    const { method, maxCarryMs } = this.settings;
    const times = this.times;
    const values = this.values;
    let end = this.head;
    while (end < times.length && times[end] < endMs) end++;
    const count = end - this.head;
    const integral = new CompensatedSum();
    let covered = 0;
    let stale = false;
    // Segments: from each known reading (carry, then readings in the bucket) to the next.
    let prevT = this.carry?.timeMs;
    let prevV = this.carry?.value;
    for (let i = this.head; i <= end; i++) {
      const inBucket = i < end;
      const nextT = inBucket ? times[i] : i < times.length ? times[i] : undefined;
      const nextV = inBucket ? values[i] : i < times.length ? values[i] : undefined;
      if (prevT !== undefined && prevV !== undefined) {
        const segEnd = inBucket ? (nextT as number) : endMs;
        const x0 = Math.max(prevT, startMs);
        const x1 = Math.min(segEnd, endMs);
        if (x1 > x0) {
          if (method === 'linear' && nextT !== undefined && nextV !== undefined && nextT > prevT) {
            const slope = (nextV - prevV) / (nextT - prevT);
            const v0 = prevV + slope * (x0 - prevT);
            const v1 = prevV + slope * (x1 - prevT);
            integral.add(((v0 + v1) / 2) * (x1 - x0));
          } else {
            integral.add(prevV * (x1 - x0));
          }
          covered += x1 - x0;
          if (maxCarryMs > 0 && x1 - prevT > maxCarryMs) stale = true;
        }
      }
      if (inBucket) {
        prevT = nextT;
        prevV = nextV;
      }
    }
    if (count > 0) this.carry = { timeMs: times[end - 1], value: values[end - 1] };
    this.head = end;
    const mean = covered > 0 ? integral.value() / covered : NaN;
    return {
      bucketId,
      startMs,
      endMs,
      mean,
      energy: mean * ((endMs - startMs) / HOUR_MS),
      count,
      filled: count === 0,
      stale,
    };
  }

  private compact(force = false): void {
    if (this.head > 0 && (force || this.head > 1024 || this.head === this.times.length)) {
      this.times.splice(0, this.head);
      this.values.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** Resamples a whole set of readings (any order) into buckets up to `untilMs` (default: end of the last day). */
export function resampleCov(
  readings: ReadonlyArray<{ timeMs: number; value: number }>,
  settings: ResampleSettings,
  untilMs?: number,
): Bucket[] {
  const sorted = [...readings].sort((a, b) => a.timeMs - b.timeMs);
  const r = new CovResampler(settings);
  for (const { timeMs, value } of sorted) r.add(timeMs, value);
  return r.flush(untilMs);
}
