/**
 * Flags values outside mean ± k·σ.
 * - Fleet: each member of one batch (e.g. each turbine's daily mean) against the mean and
 *   sample standard deviation of the batch. With n members |z| can never exceed
 *   (n − 1)/√n, so a batch needs at least 6 members before k = 2 can flag anything.
 * - Stream: each value against the values before it (a count window that excludes the
 *   value itself), once the window holds `minCount` values. The window is
 *   sliding-window's `CountWindow` (O(1) mean and stdev per value).
 */
import { LruMap } from './lru-keys';
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
  const numbers = values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
  // z is scale-free: work on values divided by a power of two near the largest magnitude
  // (exact), so sums and squares of values near the smallest doubles do not underflow.
  let scale = 0;
  for (const v of numbers) if (v !== null) scale = Math.max(scale, Math.abs(v));
  const unit = scale > 0 ? 2 ** Math.floor(Math.log2(scale)) : 1;
  let n = 0;
  let sum = 0;
  for (const v of numbers) {
    if (v === null) continue;
    n++;
    sum += v / unit;
  }
  if (n === 0) return numbers.map(() => ({ z: null, anomaly: false, mean: null, stdev: null }));
  // Two-pass, with deviations corrected by their mean (Σd/n): the mean of nearly equal
  // values is often not a double, and a rounded one would lean to one side and push |z|
  // past its (n − 1)/√n bound. The correction is kept apart from the mean, finer than it.
  const mean = sum / n;
  let drift = 0;
  for (const v of numbers) if (v !== null) drift += v / unit - mean;
  const correction = drift / n;
  const deviation = (v: number) => v / unit - mean - correction;
  let squares = 0;
  for (const v of numbers) if (v !== null) squares += deviation(v) ** 2;
  const stdev = n > 1 ? Math.sqrt(squares / (n - 1)) : null;
  return numbers.map((v) => {
    const z = v === null || stdev === null ? null : stdev === 0 ? 0 : deviation(v) / stdev;
    return {
      z,
      anomaly: z !== null && Math.abs(z) > k,
      mean: (mean + correction) * unit,
      stdev: stdev === null ? null : stdev * unit,
    };
  });
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

/** Stream mode, per key: each value against the window of earlier values; at most `maxKeys` keys (LRU). */
export class StreamAnomalyDetector {
  private readonly windows: LruMap<CountWindow>;
  /** Count windows take a time; the arrival number stands in for it. */
  private sequence = 0;

  constructor(
    readonly k: number,
    readonly windowSize: number,
    readonly minCount: number,
    state?: StreamAnomalyState,
    readonly maxKeys = Infinity,
  ) {
    this.windows = new LruMap(maxKeys);
    if (!(k > 0)) throw new Error(`k ${k} must be above 0`);
    if (minCount > windowSize) throw new Error(`minCount ${minCount} is above windowSize ${windowSize}`);
    for (const [key, window] of Object.entries(state ?? {})) {
      this.windows.set(key, CountWindow.fromJSON({ ...window, length: windowSize }));
      for (const t of window.times) if (t >= this.sequence) this.sequence = t + 1;
    }
  }

  /** Scores `value` against the earlier values of `key`, then adds it to the window. */
  check(key: string, value: number): ZScore & { count: number } {
    let window = this.windows.use(key);
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

  /** Keys forgotten because maxKeys was reached (the key idle the longest makes room). */
  get evictedKeys(): number {
    return this.windows.evicted;
  }

  toJSON(): StreamAnomalyState {
    const out: StreamAnomalyState = {};
    for (const [key, w] of this.windows) out[key] = w.toJSON();
    return out;
  }
}
