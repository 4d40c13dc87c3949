/**
 * The forecaster's model settings from a saved config, checked with errors that name the
 * setting: one parser for the forecaster node and nats-in's forecaster operator, so both
 * read the same names with the same defaults.
 */
import { MODEL_NAMES, minHistoryOf, type ModelName } from '../core/forecast-models';
import { parseClockTime } from '../core/forecast-schedule';
import type { ForecastSettings } from '../core/forecast-stream';
import { assertTimeZone } from '../core/time-zone';
import { configNumber } from './config-number';

export interface ForecastConfig {
  model?: string;
  stepSeconds?: string | number;
  season?: string | number;
  historySteps?: string | number;
  lags?: string | number[];
  alphas?: string | number[];
  accuracyWindow?: string | number;
  retrainAt?: string;
  timezone?: string;
  latenessSeconds?: string | number;
}

/** "0,1, 2" or [0,1,2] → numbers; throws naming the setting. */
function numberList(raw: unknown, name: string, fallback: number[]): number[] {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const items = Array.isArray(raw)
    ? raw
    : String(raw)
        .split(/[\s,;]+/)
        .filter((s) => s !== '');
  return items.map((item) => configNumber(item, name, NaN));
}

export function parseForecastConfig(config: ForecastConfig): ForecastSettings {
  const model = (config.model || 'holt-winters') as ModelName;
  if (!MODEL_NAMES.includes(model))
    throw new Error(`model "${model}" must be one of ${MODEL_NAMES.join(', ')}`);
  const timeZone = (config.timezone || 'UTC').trim();
  assertTimeZone(timeZone);
  const s: ForecastSettings = {
    model,
    stepMs: configNumber(config.stepSeconds, 'stepSeconds', 3600, { min: 0.001 }) * 1000,
    season: configNumber(config.season, 'season', 24, { min: 1, integer: true }),
    historySteps: configNumber(config.historySteps, 'historySteps', 120, { min: 1, max: 1e6, integer: true }),
    lags: numberList(config.lags, 'lags', [0, 1, 2, 23, 24]),
    alphas: numberList(config.alphas, 'alphas', [0.3, 0.1]),
    ridgeLambda: 1e-4,
    accuracyWindow: configNumber(config.accuracyWindow, 'accuracyWindow', 168, {
      min: 1,
      max: 1e6,
      integer: true,
    }),
    retrainAt: parseClockTime(config.retrainAt ?? '00:15'),
    timeZone,
    latenessMs: configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000,
  };
  const needed = minHistoryOf(model, s);
  if (s.historySteps < needed) {
    throw new Error(
      `historySteps ${s.historySteps} is less than ${model} needs (${needed} steps); raise historySteps` +
        (model === 'ridge' ? ' or use smaller lags' : ' or lower season'),
    );
  }
  return s;
}
