/**
 * Cleaning of one turbine's power series, in this order (docs/adr/0040-turbine-cleaning-order.md):
 * 1. exact duplicate rows (same time, same values in every column) are dropped;
 * 2. a power value that is blank or not a number is "missing";
 * 3. a number outside [minPower, maxPower] is an "outlier" (physical bounds);
 * 4. among the remaining values of each period, a value whose modified z-score
 *    0.6745·|x − median| / MAD exceeds `madThreshold` is an "outlier" (robust rule);
 * 5. missing values and outliers are imputed (docs/adr/0041-turbine-imputation.md):
 *    `linear` in time between the nearest good neighbours of the same turbine (one side
 *    only at the ends: that neighbour's value; none: the period's median), `median` of
 *    the period's good values, or `none` (left out of the statistics).
 */

export type ImputeMethod = 'linear' | 'median' | 'none';
export const IMPUTE_METHODS: readonly ImputeMethod[] = ['linear', 'median', 'none'];

export interface CleaningOptions {
  impute: ImputeMethod;
  /** Lowest physical power; smaller values are outliers (undefined = no bound). */
  minPower?: number;
  /** Highest physical power, e.g. rated power (undefined = no bound). */
  maxPower?: number;
  /** Modified z-score above which a value is an outlier; 0 = rule off [DEFAULT_MAD_THRESHOLD]. */
  madThreshold: number;
}

/** One row of one turbine as it arrived. */
export interface TurbineSample {
  timeMs: number;
  /** Start of the period the row belongs to (the caller's calendar). */
  periodStart: number;
  /** The power value as it arrived: a number, a numeric string, blank, text... */
  power: unknown;
  /** The whole row, for duplicate detection and the cleaned-row output. */
  row: Record<string, unknown>;
}

export type SampleStatus = 'ok' | 'missing' | 'outlier';

export interface CleanSample {
  timeMs: number;
  periodStart: number;
  status: SampleStatus;
  /** The value used for statistics: the reading, the imputed value, or null (not usable). */
  value: number | null;
  imputed: boolean;
  row: Record<string, unknown>;
}

/** A good reading just before the samples (from an earlier, already closed period). */
export interface Anchor {
  timeMs: number;
  value: number;
}

export interface CleanedSeries {
  /** Sorted by time, duplicates removed. */
  samples: CleanSample[];
  /** Duplicates dropped, per period start. */
  duplicates: Map<number, number>;
}

/**
 * 6, not Iglewicz–Hoaglin's 3.5: on 24 hourly values a day, 3.5 flagged four genuine
 * readings of the clean turbine set (largest score 4.27); see docs/adr/0040.
 */
export const DEFAULT_MAD_THRESHOLD = 6;
/** Minimum number of values in a period for the MAD rule to judge them. */
export const MAD_MIN_VALUES = 5;
const MAD_SCALE = 0.6745;

export function powerNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const s = value.trim();
    if (s === '') return null;
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function sameRow(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (x !== y && !(x instanceof Date && y instanceof Date && x.getTime() === y.getTime())) return false;
  }
  return true;
}

export function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Cleans the samples of one turbine (any order, any number of periods). */
export function cleanTurbineSeries(
  input: TurbineSample[],
  options: CleaningOptions,
  anchor?: Anchor,
): CleanedSeries {
  const sorted = input.slice().sort((a, b) => a.timeMs - b.timeMs);
  const duplicates = new Map<number, number>();
  const samples: CleanSample[] = [];
  let sameTimeFrom = 0;
  for (const s of sorted) {
    if (samples.length > 0 && samples[samples.length - 1].timeMs !== s.timeMs) sameTimeFrom = samples.length;
    let duplicate = false;
    for (let j = sameTimeFrom; j < samples.length && !duplicate; j++)
      duplicate = sameRow(samples[j].row, s.row);
    if (duplicate) {
      duplicates.set(s.periodStart, (duplicates.get(s.periodStart) ?? 0) + 1);
      continue;
    }
    const n = powerNumber(s.power);
    let status: SampleStatus = 'ok';
    if (n === null) status = 'missing';
    else if (
      (options.minPower !== undefined && n < options.minPower) ||
      (options.maxPower !== undefined && n > options.maxPower)
    )
      status = 'outlier';
    samples.push({
      timeMs: s.timeMs,
      periodStart: s.periodStart,
      status,
      value: n,
      imputed: false,
      row: s.row,
    });
  }
  const byPeriod = new Map<number, CleanSample[]>();
  for (const s of samples) {
    let list = byPeriod.get(s.periodStart);
    if (!list) byPeriod.set(s.periodStart, (list = []));
    list.push(s);
  }
  if (options.madThreshold > 0)
    for (const list of byPeriod.values()) flagMadOutliers(list, options.madThreshold);
  const medians = new Map<number, number | null>();
  const periodMedian = (periodStart: number): number | null => {
    if (!medians.has(periodStart)) {
      const good = (byPeriod.get(periodStart) ?? [])
        .filter((s) => s.status === 'ok')
        .map((s) => s.value as number);
      medians.set(periodStart, good.length > 0 ? median(good) : null);
    }
    return medians.get(periodStart) as number | null;
  };
  impute(samples, options.impute, periodMedian, anchor);
  return { samples, duplicates };
}

function flagMadOutliers(list: CleanSample[], threshold: number): void {
  const good = list.filter((s) => s.status === 'ok');
  if (good.length < MAD_MIN_VALUES) return;
  const values = good.map((s) => s.value as number);
  const m = median(values);
  const mad = median(values.map((v) => Math.abs(v - m)));
  if (mad === 0) return;
  for (const s of good)
    if ((MAD_SCALE * Math.abs((s.value as number) - m)) / mad > threshold) s.status = 'outlier';
}

function impute(
  samples: CleanSample[],
  method: ImputeMethod,
  periodMedian: (periodStart: number) => number | null,
  anchor: Anchor | undefined,
): void {
  const n = samples.length;
  for (const s of samples) if (s.status !== 'ok') s.value = null;
  if (method === 'none') return;
  if (method === 'median') {
    for (const s of samples) {
      if (s.status === 'ok') continue;
      s.value = periodMedian(s.periodStart);
      s.imputed = s.value !== null;
    }
    return;
  }
  const nextGood = new Int32Array(n);
  let next = -1;
  for (let i = n - 1; i >= 0; i--) {
    nextGood[i] = next;
    if (samples[i].status === 'ok') next = i;
  }
  let prevTime = anchor ? anchor.timeMs : NaN;
  let prevValue = anchor ? anchor.value : NaN;
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    if (s.status === 'ok') {
      prevTime = s.timeMs;
      prevValue = s.value as number;
      continue;
    }
    const j = nextGood[i];
    const hasPrev = prevValue === prevValue;
    let value: number | null;
    if (hasPrev && j >= 0) {
      const after = samples[j];
      const span = after.timeMs - prevTime;
      value =
        span > 0
          ? prevValue + ((after.value as number) - prevValue) * ((s.timeMs - prevTime) / span)
          : (prevValue + (after.value as number)) / 2;
    } else if (hasPrev) value = prevValue;
    else if (j >= 0) value = samples[j].value as number;
    else value = periodMedian(s.periodStart);
    s.value = value;
    s.imputed = value !== null;
  }
}
