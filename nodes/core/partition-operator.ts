/**
 * The keyed operator a worker runs on one stream partition: samples go in in stream order
 * with their position, results come out, and the whole state (every key's + the position
 * it covers) is one JSON value, checkpointed and restored as a unit so that a replay from
 * that position after a takeover reproduces exactly the results that were lost
 * (docs/adr/0100-scale-out-engine.md). Everything is decided by event time in stream
 * order, never by the wall clock. Two operators: the moving window (PartitionWindows) and
 * COV resampling to fixed buckets (PartitionCovResampler, the cov-resampler's algorithm).
 */
import {
  CovResampler,
  type Bucket,
  type CovResamplerState,
  type ResampleMethod,
  type ResampleSettings,
} from './cov-resample';
import type { ForecastSettings } from './forecast-stream';
import { PartitionForecaster, type PartitionForecasterState } from './partition-forecaster';
import {
  PartitionWindows,
  type PartitionWindowsOptions,
  type PartitionWindowsState,
} from './partition-windows';

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

export type OperatorKind = 'moving-window' | 'cov-resample' | 'forecaster';

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
export type PartitionOperatorState = PartitionWindowsState | PartitionCovState | PartitionForecasterState;

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
  /** forecaster: the forecaster node's model settings (timeZone is retrainAt's zone). */
  forecast?: ForecastSettings;
}

export type AnyPartitionOperator =
  | { kind: 'moving-window'; operator: PartitionWindows }
  | { kind: 'cov-resample'; operator: PartitionCovResampler }
  | { kind: 'forecaster'; operator: PartitionForecaster };

export const DEFAULT_BUCKET_MS = 1_800_000;

function isCovState(state: PartitionOperatorState): state is PartitionCovState {
  return 'operator' in state && state.operator === 'cov-resample';
}

/**
 * The operator the settings ask for, restored from `state` when that was written by the same
 * operator with the same layout (window and hop, or bucket, method and zone); otherwise a
 * fresh one at position 0, which replays the partition from the start of the stream.
 */
export function createPartitionOperator(
  settings: OperatorSettings,
  state?: PartitionOperatorState,
): AnyPartitionOperator {
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
    state !== undefined && !('operator' in state) && state.windowMs === windowMs && state.hopMs === hopMs;
  return {
    kind: 'moving-window',
    operator: same
      ? PartitionWindows.fromJSON(state, options)
      : new PartitionWindows(windowMs, hopMs, options),
  };
}
