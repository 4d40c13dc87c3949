/**
 * Time window with a hop, by pane aggregation (docs/adr/0150-pane-windows.md): the time
 * line is cut into panes of gcd(length, hop), the pane ending at i·pane holding the samples
 * in ((i − 1)·pane, i·pane]. A sample is folded into its pane on arrival (double-double
 * sum, Welford mean/M2, min, max, first/last with their times) and no sample is stored;
 * the window (T − length, T], T a multiple of the hop, is the combination of its
 * length/pane panes (TwoSum for the sums, Chan's formula for the variance). Nothing is
 * ever subtracted, so a huge value that left the window leaves no residue.
 *
 * The method surface is the one KeyedWindows uses of SlidingWindow, with the same
 * refusals; window ends (`sealedSummary`) and cuts (`oldestAfter`) must lie on pane
 * boundaries, which every window end and start of a hop window does.
 */
import {
  Accumulator,
  EMPTY_SUMMARY,
  lateReason,
  summaryOf,
  type SlidingWindowState,
  type WindowSummary,
} from './sliding-window';

/** Panes per window above which the ring (SlidingWindow) is used instead: combining them costs O(panes) per emission. */
export const MAX_PANES_PER_WINDOW = 256;

/** The pane length for a window with a hop, or undefined when panes do not apply. */
export function paneMsFor(lengthMs: number, hopMs: number): number | undefined {
  if (!(Number.isSafeInteger(lengthMs) && Number.isSafeInteger(hopMs) && lengthMs > 0 && hopMs > 0))
    return undefined;
  let a = lengthMs;
  let b = hopMs;
  while (b !== 0) [a, b] = [b, a % b];
  return lengthMs / a <= MAX_PANES_PER_WINDOW ? a : undefined;
}

/** Aggregate of the samples of one pane (arrival order within the pane is free). */
class Pane extends Accumulator {
  override firstTimeMs = Infinity;
  override lastTimeMs = -Infinity;

  constructor(readonly index: number) {
    super();
  }

  override add(timeMs: number, v: number): void {
    this.fold(v);
    // Ties in time keep arrival order, as the ring's stable reorder buffer does.
    if (timeMs < this.firstTimeMs) {
      this.firstTimeMs = timeMs;
      this.first = v;
    }
    if (timeMs >= this.lastTimeMs) {
      this.lastTimeMs = timeMs;
      this.last = v;
    }
  }

  toJSON(): PaneState {
    const { index, n, hi, lo, mean, m2, min, max, first, firstTimeMs, last, lastTimeMs } = this;
    return [index, n, hi, lo, mean, m2, min, max, first, firstTimeMs, last, lastTimeMs];
  }

  static fromJSON(s: PaneState): Pane {
    const p = new Pane(s[0]);
    [, p.n, p.hi, p.lo, p.mean, p.m2, p.min, p.max, p.first, p.firstTimeMs, p.last, p.lastTimeMs] = s;
    return p;
  }
}

/** One pane: [index, n, sumHi, sumLo, mean, m2, min, max, first, firstTimeMs, last, lastTimeMs]. */
export type PaneState = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

export interface PaneWindowState {
  kind: 'panes';
  lengthMs: number;
  paneMs: number;
  maxTimeMs: number | null;
  evictedThroughMs: number | null;
  panes: PaneState[];
}

export class PaneWindow {
  /** Non-empty panes, oldest first. */
  private panes: Pane[] = [];
  private held = 0;
  private maxTimeMs = -Infinity;
  private evictedThroughMs = -Infinity;

  constructor(
    readonly lengthMs: number,
    readonly paneMs: number,
    readonly latenessMs = 0,
  ) {
    if (!(Number.isSafeInteger(paneMs) && paneMs > 0 && lengthMs % paneMs === 0))
      throw new Error(
        `pane ${paneMs} ms must be a whole number of ms that divides the window ${lengthMs} ms`,
      );
    if (!(latenessMs >= 0)) throw new Error(`lateness ${latenessMs} ms must be ≥ 0`);
  }

  /** Samples held. */
  get size(): number {
    return this.held;
  }

  /** Time of the newest sample accepted (−Infinity before the first). */
  get newestTimeMs(): number {
    return this.maxTimeMs;
  }

  /** As SlidingWindow.add: undefined, or why the sample is late. */
  add(timeMs: number, value: number, nowMs = Infinity): string | undefined {
    const late = lateReason(timeMs, this.maxTimeMs, this.latenessMs, this.evictedThroughMs);
    if (late !== undefined) return late;
    if (timeMs > this.maxTimeMs) this.maxTimeMs = timeMs;
    this.paneOf(timeMs).add(timeMs, value);
    this.held++;
    const cutMs = Math.min(this.maxTimeMs - this.latenessMs, nowMs) - this.lengthMs;
    if (cutMs > this.evictedThroughMs) this.evictThrough(cutMs);
    return undefined;
  }

  /** Aggregates of the window (endMs − length, endMs], endMs on a pane boundary; must not go backwards. */
  sealedSummary(endMs: number): WindowSummary {
    this.evictThrough(endMs - this.lengthMs);
    const lastIndex = endMs / this.paneMs;
    const { panes } = this;
    if (panes.length === 0 || panes[0].index > lastIndex) return { ...EMPTY_SUMMARY };
    const p0 = panes[0];
    let { n, hi, lo, mean, m2, min, max, last, lastTimeMs } = p0;
    for (let i = 1; i < panes.length; i++) {
      const p = panes[i];
      if (p.index > lastIndex) break;
      const t = hi + p.hi;
      const bp = t - hi;
      lo += hi - (t - bp) + (p.hi - bp) + p.lo;
      hi = t;
      const total = n + p.n;
      const delta = p.mean - mean;
      m2 += p.m2 + ((delta * delta * n) / total) * p.n;
      mean += (delta * p.n) / total;
      n = total;
      if (p.min < min) min = p.min;
      if (p.max > max) max = p.max;
      last = p.last;
      lastTimeMs = p.lastTimeMs;
    }
    return summaryOf({
      n,
      hi,
      lo,
      m2,
      min,
      max,
      first: p0.first,
      last,
      firstTimeMs: p0.firstTimeMs,
      lastTimeMs,
    });
  }

  /** Time of the oldest sample after `cutMs` (on a pane boundary), NaN when none, dropping what is older. */
  oldestAfter(cutMs: number): number {
    this.evictThrough(cutMs);
    return this.panes.length > 0 ? this.panes[0].firstTimeMs : NaN;
  }

  toJSON(): PaneWindowState {
    return {
      kind: 'panes',
      lengthMs: this.lengthMs,
      paneMs: this.paneMs,
      maxTimeMs: Number.isFinite(this.maxTimeMs) ? this.maxTimeMs : null,
      evictedThroughMs: Number.isFinite(this.evictedThroughMs) ? this.evictedThroughMs : null,
      panes: this.panes.map((p) => p.toJSON()),
    };
  }

  static fromJSON(state: PaneWindowState, latenessMs = 0): PaneWindow {
    const w = new PaneWindow(state.lengthMs, state.paneMs, latenessMs);
    w.panes = state.panes.map((s) => Pane.fromJSON(s));
    w.held = w.panes.reduce((total, p) => total + p.n, 0);
    w.maxTimeMs = state.maxTimeMs ?? -Infinity;
    w.evictedThroughMs = state.evictedThroughMs ?? -Infinity;
    return w;
  }

  /** A ring's saved samples (moving-window state version 1) folded into panes, oldest first. */
  static fromSlidingState(state: SlidingWindowState, paneMs: number, latenessMs = 0): PaneWindow {
    const w = new PaneWindow(state.lengthMs, paneMs, latenessMs);
    const fold = ({ times, values }: { times: number[]; values: number[] }) => {
      for (let i = 0; i < times.length; i++) w.paneOf(times[i]).add(times[i], values[i]);
      w.held += times.length;
    };
    fold(state);
    fold(state.pending);
    w.maxTimeMs = state.maxTimeMs ?? -Infinity;
    w.evictedThroughMs = state.evictedThroughMs ?? -Infinity;
    return w;
  }

  /** The pane holding `timeMs`, created in order if new; arrivals are nearly sorted, so it is usually the last. */
  private paneOf(timeMs: number): Pane {
    const { paneMs, panes } = this;
    let index = Math.ceil(timeMs / paneMs);
    // The division may round across a boundary for times with a fraction of a ms.
    if (index * paneMs < timeMs) index++;
    else if ((index - 1) * paneMs >= timeMs) index--;
    let i = panes.length;
    while (i > 0 && panes[i - 1].index > index) i--;
    if (i > 0 && panes[i - 1].index === index) return panes[i - 1];
    const pane = new Pane(index);
    if (i === panes.length) panes.push(pane);
    else panes.splice(i, 0, pane);
    return pane;
  }

  /** Drops the panes ending at or before `cutMs`. */
  private evictThrough(cutMs: number): void {
    if (cutMs > this.evictedThroughMs) this.evictedThroughMs = cutMs;
    const { panes } = this;
    let k = 0;
    while (k < panes.length && panes[k].index * this.paneMs <= cutMs) this.held -= panes[k++].n;
    if (k > 0) panes.splice(0, k);
  }
}
