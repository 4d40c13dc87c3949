/**
 * Rolling accuracy of one-step forecasts over the last `window` forecasts that met their
 * actual: MAE, RMSE, and skill = 1 − RMSE_model / RMSE_persistence, where the persistence
 * forecast of a step is the value seen just before it. Skill 0 means no better than
 * persistence, 1 a perfect forecast, negative worse than persistence; it is null while
 * persistence itself has made no error (the ratio is undefined then).
 */

export interface AccuracyReport {
  /** actual − forecast */
  error: number;
  absError: number;
  mae: number;
  rmse: number;
  rmsePersistence: number;
  skill: number | null;
  /** Forecast/actual pairs in the window. */
  n: number;
}

export interface RollingAccuracyState {
  window: number;
  /** Oldest first: [actual − forecast, actual − persistence] per pair. */
  pairs: [number, number][];
}

export class RollingAccuracy {
  private errors: number[] = [];
  private persistenceErrors: number[] = [];
  /** Where the next pair goes once the window is full (the oldest pair). */
  private head = 0;

  constructor(readonly window: number) {
    if (!(Number.isInteger(window) && window >= 1)) throw new Error(`accuracy window ${window} must be ≥ 1`);
  }

  get n(): number {
    return this.errors.length;
  }

  /** Adds one forecast/actual pair (and the persistence forecast for the same step). */
  add(forecast: number, actual: number, persistenceForecast: number): AccuracyReport {
    const error = actual - forecast;
    this.addErrors(error, actual - persistenceForecast);
    return { error, absError: Math.abs(error), ...this.summary() };
  }

  private addErrors(error: number, persistenceError: number): void {
    if (this.errors.length < this.window) {
      this.errors.push(error);
      this.persistenceErrors.push(persistenceError);
    } else {
      this.errors[this.head] = error;
      this.persistenceErrors[this.head] = persistenceError;
      this.head = (this.head + 1) % this.window;
    }
  }

  /**
   * Summed afresh over the window each time (one forecast per step, windows of hundreds
   * to a few thousand pairs): running sums would leave rounding residue, and a residue in
   * the persistence sum of a flat stretch would turn skill into a huge negative number.
   */
  summary(): Omit<AccuracyReport, 'error' | 'absError'> {
    const n = this.errors.length;
    if (n === 0) return { mae: NaN, rmse: NaN, rmsePersistence: NaN, skill: null, n };
    let sumAbs = 0;
    let sumSq = 0;
    let sumSqPersistence = 0;
    // Oldest first, as toJSON saves them: a restored window sums in the same order, so its
    // numbers equal the uninterrupted run's to the last bit (nats-in replays compare them).
    for (let i = 0; i < n; i++) {
      const k = (this.head + i) % n;
      const e = this.errors[k];
      const p = this.persistenceErrors[k];
      sumAbs += Math.abs(e);
      sumSq += e * e;
      sumSqPersistence += p * p;
    }
    const mae = sumAbs / n;
    const rmse = Math.sqrt(sumSq / n);
    const rmsePersistence = Math.sqrt(sumSqPersistence / n);
    const skill = rmsePersistence > 0 ? 1 - rmse / rmsePersistence : null;
    return { mae, rmse, rmsePersistence, skill, n };
  }

  toJSON(): RollingAccuracyState {
    const pairs: [number, number][] = [];
    const n = this.errors.length;
    for (let i = 0; i < n; i++) {
      const k = (this.head + i) % n;
      pairs.push([this.errors[k], this.persistenceErrors[k]]);
    }
    return { window: this.window, pairs };
  }

  /** Restores the pairs; a smaller window keeps the newest. */
  static fromJSON(state: RollingAccuracyState, window = state.window): RollingAccuracy {
    const a = new RollingAccuracy(window);
    if (!Array.isArray(state.pairs)) throw new Error('saved accuracy pairs are not a list');
    for (const [e, p] of state.pairs.slice(Math.max(0, state.pairs.length - window))) a.addErrors(e, p);
    return a;
  }
}
