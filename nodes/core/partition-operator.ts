/**
 * The keyed operator a worker runs on one stream partition: samples go in in stream order
 * with their position, results come out, and the whole state (every key's + the position
 * it covers) is one JSON value, checkpointed and restored as a unit so that a replay from
 * that position after a takeover reproduces exactly the results that were lost
 * (docs/adr/0100-scale-out-engine.md). Everything is decided by event time in stream
 * order, never by the wall clock. Operators: the moving window (PartitionWindows), COV
 * resampling to fixed buckets (PartitionCovResampler, the cov-resampler's algorithm),
 * turbine-stats (partition-turbine-stats.ts), the anomaly-flagger's stream mode
 * (partition-anomaly.ts) and the forecaster per key (partition-forecaster.ts).
 */
import {
  bucketAt,
  CovResampler,
  type Bucket,
  type CovResamplerState,
  type ResampleMethod,
  type ResampleSettings,
} from './cov-resample';
import type { ForecastSettings } from './forecast-stream';
import { PartitionForecaster, type PartitionForecasterState } from './partition-forecaster';
import { PartitionKeys } from './partition-keys';
import {
  PartitionWindows,
  type PartitionWindowsOptions,
  type PartitionWindowsState,
} from './partition-windows';
import { PartitionAnomalyStream, type PartitionAnomalyState } from './partition-anomaly';
import { PartitionTurbineStats, type PartitionTurbineStatsState } from './partition-turbine-stats';
import { DEFAULT_MAD_THRESHOLD, type ImputeMethod } from './turbine-cleaning';

export type OperatorOutcome<R> = { ok: true; results: R[] } | { ok: false; reason: string };

export interface PartitionOperator<R> {
  /** Last stream position folded in (0: none). */
  readonly seq: number;
  /** Records that `seq` was consumed without a sample (bad input), so replay skips it. */
  skip(seq: number): void;
  /** Folds in one sample; returns the results it completed, or why it was refused. */
  add(key: string, timeMs: number, value: number, seq: number): OperatorOutcome<R>;
  toJSON(): PartitionOperatorState;
}

export type OperatorKind =
  'moving-window' | 'cov-resample' | 'turbine-stats' | 'anomaly-stream' | 'forecaster';

/** One bucket of one key, as the cov-resampler emits it, with the position that closed it. */
export interface PartitionBucketResult extends Bucket {
  key: string;
  seq: number;
}

export interface PartitionCovState {
  operator: 'cov-resample';
  bucketMs: number;
  method: ResampleMethod;
  timeZone: string;
  seq: number;
  keys: Record<string, CovResamplerState>;
  /** Idle closing only: newest reading time of the partition, and the bucket start every key is closed up to. */
  newestMs?: number;
  watermarkMs?: number;
}

/** A moving-window state has no `operator` field: checkpoints written before operators restore as they are. */
export type PartitionOperatorState =
  | PartitionWindowsState
  | PartitionCovState
  | PartitionTurbineStatsState
  | PartitionAnomalyState
  | PartitionForecasterState;

export interface CovResampleOptions {
  bucketMs: number;
  method: ResampleMethod;
  /** For the bucket id within the local day (default UTC). */
  timeZone?: string;
  /** Keys held at most (0: unbounded). */
  maxKeys?: number;
  /** Buckets of every key close once the partition's newest reading is this much past their end (0: never). */
  idleMs?: number;
}

/**
 * COV readings of every key of one partition → fixed buckets (LOCF or linear), one
 * CovResampler per key. Lateness 0: a bucket closes when its key's first reading stamped at
 * or after its end arrives; a reading for a bucket already emitted is refused. No bound on
 * readings from the future (it would read the wall clock and a replay could differ); the
 * resampler's span limit still refuses a reading absurdly far from its key's others.
 *
 * With `idleMs` > 0 a quiet meter's buckets close by the partition's event time, as in
 * PartitionWindows: the watermark is the newest reading time of the partition − idle,
 * floored to its bucket start; every key's buckets ending at or before it are emitted (the
 * cov-resampler's own idle fallback, `closeLive`, with the watermark for the wall clock:
 * LOCF or linear held flat, at most a day past the key's newest reading), and a reading
 * stamped before it is refused. Decided in stream order only, so a replay gives the same.
 */
export class PartitionCovResampler
  extends PartitionKeys<CovResampler>
  implements PartitionOperator<PartitionBucketResult>
{
  private readonly settings: ResampleSettings;
  private readonly idleMs: number;
  private newestMs = -Infinity;
  private watermarkMs = -Infinity;

  constructor(options: CovResampleOptions) {
    super(options.maxKeys);
    this.settings = {
      bucketMs: options.bucketMs,
      method: options.method,
      timeZone: options.timeZone ?? 'UTC',
      maxCarryMs: 0,
      graceMs: 0,
    };
    if (!(options.bucketMs > 0)) throw new Error(`bucket length ${options.bucketMs} ms must be > 0`);
    this.idleMs = options.idleMs ?? 0;
    if (!(this.idleMs >= 0)) throw new Error(`idle ${this.idleMs} ms must be ≥ 0`);
  }

  /** Buckets ending at or before it are closed for every key (-Infinity without idle closing). */
  get watermark(): number {
    return this.watermarkMs;
  }

  add(key: string, timeMs: number, value: number, seq: number): OperatorOutcome<PartitionBucketResult> {
    this.skip(seq);
    if (timeMs < this.watermarkMs)
      return {
        ok: false,
        reason: `reading at ${new Date(timeMs).toISOString()} of key "${key}" is before the partition's idle watermark (${new Date(this.watermarkMs).toISOString()}): its bucket was closed for every key`,
      };
    const resampler = this.getOrCreate(key, () => new CovResampler(this.settings));
    if (typeof resampler === 'string') return { ok: false, reason: resampler };
    const refusal = resampler.add(timeMs, value);
    if (refusal) {
      if (resampler.newestTimeMs === undefined) this.keys.delete(key);
      return { ok: false, reason: `key "${key}": ${refusal.reason}` };
    }
    const results = resampler.closeByData().map((b) => ({ key, ...b, seq }));
    if (this.idleMs > 0 && timeMs > this.newestMs) {
      this.newestMs = timeMs;
      this.advanceWatermark(seq, results);
    }
    return { ok: true, results };
  }

  /** Runs only when the watermark crosses a bucket boundary: one pass over the keys per bucket of partition time. */
  private advanceWatermark(seq: number, results: PartitionBucketResult[]): void {
    const { bucketMs, timeZone } = this.settings;
    const watermark = bucketAt(this.newestMs - this.idleMs, bucketMs, timeZone).startMs;
    if (watermark <= this.watermarkMs) return;
    this.watermarkMs = watermark;
    for (const [key, resampler] of this.keys)
      for (const b of resampler.closeLive(watermark)) results.push({ key, ...b, seq });
  }

  toJSON(): PartitionCovState {
    const keys: PartitionCovState['keys'] = {};
    for (const [key, r] of this.keys) keys[key] = r.toJSON();
    const { bucketMs, method, timeZone } = this.settings;
    const clocks = this.idleMs > 0 ? { newestMs: this.newestMs, watermarkMs: this.watermarkMs } : {};
    return { operator: 'cov-resample', bucketMs, method, timeZone, seq: this.lastSeq, keys, ...clocks };
  }

  static fromJSON(state: PartitionCovState, maxKeys = 0, idleMs = 0): PartitionCovResampler {
    const { bucketMs, method, timeZone } = state;
    const operator = new PartitionCovResampler({ bucketMs, method, timeZone, maxKeys, idleMs });
    operator.lastSeq = state.seq;
    // JSON has no -Infinity: an absent or null clock is "none yet". Idle closing turned off drops them.
    if (idleMs > 0) {
      operator.newestMs = state.newestMs ?? -Infinity;
      operator.watermarkMs = state.watermarkMs ?? -Infinity;
    }
    for (const [key, s] of Object.entries(state.keys))
      operator.keys.set(key, new CovResampler(operator.settings, s));
    return operator;
  }
}

export interface OperatorSettings extends PartitionWindowsOptions {
  /** Default moving-window. */
  operator?: OperatorKind;
  windowMs: number;
  hopMs: number;
  /** cov-resample: bucket length (default 30 min), method (default locf), time zone (default UTC). */
  bucketMs?: number;
  method?: ResampleMethod;
  timeZone?: string;
  /** turbine-stats: period (default a day, aligned in timeZone) and the node's cleaning settings. */
  periodSeconds?: number;
  impute?: ImputeMethod;
  minPower?: number;
  maxPower?: number;
  madThreshold?: number;
  /** anomaly-stream: the anomaly-flagger's settings (defaults 2, 100, 10). */
  sigmas?: number;
  windowSize?: number;
  minCount?: number;
  /** forecaster: the forecaster node's model settings (timeZone is retrainAt's zone). */
  forecast?: ForecastSettings;
}

export type AnyPartitionOperator =
  | { kind: 'moving-window'; operator: PartitionWindows }
  | { kind: 'cov-resample'; operator: PartitionCovResampler }
  | { kind: 'turbine-stats'; operator: PartitionTurbineStats }
  | { kind: 'anomaly-stream'; operator: PartitionAnomalyStream }
  | { kind: 'forecaster'; operator: PartitionForecaster };

export const DEFAULT_BUCKET_MS = 1_800_000;

function isCovState(state: PartitionOperatorState): state is PartitionCovState {
  return 'operator' in state && state.operator === 'cov-resample';
}

function isWindowsState(state: PartitionOperatorState): state is PartitionWindowsState {
  return !('operator' in state);
}

function createTurbineStats(
  settings: OperatorSettings,
  state?: PartitionOperatorState,
): PartitionTurbineStats {
  const { idleMs, maxKeys } = settings;
  const layout = {
    periodSeconds: settings.periodSeconds ?? 86_400,
    timeZone: settings.timeZone ?? 'UTC',
    impute: settings.impute ?? 'linear',
    minPower: settings.minPower,
    maxPower: settings.maxPower,
    madThreshold: settings.madThreshold ?? DEFAULT_MAD_THRESHOLD,
  };
  const same =
    state !== undefined &&
    'operator' in state &&
    state.operator === 'turbine-stats' &&
    (Object.keys(layout) as (keyof typeof layout)[]).every((k) => state[k] === layout[k]);
  return same
    ? PartitionTurbineStats.fromJSON(state, { idleMs, maxKeys })
    : new PartitionTurbineStats({ ...layout, idleMs, maxKeys });
}

function createAnomalyStream(
  settings: OperatorSettings,
  state?: PartitionOperatorState,
): PartitionAnomalyStream {
  const options = {
    sigmas: settings.sigmas ?? 2,
    windowSize: settings.windowSize ?? 100,
    minCount: settings.minCount ?? 10,
  };
  const same =
    state !== undefined &&
    'operator' in state &&
    state.operator === 'anomaly-stream' &&
    state.sigmas === options.sigmas &&
    state.windowSize === options.windowSize &&
    state.minCount === options.minCount;
  return same
    ? PartitionAnomalyStream.fromJSON(state, settings.maxKeys)
    : new PartitionAnomalyStream({ ...options, maxKeys: settings.maxKeys });
}

/**
 * The operator the settings ask for, restored from `state` when that was written by the same
 * operator with the same layout (window and hop; bucket, method and zone; period, zone and
 * cleaning; or sigmas, window size and min count); otherwise a
 * fresh one at position 0, which replays the partition from the start of the stream.
 */
export function createPartitionOperator(
  settings: OperatorSettings,
  state?: PartitionOperatorState,
): AnyPartitionOperator {
  if (settings.operator === 'turbine-stats')
    return { kind: 'turbine-stats', operator: createTurbineStats(settings, state) };
  if (settings.operator === 'anomaly-stream')
    return { kind: 'anomaly-stream', operator: createAnomalyStream(settings, state) };
  if (settings.operator === 'forecaster') {
    if (!settings.forecast) throw new Error('operator forecaster needs the forecaster settings');
    const saved = state && 'operator' in state && state.operator === 'forecaster' ? state : undefined;
    return {
      kind: 'forecaster',
      operator: PartitionForecaster.restore(settings.forecast, settings.maxKeys ?? 0, saved),
    };
  }
  if (settings.operator === 'cov-resample') {
    const options: CovResampleOptions = {
      bucketMs: settings.bucketMs ?? DEFAULT_BUCKET_MS,
      method: settings.method ?? 'locf',
      timeZone: settings.timeZone ?? 'UTC',
      maxKeys: settings.maxKeys,
      idleMs: settings.idleMs,
    };
    const same =
      state !== undefined &&
      isCovState(state) &&
      state.bucketMs === options.bucketMs &&
      state.method === options.method &&
      state.timeZone === options.timeZone;
    return {
      kind: 'cov-resample',
      operator: same
        ? PartitionCovResampler.fromJSON(state, options.maxKeys, options.idleMs)
        : new PartitionCovResampler(options),
    };
  }
  const { windowMs, hopMs, idleMs, maxKeys } = settings;
  const options = { idleMs, maxKeys };
  const same =
    state !== undefined && isWindowsState(state) && state.windowMs === windowMs && state.hopMs === hopMs;
  return {
    kind: 'moving-window',
    operator: same
      ? PartitionWindows.fromJSON(state, options)
      : new PartitionWindows(windowMs, hopMs, options),
  };
}
