/**
 * One-step-ahead forecast models for a regular series (one value per step), pure and
 * serialisable (see docs/adr/0050-forecast-models.md). Each model:
 * `fit(history)` trains on the values, oldest first, and leaves its state at the last one;
 * `predictNext()` is the forecast of the value one step after the last value seen;
 * `update(value)` takes the next actual value without refitting;
 * `toJSON()` / `modelFromJSON()` keep it across a restart.
 * Before a model has been fitted it forecasts the last value seen (persistence).
 */
import { minimiseNelderMead, solveSymmetric } from './forecast-linear';

export const MODEL_NAMES = ['persistence', 'seasonal-naive', 'holt-winters', 'ridge'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelOptions {
  /** Steps per season (24 for a daily cycle of hourly values). */
  season: number;
  /** Ridge: lags of the latest value used as features; 0 = the latest value itself. */
  lags: readonly number[];
  /** Ridge: smoothing factors of exponentially smoothed features (0 < α ≤ 1). */
  alphas: readonly number[];
  /** Ridge: penalty per training row on the standardised weights. */
  ridgeLambda: number;
}

export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  season: 24,
  lags: [0, 1, 2, 23, 24],
  alphas: [0.3, 0.1],
  ridgeLambda: 1e-4,
};

export interface ForecastModel {
  readonly name: ModelName;
  /** Values `fit` needs at least. */
  readonly minHistory: number;
  readonly fitted: boolean;
  fit(history: readonly number[]): void;
  predictNext(): number;
  update(value: number): void;
  toJSON(): ModelState;
}

export type ModelState = PersistenceState | SeasonalNaiveState | HoltWintersState | RidgeState;

interface BaseState {
  fitted: boolean;
  last: number | null;
}

/** Creates an unfitted model after checking the options it uses. */
export function createModel(name: ModelName, options: Partial<ModelOptions> = {}): ForecastModel {
  const o = { ...DEFAULT_MODEL_OPTIONS, ...options };
  switch (name) {
    case 'persistence':
      return new Persistence();
    case 'seasonal-naive':
      return new SeasonalNaive(checkSeason(o.season));
    case 'holt-winters':
      return new HoltWinters(checkSeason(o.season));
    case 'ridge':
      return new RidgeLags(checkLags(o.lags), checkAlphas(o.alphas), checkLambda(o.ridgeLambda));
    default:
      throw new Error(`model "${String(name)}" is not one of ${MODEL_NAMES.join(', ')}`);
  }
}

/** Restores a model saved with `toJSON()`; throws on a state it does not recognise. */
export function modelFromJSON(state: ModelState): ForecastModel {
  if (!state || typeof state !== 'object') throw new Error('saved model state is not an object');
  switch (state.model) {
    case 'persistence':
      return Persistence.fromJSON(state);
    case 'seasonal-naive':
      return SeasonalNaive.fromJSON(state);
    case 'holt-winters':
      return HoltWinters.fromJSON(state);
    case 'ridge':
      return RidgeLags.fromJSON(state);
    default:
      throw new Error(`saved model "${String((state as { model?: unknown }).model)}" is unknown`);
  }
}

/** Minimum history of a model with these options, without building it. */
export function minHistoryOf(name: ModelName, options: Partial<ModelOptions> = {}): number {
  return createModel(name, options).minHistory;
}

function checkSeason(season: number): number {
  if (!Number.isInteger(season) || season < 1) throw new Error(`season ${season} must be an integer ≥ 1`);
  return season;
}

function checkLags(lags: readonly number[]): number[] {
  if (!Array.isArray(lags) || lags.length === 0) throw new Error('lags must list at least one lag');
  for (const lag of lags) {
    if (!Number.isInteger(lag) || lag < 0) throw new Error(`lag ${lag} must be an integer ≥ 0`);
  }
  return [...new Set(lags)].sort((a, b) => a - b);
}

function checkAlphas(alphas: readonly number[]): number[] {
  if (!Array.isArray(alphas)) throw new Error('alphas must be a list of numbers');
  for (const a of alphas) {
    if (!(Number.isFinite(a) && a > 0 && a <= 1)) throw new Error(`alpha ${a} must be > 0 and ≤ 1`);
  }
  return [...alphas];
}

function checkLambda(lambda: number): number {
  if (!(Number.isFinite(lambda) && lambda > 0)) throw new Error(`ridge lambda ${lambda} must be > 0`);
  return lambda;
}

function lastOf(history: readonly number[]): number | null {
  return history.length > 0 ? history[history.length - 1] : null;
}

function assertHistory(model: ForecastModel, history: readonly number[]): void {
  if (history.length < model.minHistory) {
    throw new Error(`${model.name} needs ${model.minHistory} values to fit, got ${history.length}`);
  }
}

// ---------------------------------------------------------------------------------------

interface PersistenceState extends BaseState {
  model: 'persistence';
}

/** The next value equals the last one. The baseline every skill score is measured against. */
export class Persistence implements ForecastModel {
  readonly name = 'persistence' as const;
  readonly minHistory = 1;
  fitted = false;
  private last: number | null = null;

  fit(history: readonly number[]): void {
    assertHistory(this, history);
    this.last = lastOf(history);
    this.fitted = true;
  }

  predictNext(): number {
    return this.last ?? NaN;
  }

  update(value: number): void {
    this.last = value;
  }

  toJSON(): PersistenceState {
    return { model: 'persistence', fitted: this.fitted, last: this.last };
  }

  static fromJSON(state: PersistenceState): Persistence {
    const m = new Persistence();
    m.fitted = Boolean(state.fitted);
    m.last = state.last ?? null;
    return m;
  }
}

// ---------------------------------------------------------------------------------------

interface SeasonalNaiveState extends BaseState {
  model: 'seasonal-naive';
  season: number;
  /** The last `season` values, oldest first. */
  recent: number[];
}

/** The next value equals the value one season earlier (yesterday at this hour). */
export class SeasonalNaive implements ForecastModel {
  readonly name = 'seasonal-naive' as const;
  fitted = false;
  private recent: number[] = [];
  private last: number | null = null;

  constructor(readonly season: number) {}

  get minHistory(): number {
    return this.season;
  }

  fit(history: readonly number[]): void {
    assertHistory(this, history);
    this.recent = history.slice(history.length - this.season);
    this.last = lastOf(history);
    this.fitted = true;
  }

  predictNext(): number {
    if (!this.fitted) return this.last ?? NaN;
    return this.recent[0];
  }

  update(value: number): void {
    this.last = value;
    if (!this.fitted) return;
    this.recent.push(value);
    this.recent.shift();
  }

  toJSON(): SeasonalNaiveState {
    return {
      model: 'seasonal-naive',
      fitted: this.fitted,
      last: this.last,
      season: this.season,
      recent: [...this.recent],
    };
  }

  static fromJSON(state: SeasonalNaiveState): SeasonalNaive {
    const m = new SeasonalNaive(checkSeason(state.season));
    m.fitted = Boolean(state.fitted) && Array.isArray(state.recent) && state.recent.length === m.season;
    m.recent = m.fitted ? [...state.recent] : [];
    m.last = state.last ?? null;
    return m;
  }
}

// ---------------------------------------------------------------------------------------

export interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
}

interface HoltWintersState extends BaseState {
  model: 'holt-winters';
  season: number;
  params: HoltWintersParams;
  level: number;
  trend: number;
  /** Seasonal terms by phase; `phase` is the phase of the next step. */
  seasonal: number[];
  phase: number;
  /** Root mean squared one-step error on the training history at the fitted parameters. */
  fitRmse: number | null;
}

interface HwComponents {
  level: number;
  trend: number;
  seasonal: number[];
  phase: number;
}

/**
 * Additive Holt-Winters (level, trend, season). Initial components come from the first
 * two seasons; α, β, γ are fitted by minimising the sum of squared one-step errors over
 * the whole history (coarse grid, then Nelder–Mead in [0, 1]³).
 */
export class HoltWinters implements ForecastModel {
  readonly name = 'holt-winters' as const;
  fitted = false;
  params: HoltWintersParams = { alpha: 0.5, beta: 0.01, gamma: 0.1 };
  fitRmse: number | null = null;
  private state: HwComponents = { level: 0, trend: 0, seasonal: [], phase: 0 };
  private last: number | null = null;

  constructor(readonly season: number) {}

  get minHistory(): number {
    return 2 * this.season;
  }

  fit(history: readonly number[]): void {
    assertHistory(this, history);
    const init = initialComponents(history, this.season);
    const sse = (p: number[]) =>
      runHoltWinters(history, { alpha: p[0], beta: p[1], gamma: p[2] }, copyComponents(init)).sse;
    let best = { x: [0.5, 0.01, 0.1], value: Infinity };
    for (const alpha of [0.05, 0.2, 0.5, 0.8, 1]) {
      for (const beta of [0, 0.02, 0.2]) {
        for (const gamma of [0, 0.1, 0.4]) {
          const value = sse([alpha, beta, gamma]);
          if (value < best.value) best = { x: [alpha, beta, gamma], value };
        }
      }
    }
    if (best.value > 0) {
      const refined = minimiseNelderMead(sse, best.x, {
        lower: [0, 0, 0],
        upper: [1, 1, 1],
        step: [0.1, 0.02, 0.1],
        maxEvaluations: 150,
        tolerance: 1e-7,
      });
      if (refined.value <= best.value) best = refined;
    }
    this.params = { alpha: best.x[0], beta: best.x[1], gamma: best.x[2] };
    const run = runHoltWinters(history, this.params, copyComponents(init));
    this.state = run.components;
    this.fitRmse = Math.sqrt(run.sse / history.length);
    this.last = lastOf(history);
    this.fitted = true;
  }

  predictNext(): number {
    if (!this.fitted) return this.last ?? NaN;
    const { level, trend, seasonal, phase } = this.state;
    return level + trend + seasonal[phase];
  }

  update(value: number): void {
    this.last = value;
    if (this.fitted) stepHoltWinters(this.state, this.params, value);
  }

  toJSON(): HoltWintersState {
    return {
      model: 'holt-winters',
      fitted: this.fitted,
      last: this.last,
      season: this.season,
      params: { ...this.params },
      level: this.state.level,
      trend: this.state.trend,
      seasonal: [...this.state.seasonal],
      phase: this.state.phase,
      fitRmse: this.fitRmse,
    };
  }

  static fromJSON(state: HoltWintersState): HoltWinters {
    const m = new HoltWinters(checkSeason(state.season));
    const ok =
      Boolean(state.fitted) &&
      Array.isArray(state.seasonal) &&
      state.seasonal.length === m.season &&
      Number.isFinite(state.level) &&
      Number.isFinite(state.trend);
    m.fitted = ok;
    if (ok) {
      m.params = { alpha: state.params.alpha, beta: state.params.beta, gamma: state.params.gamma };
      m.state = {
        level: state.level,
        trend: state.trend,
        seasonal: [...state.seasonal],
        phase: state.phase % m.season,
      };
      m.fitRmse = state.fitRmse ?? null;
    }
    m.last = state.last ?? null;
    return m;
  }
}

function copyComponents(c: HwComponents): HwComponents {
  return { level: c.level, trend: c.trend, seasonal: [...c.seasonal], phase: c.phase };
}

/**
 * Components "just before" the first value: level and trend from the means of the first
 * two seasons, seasonal terms from both seasons after removing that line. Exact for a
 * line plus any periodic pattern of this season length.
 */
function initialComponents(history: readonly number[], m: number): HwComponents {
  let mean1 = 0;
  let mean2 = 0;
  for (let i = 0; i < m; i++) {
    mean1 += history[i] / m;
    mean2 += history[m + i] / m;
  }
  const trend = (mean2 - mean1) / m;
  const centre = (m - 1) / 2;
  const seasonal = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    const line = trend * (i - centre);
    seasonal[i] = (history[i] - mean1 - line + history[m + i] - mean2 - line) / 2;
  }
  return { level: mean1 - trend * (centre + 1), trend, seasonal, phase: 0 };
}

function stepHoltWinters(c: HwComponents, p: HoltWintersParams, value: number): void {
  const s = c.seasonal[c.phase];
  const level = p.alpha * (value - s) + (1 - p.alpha) * (c.level + c.trend);
  c.trend = p.beta * (level - c.level) + (1 - p.beta) * c.trend;
  c.seasonal[c.phase] = p.gamma * (value - level) + (1 - p.gamma) * s;
  c.level = level;
  c.phase = (c.phase + 1) % c.seasonal.length;
}

function runHoltWinters(
  history: readonly number[],
  p: HoltWintersParams,
  c: HwComponents,
): { sse: number; components: HwComponents } {
  let sse = 0;
  for (const value of history) {
    const e = value - (c.level + c.trend + c.seasonal[c.phase]);
    sse += e * e;
    stepHoltWinters(c, p, value);
  }
  return { sse: Number.isFinite(sse) ? sse : Infinity, components: c };
}

// ---------------------------------------------------------------------------------------

interface RidgeState extends BaseState {
  model: 'ridge';
  lags: number[];
  alphas: number[];
  ridgeLambda: number;
  /** Weights of the standardised features, their means and standard deviations; the
   *  intercept is the mean one-step change. */
  weights: number[];
  means: number[];
  scales: number[];
  intercept: number;
  /** The last max(lags)+1 values, oldest first, and the current smoothed values. */
  recent: number[];
  smoothed: number[];
}

/**
 * Ridge regression of the next value on lagged values and exponentially smoothed values.
 * The regression target is the change from the latest value, y[t+1] − y[t], so the
 * penalty shrinks towards persistence plus the mean change (drift) rather than towards
 * the mean level: a line is forecast exactly whatever λ, and a weak signal falls back to
 * the baseline. As y[t] is itself a feature (lag 0), this is the same linear model as a
 * regression of y[t+1]. Features are standardised on the training rows; the intercept
 * (the mean change) is not penalised; the weights solve (ZᵀZ + λ·rows·I) w = Zᵀ(d − d̄)
 * in closed form.
 */
export class RidgeLags implements ForecastModel {
  readonly name = 'ridge' as const;
  fitted = false;
  private weights: number[] = [];
  private means: number[] = [];
  private scales: number[] = [];
  private intercept = 0;
  private recent: number[] = [];
  private smoothed: number[] = [];
  private last: number | null = null;

  constructor(
    readonly lags: readonly number[],
    readonly alphas: readonly number[],
    readonly ridgeLambda: number,
  ) {}

  private get maxLag(): number {
    return this.lags[this.lags.length - 1];
  }

  private get featureCount(): number {
    return this.lags.length + this.alphas.length;
  }

  /** Enough rows for twice as many equations as unknowns. */
  get minHistory(): number {
    return this.maxLag + 2 + 2 * (this.featureCount + 1);
  }

  fit(history: readonly number[]): void {
    assertHistory(this, history);
    const n = history.length;
    const p = this.featureCount;
    const smoothed = this.alphas.map(() => history[0]);
    const rows: number[][] = [];
    const targets: number[] = [];
    for (let t = 0; t < n; t++) {
      if (t > 0) this.alphas.forEach((a, j) => (smoothed[j] = a * history[t] + (1 - a) * smoothed[j]));
      if (t >= this.maxLag && t + 1 < n) {
        rows.push([...this.lags.map((lag) => history[t - lag]), ...smoothed]);
        targets.push(history[t + 1] - history[t]);
      }
    }
    const count = rows.length;
    const means = new Array<number>(p).fill(0);
    const scales = new Array<number>(p).fill(0);
    for (const row of rows) for (let j = 0; j < p; j++) means[j] += row[j] / count;
    for (const row of rows) for (let j = 0; j < p; j++) scales[j] += (row[j] - means[j]) ** 2 / count;
    const used: number[] = [];
    for (let j = 0; j < p; j++) {
      scales[j] = Math.sqrt(scales[j]);
      // A constant feature carries nothing the intercept does not: leave its weight at 0.
      if (scales[j] > 1e-12 * (Math.abs(means[j]) + 1)) used.push(j);
      else scales[j] = 1;
    }
    const targetMean = targets.reduce((s, y) => s + y, 0) / count;
    const k = used.length;
    const a: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const b = new Array<number>(k).fill(0);
    const z = new Array<number>(k);
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < k; i++) z[i] = (rows[r][used[i]] - means[used[i]]) / scales[used[i]];
      const y = targets[r] - targetMean;
      for (let i = 0; i < k; i++) {
        b[i] += z[i] * y;
        for (let j = 0; j <= i; j++) a[i][j] += z[i] * z[j];
      }
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < i; j++) a[j][i] = a[i][j];
      a[i][i] += this.ridgeLambda * count;
    }
    const solved = k > 0 ? solveSymmetric(a, b) : [];
    const weights = new Array<number>(p).fill(0);
    used.forEach((j, i) => (weights[j] = solved[i]));
    this.weights = weights;
    this.means = means;
    this.scales = scales;
    this.intercept = targetMean;
    this.recent = history.slice(n - this.maxLag - 1);
    this.smoothed = smoothed;
    this.last = lastOf(history);
    this.fitted = true;
  }

  predictNext(): number {
    if (!this.fitted) return this.last ?? NaN;
    const newest = this.recent.length - 1;
    let y = this.recent[newest] + this.intercept;
    let j = 0;
    for (const lag of this.lags) {
      y += (this.weights[j] * (this.recent[newest - lag] - this.means[j])) / this.scales[j];
      j++;
    }
    for (const s of this.smoothed) {
      y += (this.weights[j] * (s - this.means[j])) / this.scales[j];
      j++;
    }
    return y;
  }

  update(value: number): void {
    this.last = value;
    if (!this.fitted) return;
    this.recent.push(value);
    this.recent.shift();
    this.alphas.forEach((a, j) => (this.smoothed[j] = a * value + (1 - a) * this.smoothed[j]));
  }

  toJSON(): RidgeState {
    return {
      model: 'ridge',
      fitted: this.fitted,
      last: this.last,
      lags: [...this.lags],
      alphas: [...this.alphas],
      ridgeLambda: this.ridgeLambda,
      weights: [...this.weights],
      means: [...this.means],
      scales: [...this.scales],
      intercept: this.intercept,
      recent: [...this.recent],
      smoothed: [...this.smoothed],
    };
  }

  static fromJSON(state: RidgeState): RidgeLags {
    const m = new RidgeLags(checkLags(state.lags), checkAlphas(state.alphas), checkLambda(state.ridgeLambda));
    const p = m.featureCount;
    const ok =
      Boolean(state.fitted) &&
      [state.weights, state.means, state.scales].every((v) => Array.isArray(v) && v.length === p) &&
      Array.isArray(state.recent) &&
      state.recent.length === m.maxLag + 1 &&
      Array.isArray(state.smoothed) &&
      state.smoothed.length === m.alphas.length;
    m.fitted = ok;
    if (ok) {
      m.weights = [...state.weights];
      m.means = [...state.means];
      m.scales = [...state.scales];
      m.intercept = state.intercept;
      m.recent = [...state.recent];
      m.smoothed = [...state.smoothed];
    }
    m.last = state.last ?? null;
    return m;
  }
}
