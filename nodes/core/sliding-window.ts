/**
 * Sliding windows over a stream of (time, value) samples, exact and O(1) amortized per
 * sample whatever the window length (docs/adr/0010, 0011):
 * - samples live in a growable ring buffer (typed arrays, head index; never Array.shift);
 * - sum, mean and variance use the two-stacks scheme: the window is a front stack whose
 *   suffix aggregates are rebuilt from the samples present when it runs empty, plus a
 *   back stack with one running aggregate. A value that left the window is never
 *   subtracted, so 1e12 followed by tiny values leaves no cancellation residue. Sums are
 *   double-double (TwoSum), variance combines Welford aggregates with Chan's formula;
 * - min and max use the same two stacks (suffix min/max in the front stack, a running
 *   min/max in the back stack): exact, with no data-dependent loop per sample, unlike a
 *   monotonic deque, whose pop loop mispredicts on unordered values.
 */
export type Aggregate = 'mean' | 'min' | 'max' | 'sum' | 'count' | 'stdev' | 'first' | 'last';
export const AGGREGATES: readonly Aggregate[] = [
  'mean',
  'min',
  'max',
  'sum',
  'count',
  'stdev',
  'first',
  'last',
];

/** Aggregates of the samples in a window; null where undefined (empty window, stdev of one). */
export interface WindowSummary {
  count: number;
  sum: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  stdev: number | null;
  first: number | null;
  last: number | null;
  firstTimeMs: number | null;
  lastTimeMs: number | null;
}

/** Serialisable samples of a window (what the context store keeps). */
export interface WindowSamples {
  times: number[];
  values: number[];
}

/** The summary of an empty window. */
export const EMPTY_SUMMARY: Readonly<WindowSummary> = Object.freeze({
  count: 0,
  sum: 0,
  mean: null,
  min: null,
  max: null,
  stdev: null,
  first: null,
  last: null,
  firstTimeMs: null,
  lastTimeMs: null,
});

/** What a summary is read from: count, double-double sum, Welford M2, extremes, ends. */
export type Moments = Pick<
  Accumulator,
  'n' | 'hi' | 'lo' | 'm2' | 'min' | 'max' | 'first' | 'last' | 'firstTimeMs' | 'lastTimeMs'
>;

export function summaryOf(a: Moments): WindowSummary {
  const n = a.n;
  if (n === 0) return { ...EMPTY_SUMMARY };
  const sum = a.hi + a.lo;
  return {
    count: n,
    sum,
    mean: sum / n,
    min: a.min,
    max: a.max,
    stdev: n > 1 ? Math.sqrt(Math.max(0, a.m2) / (n - 1)) : null,
    first: a.first,
    last: a.last,
    firstTimeMs: a.firstTimeMs,
    lastTimeMs: a.lastTimeMs,
  };
}

/** Running aggregate of a set of samples: double-double sum + Welford (n, mean, M2). */
export class Accumulator {
  n = 0;
  hi = 0;
  lo = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  first = NaN;
  last = NaN;
  firstTimeMs = NaN;
  lastTimeMs = NaN;

  /** Folds in one sample that is later than every sample already in. */
  add(timeMs: number, v: number): void {
    this.fold(v);
    if (this.n === 1) {
      this.first = v;
      this.firstTimeMs = timeMs;
    }
    this.last = v;
    this.lastTimeMs = timeMs;
  }

  summary(): WindowSummary {
    return summaryOf(this);
  }

  /** Count, sum, mean, M2, min and max of one more value. */
  protected fold(v: number): void {
    const t = this.hi + v;
    const bp = t - this.hi;
    this.lo += this.hi - (t - bp) + (v - bp);
    this.hi = t;
    this.n++;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

/**
 * FIFO of samples with O(1) amortized push/shift and O(1) aggregates. Samples are
 * numbered by a sequence number; ring position = seq & mask.
 *
 * Hot path (push + shift + sum/min/max): one TwoSum and two compares per push; the front
 * stack's suffix sums, mins and maxes are rebuilt in one pass when it runs empty. The
 * Welford (mean, M2) aggregates that only variance needs are folded in lazily, at the
 * first variance read, over the same samples in the same order as an eager fold, so the
 * results are bit-identical and a mean/min/max-only reader pays no division per sample.
 */
export class WindowQueue {
  private mask = 15;
  private times = new Float64Array(16);
  private values = new Float64Array(16);
  // Suffix aggregates of the front stack, by ring position.
  private sHi = new Float64Array(16);
  private sLo = new Float64Array(16);
  private sMean = new Float64Array(16);
  private sM2 = new Float64Array(16);
  private sMin = new Float64Array(16);
  private sMax = new Float64Array(16);
  private headSeq = 0;
  private tailSeq = 0;
  // Front stack: seqs [headSeq, frontEnd); back stack: [frontEnd, tailSeq).
  private frontEnd = 0;
  private bHi = 0;
  private bLo = 0;
  private bMin = Infinity;
  private bMax = -Infinity;
  // Welford aggregate of the back stack through seq bWelfordEnd (exclusive).
  private bWelfordEnd = 0;
  private bMean = 0;
  private bM2 = 0;
  // Whether sMean/sM2 hold the suffix Welford aggregates of the current front stack.
  private frontWelford = true;

  get size(): number {
    return this.tailSeq - this.headSeq;
  }

  oldestTimeMs(): number {
    return this.tailSeq > this.headSeq ? this.times[this.headSeq & this.mask] : NaN;
  }

  newestTimeMs(): number {
    return this.tailSeq > this.headSeq ? this.times[(this.tailSeq - 1) & this.mask] : NaN;
  }

  oldestValue(): number {
    return this.tailSeq > this.headSeq ? this.values[this.headSeq & this.mask] : NaN;
  }

  newestValue(): number {
    return this.tailSeq > this.headSeq ? this.values[(this.tailSeq - 1) & this.mask] : NaN;
  }

  push(timeMs: number, v: number): void {
    const seq = this.tailSeq;
    if (seq - this.headSeq > this.mask) this.grow();
    const p = seq & this.mask;
    this.tailSeq = seq + 1;
    this.times[p] = timeMs;
    this.values[p] = v;
    const hi = this.bHi;
    const t = hi + v;
    const bp = t - hi;
    this.bLo += hi - (t - bp) + (v - bp);
    this.bHi = t;
    if (v < this.bMin) this.bMin = v;
    if (v > this.bMax) this.bMax = v;
  }

  /** Removes the oldest sample. */
  shift(): void {
    const seq = this.headSeq;
    if (seq === this.tailSeq) return;
    if (seq === this.frontEnd) this.flip();
    this.headSeq = seq + 1;
  }

  clear(): void {
    this.headSeq = this.tailSeq = this.frontEnd = this.bWelfordEnd = 0;
    this.bHi = this.bLo = this.bMean = this.bM2 = 0;
    this.frontWelford = true;
    this.bMin = Infinity;
    this.bMax = -Infinity;
  }

  sum(): number {
    let hi = this.bHi;
    let lo = this.bLo;
    const head = this.headSeq;
    if (head < this.frontEnd) {
      const p = head & this.mask;
      const a = this.sHi[p];
      const t = a + hi;
      const bp = t - a;
      lo += a - (t - bp) + (hi - bp) + this.sLo[p];
      hi = t;
    }
    return hi + lo;
  }

  mean(): number {
    const n = this.tailSeq - this.headSeq;
    return n > 0 ? this.sum() / n : NaN;
  }

  /** Smallest value, NaN when empty. */
  min(): number {
    const head = this.headSeq;
    if (head < this.frontEnd) {
      const a = this.sMin[head & this.mask];
      return a <= this.bMin ? a : this.bMin;
    }
    return head < this.tailSeq ? this.bMin : NaN;
  }

  /** Largest value, NaN when empty. */
  max(): number {
    const head = this.headSeq;
    if (head < this.frontEnd) {
      const a = this.sMax[head & this.mask];
      return a >= this.bMax ? a : this.bMax;
    }
    return head < this.tailSeq ? this.bMax : NaN;
  }

  /** Sample variance (n − 1), NaN below two samples. */
  variance(): number {
    const n = this.tailSeq - this.headSeq;
    if (n < 2) return NaN;
    this.foldWelford();
    let m2 = this.bM2;
    const nB = this.tailSeq - this.frontEnd;
    const nA = this.frontEnd - this.headSeq;
    if (nA > 0) {
      const p = this.headSeq & this.mask;
      const delta = this.bMean - this.sMean[p];
      m2 = nB > 0 ? this.sM2[p] + m2 + ((delta * delta * nA) / n) * nB : this.sM2[p];
    }
    return Math.max(0, m2) / (n - 1);
  }

  summary(): WindowSummary {
    const n = this.size;
    if (n === 0) return new Accumulator().summary();
    const variance = this.variance();
    const sum = this.sum(); // once: mean() would add the two stacks again
    return {
      count: n,
      sum,
      mean: sum / n,
      min: this.min(),
      max: this.max(),
      stdev: n > 1 ? Math.sqrt(variance) : null,
      first: this.values[this.headSeq & this.mask],
      last: this.values[(this.tailSeq - 1) & this.mask],
      firstTimeMs: this.oldestTimeMs(),
      lastTimeMs: this.newestTimeMs(),
    };
  }

  /** Calls `fn` for every sample, oldest first. */
  forEach(fn: (timeMs: number, v: number) => void): void {
    for (let s = this.headSeq; s < this.tailSeq; s++)
      fn(this.times[s & this.mask], this.values[s & this.mask]);
  }

  toJSON(): WindowSamples {
    const times: number[] = [];
    const values: number[] = [];
    this.forEach((t, v) => {
      times.push(t);
      values.push(v);
    });
    return { times, values };
  }

  /** Brings the Welford aggregates (back running, front suffixes) up to date. */
  private foldWelford(): void {
    const { mask, values } = this;
    if (!this.frontWelford) {
      // Suffix aggregates from the newest front sample down to the head: the same
      // operations, in the same order, as an eager pass at flip time.
      const { sMean, sM2 } = this;
      let mean = 0;
      let m2 = 0;
      let n = 0;
      for (let s = this.frontEnd - 1; s >= this.headSeq; s--) {
        const p = s & mask;
        const v = values[p];
        n++;
        const d = v - mean;
        mean += d / n;
        m2 += d * (v - mean);
        sMean[p] = mean;
        sM2[p] = m2;
      }
      this.frontWelford = true;
    }
    let mean = this.bMean;
    let m2 = this.bM2;
    for (let s = this.bWelfordEnd; s < this.tailSeq; s++) {
      const v = values[s & mask];
      const d = v - mean;
      mean += d / (s - this.frontEnd + 1);
      m2 += d * (v - mean);
    }
    this.bMean = mean;
    this.bM2 = m2;
    this.bWelfordEnd = this.tailSeq;
  }

  /** Moves the whole back stack into the front stack, computing suffix sums, mins and maxes. */
  private flip(): void {
    const { mask, values, sHi, sLo, sMin, sMax } = this;
    let hi = 0;
    let lo = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let s = this.tailSeq - 1; s >= this.headSeq; s--) {
      const p = s & mask;
      const v = values[p];
      const t = hi + v;
      const bp = t - hi;
      lo += hi - (t - bp) + (v - bp);
      hi = t;
      sHi[p] = hi;
      sLo[p] = lo;
      // Ties keep the older sample, as Accumulator and pane windows do (0 vs −0).
      if (v <= min) min = v;
      if (v >= max) max = v;
      sMin[p] = min;
      sMax[p] = max;
    }
    this.frontEnd = this.bWelfordEnd = this.tailSeq;
    this.frontWelford = false;
    this.bHi = this.bLo = this.bMean = this.bM2 = 0;
    this.bMin = Infinity;
    this.bMax = -Infinity;
  }

  private grow(): void {
    const oldMask = this.mask;
    const cap = (oldMask + 1) * 2;
    const mask = cap - 1;
    const move = (from: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const to = new Float64Array(cap);
      for (let s = this.headSeq; s < this.tailSeq; s++) to[s & mask] = from[s & oldMask];
      return to;
    };
    this.times = move(this.times);
    this.values = move(this.values);
    this.sHi = move(this.sHi);
    this.sLo = move(this.sLo);
    this.sMean = move(this.sMean);
    this.sM2 = move(this.sM2);
    this.sMin = move(this.sMin);
    this.sMax = move(this.sMax);
    this.mask = mask;
  }
}

/** The last `length` samples, whatever their times. */
export class CountWindow {
  private readonly queue = new WindowQueue();

  constructor(readonly length: number) {
    if (!(Number.isInteger(length) && length >= 1))
      throw new Error(`count window length ${length} must be ≥ 1`);
  }

  get size(): number {
    return this.queue.size;
  }

  add(timeMs: number, value: number): void {
    this.queue.push(timeMs, value);
    if (this.queue.size > this.length) this.queue.shift();
  }

  mean(): number {
    return this.queue.mean();
  }
  min(): number {
    return this.queue.min();
  }
  max(): number {
    return this.queue.max();
  }

  summary(): WindowSummary {
    return this.queue.summary();
  }

  /** Time of the oldest sample held, NaN when empty. */
  oldestTimeMs(): number {
    return this.queue.oldestTimeMs();
  }

  /** Time of the newest sample held, NaN when empty. */
  newestTimeMs(): number {
    return this.queue.newestTimeMs();
  }

  /**
   * One aggregate, the same number `summary()[a]` gives, without building the summary:
   * the per-sample output reads only the aggregates asked for (no Welford fold for a mean).
   */
  aggregate(a: Aggregate): number | null {
    const q = this.queue;
    const n = q.size;
    if (a === 'count') return n;
    if (a === 'sum') return n > 0 ? q.sum() : 0;
    if (n === 0) return null;
    switch (a) {
      case 'mean':
        return q.sum() / n;
      case 'min':
        return q.min();
      case 'max':
        return q.max();
      case 'stdev':
        return n > 1 ? Math.sqrt(q.variance()) : null;
      case 'first':
        return q.oldestValue();
      case 'last':
        return q.newestValue();
    }
  }

  toJSON(): WindowSamples & { kind: 'count'; length: number } {
    return { kind: 'count', length: this.length, ...this.queue.toJSON() };
  }

  static fromJSON(state: WindowSamples & { length: number }): CountWindow {
    const w = new CountWindow(state.length);
    for (let i = 0; i < state.times.length; i++) w.add(state.times[i], state.values[i]);
    return w;
  }
}

/**
 * Why a sample is late for a time window (SlidingWindow, PaneWindow), or undefined: more
 * than the lateness behind the newest sample, or not after the start of the current window.
 */
export function lateReason(
  timeMs: number,
  newestMs: number,
  latenessMs: number,
  evictedThroughMs: number,
): string | undefined {
  if (timeMs < newestMs - latenessMs)
    return `sample at ${new Date(timeMs).toISOString()} is more than ${latenessMs / 1000} s behind the newest (${new Date(newestMs).toISOString()})`;
  if (timeMs <= evictedThroughMs)
    return `sample at ${new Date(timeMs).toISOString()} is not after the start of the current window (${new Date(evictedThroughMs).toISOString()})`;
  return undefined;
}

export interface SlidingWindowState extends WindowSamples {
  kind: 'time';
  lengthMs: number;
  latenessMs: number;
  maxTimeMs: number | null;
  evictedThroughMs: number | null;
  pending: WindowSamples;
}

/**
 * Time window: the window ending at T holds the samples with time in (T − length, T].
 * Samples may arrive up to `latenessMs` behind the newest one; they wait, sorted, in a
 * small reorder buffer until the watermark (newest − lateness) passes them, so the ring
 * stays in time order. `add` returns the reason when a sample is refused as late.
 */
export class SlidingWindow {
  private readonly queue = new WindowQueue();
  private pendingTimes: number[] = [];
  private pendingValues: number[] = [];
  private maxTimeMs = -Infinity;
  private evictedThroughMs = -Infinity;

  constructor(
    readonly lengthMs: number,
    readonly latenessMs = 0,
  ) {
    if (!(lengthMs > 0)) throw new Error(`window length ${lengthMs} ms must be > 0`);
    if (!(latenessMs >= 0)) throw new Error(`lateness ${latenessMs} ms must be ≥ 0`);
  }

  /** Samples held (window + reorder buffer). */
  get size(): number {
    return this.queue.size + this.pendingTimes.length;
  }

  /** Time of the newest sample accepted (−Infinity before the first). */
  get newestTimeMs(): number {
    return this.maxTimeMs;
  }

  /**
   * Adds a sample; `nowMs` (the clock) keeps samples stamped in the future out of the
   * window until the clock reaches them. Returns undefined, or why the sample is late.
   */
  add(timeMs: number, value: number, nowMs = Infinity): string | undefined {
    const late = lateReason(timeMs, this.maxTimeMs, this.latenessMs, this.evictedThroughMs);
    if (late !== undefined) return late;
    if (timeMs > this.maxTimeMs) this.maxTimeMs = timeMs;
    const releaseThrough = Math.min(this.maxTimeMs - this.latenessMs, nowMs);
    if (this.pendingTimes.length === 0 && timeMs <= releaseThrough) {
      this.queue.push(timeMs, value);
    } else {
      this.insertPending(timeMs, value);
      this.release(releaseThrough);
    }
    // Windows still to come end at or after the clock, so what is older than one
    // length before it can go now (keeps memory bounded between emissions).
    if (releaseThrough - this.lengthMs > this.evictedThroughMs)
      this.evictThrough(releaseThrough - this.lengthMs);
    return undefined;
  }

  /** Aggregates of the window (endMs − length, endMs]; `endMs` must not go backwards. */
  summary(endMs: number): WindowSummary {
    this.release(Math.min(endMs, this.maxTimeMs - this.latenessMs));
    this.evictThrough(endMs - this.lengthMs);
    const pendingInWindow = this.pendingTimes.length > 0 && this.pendingTimes[0] <= endMs;
    if (!pendingInWindow) return this.queue.summary();
    const acc = new Accumulator();
    this.queue.forEach((t, v) => acc.add(t, v));
    for (let i = 0; i < this.pendingTimes.length && this.pendingTimes[i] <= endMs; i++) {
      acc.add(this.pendingTimes[i], this.pendingValues[i]);
    }
    return acc.summary();
  }

  /**
   * Aggregates of the window (endMs − length, endMs] once no sample at or before `endMs`
   * can still arrive (the event-time watermark passed it): the reorder buffer up to
   * `endMs` joins the ring, so the summary is O(1). `endMs` must not go backwards.
   */
  sealedSummary(endMs: number): WindowSummary {
    this.release(endMs);
    this.evictThrough(endMs - this.lengthMs);
    return this.queue.summary();
  }

  /**
   * Time of the oldest sample after `cutMs` (NaN when none), dropping the ones at or
   * before it: lets a caller skip windows that hold no sample. `cutMs` must not go backwards.
   */
  oldestAfter(cutMs: number): number {
    this.evictThrough(cutMs);
    const queued = this.queue.oldestTimeMs();
    if (!Number.isNaN(queued)) return queued;
    return this.pendingTimes.length > 0 ? this.pendingTimes[0] : NaN;
  }

  toJSON(): SlidingWindowState {
    return {
      kind: 'time',
      lengthMs: this.lengthMs,
      latenessMs: this.latenessMs,
      maxTimeMs: Number.isFinite(this.maxTimeMs) ? this.maxTimeMs : null,
      evictedThroughMs: Number.isFinite(this.evictedThroughMs) ? this.evictedThroughMs : null,
      ...this.queue.toJSON(),
      pending: { times: [...this.pendingTimes], values: [...this.pendingValues] },
    };
  }

  static fromJSON(state: SlidingWindowState): SlidingWindow {
    const w = new SlidingWindow(state.lengthMs, state.latenessMs);
    for (let i = 0; i < state.times.length; i++) w.queue.push(state.times[i], state.values[i]);
    w.pendingTimes = [...state.pending.times];
    w.pendingValues = [...state.pending.values];
    w.maxTimeMs = state.maxTimeMs ?? -Infinity;
    w.evictedThroughMs = state.evictedThroughMs ?? -Infinity;
    return w;
  }

  private evictThrough(cutMs: number): void {
    if (cutMs > this.evictedThroughMs) this.evictedThroughMs = cutMs;
    while (this.queue.size > 0 && this.queue.oldestTimeMs() <= cutMs) this.queue.shift();
    let k = 0;
    while (k < this.pendingTimes.length && this.pendingTimes[k] <= cutMs) k++;
    if (k > 0) {
      this.pendingTimes.splice(0, k);
      this.pendingValues.splice(0, k);
    }
  }

  private insertPending(timeMs: number, value: number): void {
    const times = this.pendingTimes;
    let i = times.length;
    while (i > 0 && times[i - 1] > timeMs) i--; // usually appends: arrivals are nearly sorted
    if (i === times.length) {
      times.push(timeMs);
      this.pendingValues.push(value);
    } else {
      times.splice(i, 0, timeMs);
      this.pendingValues.splice(i, 0, value);
    }
  }

  private release(throughMs: number): void {
    const times = this.pendingTimes;
    let k = 0;
    while (k < times.length && times[k] <= throughMs) {
      this.queue.push(times[k], this.pendingValues[k]);
      k++;
    }
    if (k === times.length) {
      times.length = 0;
      this.pendingValues.length = 0;
    } else if (k > 0) {
      // The reorder buffer spans at most the lateness, so this splice stays small.
      times.splice(0, k);
      this.pendingValues.splice(0, k);
    }
  }
}

export type AnyWindowState = SlidingWindowState | (WindowSamples & { kind: 'count'; length: number });

export function windowFromJSON(state: AnyWindowState): SlidingWindow | CountWindow {
  return state.kind === 'count' ? CountWindow.fromJSON(state) : SlidingWindow.fromJSON(state);
}
