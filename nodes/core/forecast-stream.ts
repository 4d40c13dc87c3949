/**
 * The forecaster for one key, without Node-RED: a regular series of the last
 * `historySteps` values, a model trained on it, the forecast waiting for its actual, and
 * rolling accuracy. `observe()` takes one sample and says what to emit (see
 * docs/adr/0051-forecast-step-and-target-time.md).
 */
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

export interface ForecastSettings extends ModelOptions {
  model: ModelName;
  stepMs: number;
  historySteps: number;
  accuracyWindow: number;
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

  constructor(
    readonly settings: ForecastSettings,
    state?: ForecastStreamState,
  ) {
    this.series = new RegularSeries(settings.stepMs, settings.historySteps);
    this.model = createModel(settings.model, settings);
    this.accuracy = new RollingAccuracy(settings.accuracyWindow);
    if (state) this.restore(state);
  }

  get minHistory(): number {
    return this.model.minHistory;
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
      this.model.update(value);
    } else if (this.model.fitted) {
      for (const v of added.appended) this.model.update(v);
    } else {
      for (const v of added.appended) this.model.update(v);
      if (this.series.length >= this.model.minHistory) this.retrain();
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
    if (this.series.length < this.model.minHistory) return false;
    this.model.fit(this.series.values());
    this.trainedAtStep = this.series.lastStep;
    return true;
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
    };
  }

  private restore(state: ForecastStreamState): void {
    if (state.version !== 1) throw new Error(`saved forecaster state version ${state.version} is unknown`);
    if (state.series.stepMs !== this.settings.stepMs) return; // another step: nothing carries over
    const series = RegularSeries.fromJSON(state.series, this.settings.historySteps);
    this.series = series;
    this.accuracy = RollingAccuracy.fromJSON(state.accuracy, this.settings.accuracyWindow);
    this.pending = state.pending ? { ...state.pending } : null;
    if (state.modelKey === modelKeyOf(this.settings)) {
      this.model = modelFromJSON(state.model);
      this.trainedAtStep = state.trainedAtStep;
    } else {
      const last = series.lastValue;
      if (last !== undefined) this.model.update(last);
      this.retrain();
    }
  }
}
