/**
 * Event time (docs/adr/0005-event-time.md): what belongs to a result is decided by the
 * time stamped on the data. One `EventClock` per key or stream tracks the newest sample
 * time; its watermark (newest − lateness) closes periods. The wall clock appears only as
 * the bound on samples stamped too far in the future, and in the idle fallback that the
 * caller runs through `closeThrough`.
 */

/** Period boundaries on the time line (window ends, bucket ends, local midnights, …). */
export interface Boundaries {
  /** The first boundary strictly after `timeMs`. */
  after(timeMs: number): number;
  /** The last boundary at or before `timeMs`. */
  atOrBefore(timeMs: number): number;
}

/** Boundaries at every multiple of `periodMs` (plus `offsetMs`) since the epoch. */
export function everyPeriod(periodMs: number, offsetMs = 0): Boundaries {
  if (!(periodMs > 0)) throw new Error(`period ${periodMs} ms must be > 0`);
  const atOrBefore = (t: number) => Math.floor((t - offsetMs) / periodMs) * periodMs + offsetMs;
  return { atOrBefore, after: (t) => atOrBefore(t) + periodMs };
}

/**
 * Which end of a period holds a sample stamped exactly on a boundary B:
 * `end` — periods are (B′, B], as moving windows `(T − length, T]`;
 * `start` — periods are [B′, B), as buckets and days.
 */
export type ClosedSide = 'end' | 'start';

export interface EventTimeBounds {
  /** How far behind the newest sample a sample may arrive and still count. */
  latenessMs: number;
  /** How far ahead of the wall clock a sample may be stamped; further is bad input. */
  maxFutureMs: number;
}

/** Default bound on samples from the future: device clocks drift by minutes, not more. */
export const DEFAULT_MAX_FUTURE_MS = 300_000;

export type Admission = { ok: true } | { ok: false; kind: 'late' | 'future'; reason: string };

export interface EventClockState {
  newestMs: number | null;
  closedThroughMs: number | null;
}

const ADMITTED: Admission = Object.freeze({ ok: true as const });
const iso = (ms: number) => new Date(ms).toISOString();
const finiteOrNull = (ms: number) => (Number.isFinite(ms) ? ms : null);

export class EventClock {
  private newest = -Infinity;
  private closedThrough = -Infinity;

  constructor(
    readonly bounds: EventTimeBounds,
    readonly boundaries: Boundaries,
    readonly closedSide: ClosedSide = 'end',
  ) {
    if (!(bounds.latenessMs >= 0)) throw new Error(`lateness ${bounds.latenessMs} ms must be ≥ 0`);
    if (!(bounds.maxFutureMs >= 0)) throw new Error(`max future ${bounds.maxFutureMs} ms must be ≥ 0`);
  }

  /** Newest sample time taken (−Infinity before the first). */
  get newestMs(): number {
    return this.newest;
  }

  get watermarkMs(): number {
    return this.newest - this.bounds.latenessMs;
  }

  /** The boundary through which every period is closed (−Infinity before the first sample). */
  get closedThroughMs(): number {
    return this.closedThrough;
  }

  /**
   * Whether a sample stamped `timeMs` may count: at most `maxFutureMs` ahead of the wall
   * clock `nowMs`, and not in a period already closed. Changes nothing.
   */
  admit(timeMs: number, nowMs: number): Admission {
    if (timeMs > nowMs + this.bounds.maxFutureMs) {
      const ahead = this.bounds.maxFutureMs / 1000;
      return {
        ok: false,
        kind: 'future',
        reason: `time ${iso(timeMs)} is more than ${ahead} s ahead of the clock (${iso(nowMs)})`,
      };
    }
    const closed = this.closedSide === 'end' ? timeMs <= this.closedThrough : timeMs < this.closedThrough;
    if (closed) {
      return {
        ok: false,
        kind: 'late',
        reason: `time ${iso(timeMs)} is late: results through ${iso(this.closedThrough)} were already emitted`,
      };
    }
    return ADMITTED;
  }

  /**
   * Takes an admitted sample's time; returns the boundaries its watermark reached, oldest
   * first: the periods ending there are complete and are emitted now. At most `limit`;
   * a caller facing a jump over many empty periods uses `skipTo` first.
   */
  advance(timeMs: number, limit = 100_000): number[] {
    this.observe(timeMs);
    return this.closeThrough(this.watermarkMs, limit);
  }

  /**
   * Takes an admitted sample's time and moves the watermark, closing nothing: for callers
   * that close the periods themselves (`closeThrough`, `skipTo`), e.g. to jump over empty ones.
   */
  observe(timeMs: number): void {
    // Periods before the first sample's lateness reach are closed: nothing can be emitted for them.
    if (!Number.isFinite(this.closedThrough))
      this.closedThrough = this.periodStart(timeMs - this.bounds.latenessMs);
    if (timeMs > this.newest) this.newest = timeMs;
  }

  /**
   * Takes an admitted sample's time without closing periods: for callers that hold
   * samples themselves and release what `watermarkMs` has reached.
   */
  note(timeMs: number): void {
    if (timeMs > this.newest) this.newest = timeMs;
  }

  /**
   * Closes every period ending at or before `throughMs` (the idle fallback, `msg.flush`);
   * returns their boundaries oldest first, at most `limit`. Nothing before the first sample.
   */
  closeThrough(throughMs: number, limit = 100_000): number[] {
    const ends: number[] = [];
    if (!Number.isFinite(this.closedThrough)) return ends;
    for (let end = this.boundaries.after(this.closedThrough); end <= throughMs;) {
      if (ends.length >= limit) break;
      ends.push(end);
      this.closedThrough = end;
      end = this.boundaries.after(end);
    }
    return ends;
  }

  /** Marks the periods ending at or before `timeMs` closed without returning them (known empty). */
  skipTo(timeMs: number): void {
    const b = this.boundaries.atOrBefore(timeMs);
    if (b > this.closedThrough) this.closedThrough = b;
  }

  toJSON(): EventClockState {
    return { newestMs: finiteOrNull(this.newest), closedThroughMs: finiteOrNull(this.closedThrough) };
  }

  restore(state: EventClockState | undefined): this {
    this.newest = state?.newestMs ?? -Infinity;
    this.closedThrough = state?.closedThroughMs ?? -Infinity;
    return this;
  }

  /** The boundary that opens the period holding a sample at `timeMs`. */
  private periodStart(timeMs: number): number {
    const b = this.boundaries.atOrBefore(timeMs);
    if (this.closedSide === 'start' || b < timeMs) return b;
    // On a boundary with (B′, B] periods the sample belongs to the period ending there.
    // Boundaries are whole milliseconds apart, so the one before is at or before b − 1.
    return this.boundaries.atOrBefore(b - 1);
  }
}
