/**
 * The forecaster for one key, without Node-RED: a regular series of the last
 * `historySteps` values, a model trained on it, the forecast waiting for its actual, and
 * rolling accuracy. `observe()` takes one step's sample and says what to emit (see
 * docs/adr/0051-forecast-step-and-target-time.md); `add()` first holds samples until the
 * event-time watermark reaches their step, so shuffled input within the lateness gives the
 * same forecasts (docs/adr/0005-event-time.md).
 *
 * Everything is decided by the data's own time: the first fit waits for a full history
 * (`historySteps`), and the model is refitted when the data's clock passes `retrainAt`
 * in `timeZone`, so a replay at full speed trains exactly as often as the same data live.
 */
import {
  DEFAULT_MAX_FUTURE_MS,
  EventClock,
  everyPeriod,
  type Admission,
  type EventClockState,
} from './event-time';
import { nextDailyLocalMs, type ClockTime } from './forecast-schedule';
import { RollingAccuracy, type RollingAccuracyState } from './forecast-accuracy';
import {
  createModel,
  modelFromJSON,
  type ForecastModel,
  type ModelName,
  type ModelOptions,
  type ModelState,
} from './forecast-models';
import { RegularSeries, type RegularSeriesState } from './regular-series';
import { isoUtc } from './timestamp';

export interface ForecastSettings extends ModelOptions {
  model: ModelName;
  stepMs: number;
  historySteps: number;
  accuracyWindow: number;
  /** Daily refit time of the data's clock; undefined = fit once, refit only on request. */
  retrainAt?: ClockTime;
  /** IANA zone of `retrainAt` (default UTC). */
  timeZone?: string;
  /** How long `add()` holds a sample for earlier ones that may still arrive (default 0). */
  latenessMs?: number;
  /** Samples stamped further ahead of the wall clock are refused (default 300 s). */
  maxFutureMs?: number;
}

export interface Forecast {
  /** Nominal time of the step just observed, and of the step forecast (one step later). */
  timeMs: number;
  targetTimeMs: number;
  value: number;
  /** The model that made it: the configured one, or persistence while it warms up. */
  model: ModelName;
}

export interface AccuracyOutput {
  targetTimeMs: number;
  forecast: number;
  actual: number;
  error: number;
  absError: number;
  mae: number;
  rmse: number;
  skill: number | null;
  n: number;
  model: ModelName;
}

/** A forecast as the forecaster's output 1 carries it (and nats-in's forecaster operator). */
export function forecastPayload(f: Forecast) {
  return { time: isoUtc(f.timeMs), target_time: isoUtc(f.targetTimeMs), value: f.value, model: f.model };
}

/** A scored forecast as the forecaster's output 2 carries it. */
export function accuracyPayload(a: AccuracyOutput) {
  return {
    time: isoUtc(a.targetTimeMs),
    target_time: isoUtc(a.targetTimeMs),
    forecast: a.forecast,
    actual: a.actual,
    error: a.error,
    abs_error: a.absError,
    mae: a.mae,
    rmse: a.rmse,
    skill: a.skill,
    n: a.n,
    model: a.model,
  };
}

export type ObserveResult =
  | { kind: 'forecast'; forecast: Forecast; accuracy?: AccuracyOutput; filled: number; restarted: boolean }
  | { kind: 'dropped'; stepTimeMs: number; lastStepTimeMs: number };

interface Pending {
  targetStep: number;
  forecast: number;
  persistence: number;
  model: ModelName;
}

export interface ForecastStreamState {
  version: 1;
  /** The settings the model was built with; a model saved under others is refitted. */
  modelKey: string;
  series: RegularSeriesState;
  model: ModelState;
  accuracy: RollingAccuracyState;
  pending: Pending | null;
  trainedAtStep: number | null;
  /** Samples held by `add()` until the watermark reaches their step, by step. */
  held?: Array<[number, number, number]>;
  clock?: EventClockState;
}

function modelKeyOf(s: ForecastSettings): string {
  return JSON.stringify([s.model, s.season, s.lags, s.alphas, s.ridgeLambda]);
}

export class ForecastStream {
  series: RegularSeries;
  private model: ForecastModel;
  private accuracy: RollingAccuracy;
  private pending: Pending | null = null;
  /** Step of the newest value the model was last fitted on; null before the first fit. */
  trainedAtStep: number | null = null;
  /** Data time at or after which the next step refits the model; null = not scheduled. */
  nextRetrainMs: number | null = null;
  /** Samples waiting for the watermark: step → [timeMs, value]. */
  private held = new Map<number, [number, number]>();
  private readonly clock: EventClock;

  constructor(
    readonly settings: ForecastSettings,
    state?: ForecastStreamState,
  ) {
    this.series = new RegularSeries(settings.stepMs, settings.historySteps);
    this.model = createModel(settings.model, settings);
    this.accuracy = new RollingAccuracy(settings.accuracyWindow);
    this.clock = new EventClock(
      { latenessMs: settings.latenessMs ?? 0, maxFutureMs: settings.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS },
      everyPeriod(settings.stepMs),
    );
    if (state) this.restore(state);
  }

  /**
   * Values needed before the first fit: a full history (a model fitted on a handful of
   * points forecasts worse than persistence until its next refit), never fewer than the
   * model needs. Persistence has nothing to fit.
   */
  get minHistory(): number {
    if (this.model.name === 'persistence') return this.model.minHistory;
    return Math.max(this.model.minHistory, this.settings.historySteps);
  }

  /** Samples held for the watermark. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Refuses a sample stamped too far ahead of the wall clock `nowMs` (it would stop the key). */
  admit(timeMs: number, nowMs: number): Admission {
    const verdict = this.clock.admit(timeMs, nowMs);
    // Late samples are judged by their step (RegularSeries drops a step already taken).
    return verdict.ok || verdict.kind === 'future' ? verdict : { ok: true };
  }

  /**
   * Takes an admitted sample and returns the steps whose samples the watermark (newest −
   * lateness) reached, oldest first; with lateness 0 a sample is taken at once. Of two
   * samples held for one step the earlier is kept.
   */
  add(timeMs: number, value: number): ObserveResult[] {
    const step = this.series.stepOf(timeMs);
    const lastStep = this.series.lastStep;
    if (lastStep !== null && step <= lastStep) return [this.observe(timeMs, value)];
    const held = this.held.get(step);
    if (held === undefined || timeMs < held[0]) this.held.set(step, [timeMs, value]);
    this.clock.note(timeMs);
    return this.release(this.clock.watermarkMs);
  }

  /** Takes every held sample now (msg.flush, idle fallback). */
  flush(): ObserveResult[] {
    return this.release(Infinity);
  }

  private release(throughMs: number): ObserveResult[] {
    // By the sample's own time, not its step's nominal time: an hourly reading at 12:53 is
    // the 13:00 step and is taken at once with lateness 0.
    const due = [...this.held].filter(([, [timeMs]]) => timeMs <= throughMs).map(([step]) => step);
    due.sort((a, b) => a - b);
    const results: ObserveResult[] = [];
    for (const step of due) {
      const [timeMs, value] = this.held.get(step) as [number, number];
      this.held.delete(step);
      results.push(this.observe(timeMs, value));
    }
    return results;
  }

  /** True once the configured model is trained; until then forecasts are persistence. */
  get ready(): boolean {
    return this.model.fitted;
  }

  get modelName(): ModelName {
    return this.model.name;
  }

  observe(timeMs: number, value: number): ObserveResult {
    const added = this.series.add(timeMs, value);
    if (added.kind === 'dropped') {
      return {
        kind: 'dropped',
        stepTimeMs: this.series.timeOf(added.step),
        lastStepTimeMs: this.series.timeOf(added.lastStep),
      };
    }
    let accuracy: AccuracyOutput | undefined;
    const pending = this.pending;
    if (pending && pending.targetStep === added.step) {
      const report = this.accuracy.add(pending.forecast, value, pending.persistence);
      accuracy = {
        targetTimeMs: this.series.timeOf(added.step),
        forecast: pending.forecast,
        actual: value,
        error: report.error,
        absError: report.absError,
        mae: report.mae,
        rmse: report.rmse,
        skill: report.skill,
        n: report.n,
        model: pending.model,
      };
    }
    if (added.kind === 'restart') {
      this.model = createModel(this.settings.model, this.settings);
      this.trainedAtStep = null;
      this.nextRetrainMs = null;
      this.model.update(value);
    } else {
      for (const v of added.appended) this.model.update(v);
      const stepTimeMs = this.series.timeOf(added.step);
      const due = this.model.fitted
        ? this.nextRetrainMs !== null && stepTimeMs >= this.nextRetrainMs
        : this.series.length >= this.minHistory;
      if (due) this.retrain();
    }
    let predicted = this.model.fitted ? this.model.predictNext() : value;
    let model: ModelName = this.model.fitted ? this.model.name : 'persistence';
    if (!Number.isFinite(predicted)) {
      predicted = value;
      model = 'persistence';
    }
    this.pending = { targetStep: added.step + 1, forecast: predicted, persistence: value, model };
    return {
      kind: 'forecast',
      forecast: {
        timeMs: this.series.timeOf(added.step),
        targetTimeMs: this.series.timeOf(added.step + 1),
        value: predicted,
        model,
      },
      accuracy,
      filled: added.kind === 'step' ? added.filled : 0,
      restarted: added.kind === 'restart',
    };
  }

  /** Fits the model on the kept history; false when there is not enough of it yet. */
  retrain(): boolean {
    if (this.series.length < this.model.minHistory || this.series.lastStep === null) return false;
    this.model.fit(this.series.values());
    this.trainedAtStep = this.series.lastStep;
    this.scheduleRetrain(this.series.timeOf(this.series.lastStep));
    return true;
  }

  /** The next refit: the first `retrainAt` of the data's clock after `afterMs`. */
  private scheduleRetrain(afterMs: number): void {
    const at = this.settings.retrainAt;
    this.nextRetrainMs = at ? nextDailyLocalMs(afterMs, at, this.settings.timeZone ?? 'UTC') : null;
  }

  toJSON(): ForecastStreamState {
    return {
      version: 1,
      modelKey: modelKeyOf(this.settings),
      series: this.series.toJSON(),
      model: this.model.toJSON(),
      accuracy: this.accuracy.toJSON(),
      pending: this.pending ? { ...this.pending } : null,
      trainedAtStep: this.trainedAtStep,
      held: [...this.held].map(([step, [timeMs, value]]) => [step, timeMs, value]),
      clock: this.clock.toJSON(),
    };
  }

  private restore(state: ForecastStreamState): void {
    if (state.version !== 1) throw new Error(`saved forecaster state version ${state.version} is unknown`);
    if (state.series.stepMs !== this.settings.stepMs) return; // another step: nothing carries over
    const series = RegularSeries.fromJSON(state.series, this.settings.historySteps);
    this.series = series;
    this.accuracy = RollingAccuracy.fromJSON(state.accuracy, this.settings.accuracyWindow);
    this.pending = state.pending ? { ...state.pending } : null;
    this.held = new Map((state.held ?? []).map(([step, timeMs, value]) => [step, [timeMs, value]]));
    this.clock.restore(state.clock);
    if (state.modelKey === modelKeyOf(this.settings)) {
      this.model = modelFromJSON(state.model);
      this.trainedAtStep = state.trainedAtStep;
      // Derived, not saved: a changed retrainAt applies from the last fit on.
      if (state.trainedAtStep !== null) this.scheduleRetrain(series.timeOf(state.trainedAtStep));
    } else {
      const last = series.lastValue;
      if (last !== undefined) this.model.update(last);
      this.retrain();
    }
  }
}
