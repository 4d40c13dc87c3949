/**
 * The forecaster for every key of one stream partition (nats-in `operator: forecaster`):
 * one `ForecastStream` per key, the forecaster node's own model, step, history, accuracy
 * and retrain schedule, with the stream position, checkpointed as one JSON value
 * (docs/adr/0100-scale-out-engine.md). Only event time decides: the first fit waits for a
 * full history and refits happen when the key's data passes `retrainAt` in the zone
 * (ForecastStream), samples held for `lateness` are released by the key's own newer
 * samples, and no sample is judged against the wall clock (a replay must decide exactly as
 * the original run), so there is no future bound and no idle release of held samples.
 */
import {
  ForecastStream,
  type AccuracyOutput,
  type Forecast,
  type ForecastSettings,
  type ForecastStreamState,
} from './forecast-stream';
import { PartitionKeys } from './partition-keys';
import type { OperatorOutcome, PartitionOperator } from './partition-operator';

/** A forecast (the forecaster's output 1) or a scored one (its output 2), with the position that made it. */
export type PartitionForecastResult = { key: string; seq: number } & (
  { kind: 'forecast'; forecast: Forecast; filled: number } | { kind: 'accuracy'; accuracy: AccuracyOutput }
);

export interface PartitionForecasterState {
  operator: 'forecaster';
  /** The settings the keys' states were built with; a checkpoint under others is not restored. */
  settings: string;
  seq: number;
  keys: Record<string, ForecastStreamState>;
}

/** The settings that shape a key's state (the wall-clock bound is not one of them). */
export function forecastSettingsKey(s: ForecastSettings): string {
  const { model, stepMs, historySteps, accuracyWindow, season, lags, alphas, ridgeLambda, retrainAt } = s;
  const layout = [model, stepMs, historySteps, accuracyWindow, season, lags, alphas, ridgeLambda];
  return JSON.stringify([...layout, retrainAt ?? null, s.timeZone ?? 'UTC', s.latenessMs ?? 0]);
}

const iso = (ms: number) => new Date(ms).toISOString();

export class PartitionForecaster
  extends PartitionKeys<ForecastStream>
  implements PartitionOperator<PartitionForecastResult>
{
  private readonly settings: ForecastSettings;

  constructor(settings: ForecastSettings, maxKeys = 0) {
    super(maxKeys);
    // No wall clock in a partition: the future bound is never consulted (admit is not called).
    this.settings = { ...settings, maxFutureMs: Infinity };
    new ForecastStream(this.settings); // throws now for settings the model refuses
  }

  add(key: string, timeMs: number, value: number, seq: number): OperatorOutcome<PartitionForecastResult> {
    this.skip(seq);
    if (!Number.isFinite(timeMs) || !Number.isFinite(value))
      return { ok: false, reason: `key "${key}": time ${timeMs} and value ${value} must be finite numbers` };
    const stream = this.getOrCreate(key, () => new ForecastStream(this.settings));
    if (typeof stream === 'string') return { ok: false, reason: stream };
    const results: PartitionForecastResult[] = [];
    for (const observed of stream.add(timeMs, value)) {
      if (observed.kind === 'dropped')
        return {
          ok: false,
          reason: `key "${key}": sample at ${iso(timeMs)} is for the step at ${iso(observed.stepTimeMs)}, not after the key's last step (${iso(observed.lastStepTimeMs)})`,
        };
      results.push({ key, seq, kind: 'forecast', forecast: observed.forecast, filled: observed.filled });
      if (observed.accuracy) results.push({ key, seq, kind: 'accuracy', accuracy: observed.accuracy });
    }
    return { ok: true, results };
  }

  toJSON(): PartitionForecasterState {
    const keys: PartitionForecasterState['keys'] = {};
    for (const [key, stream] of this.keys) keys[key] = stream.toJSON();
    return { operator: 'forecaster', settings: forecastSettingsKey(this.settings), seq: this.lastSeq, keys };
  }

  /** The state restored, or a fresh operator at position 0 when it was written under other settings. */
  static restore(
    settings: ForecastSettings,
    maxKeys: number,
    state?: PartitionForecasterState,
  ): PartitionForecaster {
    const operator = new PartitionForecaster(settings, maxKeys);
    if (state?.operator !== 'forecaster' || state.settings !== forecastSettingsKey(settings)) return operator;
    operator.lastSeq = state.seq;
    for (const [key, s] of Object.entries(state.keys))
      operator.keys.set(key, new ForecastStream(operator.settings, s));
    return operator;
  }
}
