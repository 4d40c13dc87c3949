/**
 * The keyed operator a worker runs on one stream partition: samples go in in stream order
 * with their position, results come out, and the whole state (every key's + the position
 * it covers) is one JSON value, checkpointed and restored as a unit so that a replay from
 * that position after a takeover reproduces exactly the results that were lost
 * (docs/adr/0100-scale-out-engine.md). Everything is decided by event time in stream
 * order, never by the wall clock. Operators: the moving window (PartitionWindows), COV
 * resampling to fixed buckets (PartitionCovResampler, the cov-resampler's algorithm),
 * turbine-stats (partition-turbine-stats.ts) and the anomaly-flagger's stream mode
 * (partition-anomaly.ts).
 */
import {
  CovResampler,
  type Bucket,
  type CovResamplerState,
  type ResampleMethod,
  type ResampleSettings,
} from './cov-resample';
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

export type OperatorKind = 'moving-window' | 'cov-resample' | 'turbine-stats' | 'anomaly-stream';

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
}

/** A moving-window state has no `operator` field: checkpoints written before operators restore as they are. */
export type PartitionOperatorState =
  PartitionWindowsState | PartitionCovState | PartitionTurbineStatsState | PartitionAnomalyState;

export interface CovResampleOptions {
  bucketMs: number;
  method: ResampleMethod;
  /** For the bucket id within the local day (default UTC). */
  timeZone?: string;
  /** Keys held at most (0: unbounded). */
  maxKeys?: number;
}

/**
 * COV readings of every key of one partition → fixed buckets (LOCF or linear), one
 * CovResampler per key. Lateness 0: a bucket closes when its key's first reading stamped at
 * or after its end arrives; a reading for a bucket already emitted is refused. No bound on
 * readings from the future (it would read the wall clock and a replay could differ); the
 * resampler's span limit still refuses a reading absurdly far from its key's others.
 */
export class PartitionCovResampler implements PartitionOperator<PartitionBucketResult> {
  private readonly keys = new Map<string, CovResampler>();
  private lastSeq = 0;
  private readonly settings: ResampleSettings;
  private readonly maxKeys: number;

  constructor(options: CovResampleOptions) {
    this.settings = {
      bucketMs: options.bucketMs,
      method: options.method,
      timeZone: options.timeZone ?? 'UTC',
      maxCarryMs: 0,
      graceMs: 0,
    };
    if (!(options.bucketMs > 0)) throw new Error(`bucket length ${options.bucketMs} ms must be > 0`);
    this.maxKeys = options.maxKeys ?? 0;
    if (!(Number.isInteger(this.maxKeys) && this.maxKeys >= 0))
      throw new Error(`maxKeys ${this.maxKeys} must be an integer ≥ 0`);
  }

  get seq(): number {
    return this.lastSeq;
  }

  get keyCount(): number {
    return this.keys.size;
  }

  skip(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  add(key: string, timeMs: number, value: number, seq: number): OperatorOutcome<PartitionBucketResult> {
    this.skip(seq);
    let resampler = this.keys.get(key);
    if (!resampler) {
      if (this.maxKeys > 0 && this.keys.size >= this.maxKeys)
        return {
          ok: false,
          reason: `the partition holds ${this.maxKeys} keys (maxKeys): new key "${key}" refused`,
        };
      resampler = new CovResampler(this.settings);
      this.keys.set(key, resampler);
    }
    const refusal = resampler.add(timeMs, value);
    if (refusal) {
      if (resampler.newestTimeMs === undefined) this.keys.delete(key);
      return { ok: false, reason: `key "${key}": ${refusal.reason}` };
    }
    return { ok: true, results: resampler.closeByData().map((b) => ({ key, ...b, seq })) };
  }

  toJSON(): PartitionCovState {
    const keys: PartitionCovState['keys'] = {};
    for (const [key, r] of this.keys) keys[key] = r.toJSON();
    const { bucketMs, method, timeZone } = this.settings;
    return { operator: 'cov-resample', bucketMs, method, timeZone, seq: this.lastSeq, keys };
  }

  static fromJSON(state: PartitionCovState, maxKeys = 0): PartitionCovResampler {
    const { bucketMs, method, timeZone } = state;
    const operator = new PartitionCovResampler({ bucketMs, method, timeZone, maxKeys });
    operator.lastSeq = state.seq;
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
}

export type AnyPartitionOperator =
  | { kind: 'moving-window'; operator: PartitionWindows }
  | { kind: 'cov-resample'; operator: PartitionCovResampler }
  | { kind: 'turbine-stats'; operator: PartitionTurbineStats }
  | { kind: 'anomaly-stream'; operator: PartitionAnomalyStream };

export const DEFAULT_BUCKET_MS = 1_800_000;

function isCovState(state: PartitionOperatorState): state is PartitionCovState {
  return (state as PartitionCovState).operator === 'cov-resample';
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
  if (settings.operator === 'cov-resample') {
    const options: CovResampleOptions = {
      bucketMs: settings.bucketMs ?? DEFAULT_BUCKET_MS,
      method: settings.method ?? 'locf',
      timeZone: settings.timeZone ?? 'UTC',
      maxKeys: settings.maxKeys,
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
        ? PartitionCovResampler.fromJSON(state, options.maxKeys)
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
