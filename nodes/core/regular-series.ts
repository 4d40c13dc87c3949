/**
 * A regular series for one key: one value per step of `stepMs`, kept for the last
 * `capacity` steps. A sample belongs to the step whose nominal time (a multiple of
 * `stepMs` since the epoch) is nearest its time; missing steps are filled with the last
 * value and counted; a sample for a step already seen is dropped and counted; a gap
 * longer than `maxGapSteps` restarts the series (see docs/adr/0052-forecast-gap-filling.md).
 */

export interface RegularSeriesState {
  stepMs: number;
  /** Values, oldest first; the newest is at `lastStep`. */
  values: number[];
  lastStep: number | null;
  filledTotal: number;
  droppedTotal: number;
  restartsTotal: number;
}

export type SeriesAddResult =
  /** A new step: `appended` holds the filled steps' values, then the sample's. */
  | { kind: 'step'; step: number; filled: number; appended: number[] }
  /** The sample's step was already seen (duplicate or late): nothing changed. */
  | { kind: 'dropped'; step: number; lastStep: number }
  /** The gap was too long to fill: the series starts again at this sample. */
  | { kind: 'restart'; step: number; missed: number };

export class RegularSeries {
  private values_: number[] = [];
  private start = 0;
  lastStep: number | null = null;
  filledTotal = 0;
  droppedTotal = 0;
  restartsTotal = 0;

  constructor(
    readonly stepMs: number,
    readonly capacity: number,
    readonly maxGapSteps = capacity,
  ) {
    if (!(stepMs > 0)) throw new Error(`step ${stepMs} ms must be > 0`);
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error(`capacity ${capacity} must be ≥ 1`);
  }

  /** The step index of an instant: the nearest multiple of the step. */
  stepOf(timeMs: number): number {
    return Math.round(timeMs / this.stepMs);
  }

  /** The nominal instant of a step. */
  timeOf(step: number): number {
    return step * this.stepMs;
  }

  get length(): number {
    return this.values_.length - this.start;
  }

  get lastValue(): number | undefined {
    return this.length > 0 ? this.values_[this.values_.length - 1] : undefined;
  }

  /** The kept values, oldest first. */
  values(): number[] {
    return this.values_.slice(this.start);
  }

  add(timeMs: number, value: number): SeriesAddResult {
    const step = this.stepOf(timeMs);
    if (this.lastStep === null) {
      this.push(value);
      this.lastStep = step;
      return { kind: 'step', step, filled: 0, appended: [value] };
    }
    if (step <= this.lastStep) {
      this.droppedTotal++;
      return { kind: 'dropped', step, lastStep: this.lastStep };
    }
    const gap = step - this.lastStep - 1;
    if (gap > this.maxGapSteps) {
      this.values_ = [value];
      this.start = 0;
      this.lastStep = step;
      this.restartsTotal++;
      return { kind: 'restart', step, missed: gap };
    }
    const fill = this.lastValue as number;
    const appended = new Array<number>(gap).fill(fill);
    appended.push(value);
    for (const v of appended) this.push(v);
    this.filledTotal += gap;
    this.lastStep = step;
    return { kind: 'step', step, filled: gap, appended };
  }

  private push(value: number): void {
    this.values_.push(value);
    if (this.length > this.capacity) this.start++;
    // Trim the dead prefix now and then, so memory stays O(capacity) at O(1) amortized cost.
    if (this.start >= this.capacity) {
      this.values_ = this.values_.slice(this.start);
      this.start = 0;
    }
  }

  toJSON(): RegularSeriesState {
    return {
      stepMs: this.stepMs,
      values: this.values(),
      lastStep: this.lastStep,
      filledTotal: this.filledTotal,
      droppedTotal: this.droppedTotal,
      restartsTotal: this.restartsTotal,
    };
  }

  /** Restores a series; a different capacity keeps the newest values that fit. */
  static fromJSON(state: RegularSeriesState, capacity: number, maxGapSteps = capacity): RegularSeries {
    const s = new RegularSeries(state.stepMs, capacity, maxGapSteps);
    if (!Array.isArray(state.values) || !state.values.every((v) => typeof v === 'number')) {
      throw new Error('saved series values are not a list of numbers');
    }
    s.values_ = state.values.slice(Math.max(0, state.values.length - capacity));
    s.lastStep = s.values_.length > 0 && Number.isInteger(state.lastStep) ? state.lastStep : null;
    if (s.lastStep === null) s.values_ = [];
    s.filledTotal = state.filledTotal ?? 0;
    s.droppedTotal = state.droppedTotal ?? 0;
    s.restartsTotal = state.restartsTotal ?? 0;
    return s;
  }
}
