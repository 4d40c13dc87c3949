/**
 * Flags values outside mean ± k·σ.
 * - Fleet: each member of one batch (e.g. each turbine's daily mean) against the mean and
 *   sample standard deviation of the batch. With n members |z| can never exceed
 *   (n − 1)/√n, so a batch needs at least 6 members before k = 2 can flag anything.
 * - Stream: each value against the values before it (a count window that excludes the
 *   value itself), once the window holds `minCount` values. The window is
 *   sliding-window's `CountWindow` (O(1) mean and stdev per value).
 */
import { CountWindow } from './sliding-window';

export interface ZScore {
  /** (value − mean) / stdev; null when the value or the spread is unknown. */
  z: number | null;
  anomaly: boolean;
  mean: number | null;
  stdev: number | null;
}

/** z-scores of every member against the batch (non-numbers get z null and are left out). */
export function fleetZScores(values: (number | null | undefined)[], k: number): ZScore[] {
  let n = 0;
  let sum = 0;
  for (const v of values) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      n++;
      sum += v;
    }
  }
  const mean = n > 0 ? sum / n : null;
  let squares = 0;
  if (mean !== null)
    for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) squares += (v - mean) ** 2;
  const stdev = n > 1 ? Math.sqrt(squares / (n - 1)) : null;
  return values.map((v) => zScore(typeof v === 'number' && Number.isFinite(v) ? v : null, mean, stdev, k));
}

function zScore(value: number | null, mean: number | null, stdev: number | null, k: number): ZScore {
  if (value === null || mean === null || stdev === null) return { z: null, anomaly: false, mean, stdev };
  const z = stdev === 0 ? 0 : (value - mean) / stdev;
  return { z, anomaly: Math.abs(z) > k, mean, stdev };
}

/** Per key, the window of earlier values (sliding-window's count window state). */
export interface StreamAnomalyState {
  [key: string]: ReturnType<CountWindow['toJSON']>;
}

/** Stream mode, per key: each value against the window of earlier values. */
export class StreamAnomalyDetector {
  private readonly windows = new Map<string, CountWindow>();
  /** Count windows take a time; the arrival number stands in for it. */
  private sequence = 0;

  constructor(
    readonly k: number,
    readonly windowSize: number,
    readonly minCount: number,
    state?: StreamAnomalyState,
  ) {
    if (!(k > 0)) throw new Error(`k ${k} must be above 0`);
    if (minCount > windowSize) throw new Error(`minCount ${minCount} is above windowSize ${windowSize}`);
    for (const [key, window] of Object.entries(state ?? {})) {
      this.windows.set(key, CountWindow.fromJSON({ ...window, length: windowSize }));
      for (const t of window.times) if (t >= this.sequence) this.sequence = t + 1;
    }
  }

  /** Scores `value` against the earlier values of `key`, then adds it to the window. */
  check(key: string, value: number): ZScore & { count: number } {
    let window = this.windows.get(key);
    if (!window) this.windows.set(key, (window = new CountWindow(this.windowSize)));
    const { count, mean, stdev } = window.summary();
    const score =
      count >= this.minCount && count >= 2
        ? zScore(value, mean, stdev, this.k)
        : { z: null, anomaly: false, mean: count > 0 ? mean : null, stdev };
    window.add(this.sequence++, value);
    return { ...score, count };
  }

  reset(key?: string): void {
    if (key === undefined) this.windows.clear();
    else this.windows.delete(key);
  }

  get keys(): number {
    return this.windows.size;
  }

  toJSON(): StreamAnomalyState {
    const out: StreamAnomalyState = {};
    for (const [key, w] of this.windows) out[key] = w.toJSON();
    return out;
  }
}
