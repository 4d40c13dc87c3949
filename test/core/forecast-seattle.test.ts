import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_NAMES, type ModelName } from '../../nodes/core/forecast-models';
import { ForecastStream } from '../../nodes/core/forecast-stream';
import { parseIsoTime } from '../../nodes/core/timestamp';

const HOUR_MS = 3_600_000;
const FIXTURE = join(
  __dirname,
  '..',
  '..',
  '..',
  'test',
  'fixtures',
  'weather',
  'seattle-weather-hourly-normals.csv',
);

function readTemperatures(): { timeMs: number; value: number }[] {
  const [header, ...lines] = readFileSync(FIXTURE, 'utf8').trim().split(/\r?\n/);
  const columns = header.split(',');
  const dateAt = columns.indexOf('date');
  const tempAt = columns.indexOf('temperature');
  return lines.map((line) => {
    const cells = line.split(',');
    return { timeMs: parseIsoTime(cells[dateAt]) as number, value: Number(cells[tempAt]) };
  });
}

interface Score {
  model: ModelName;
  mae: number;
  rmse: number;
  skill: number;
  n: number;
  warmupForecasts: number;
}

/**
 * Walk forward over the year one step ahead: every hour the stream takes the actual and
 * forecasts the next hour; every day at 00:00 UTC it refits on the rolling 5-day history.
 * Scored from the 6th day on, when every model has been trained.
 */
function walkForward(model: ModelName, rows: { timeMs: number; value: number }[]): Score {
  const stream = new ForecastStream({
    model,
    stepMs: HOUR_MS,
    historySteps: 120,
    accuracyWindow: rows.length,
    season: 24,
    lags: [0, 1, 2, 23, 24],
    alphas: [0.3, 0.1],
    ridgeLambda: 1e-4,
  });
  const scoreFrom = rows[0].timeMs + 5 * 24 * HOUR_MS;
  let sumAbs = 0;
  let sumSq = 0;
  let sumSqPersistence = 0;
  let n = 0;
  let warmupForecasts = 0;
  let previous: { target: number; value: number; persistence: number } | undefined;
  for (const { timeMs, value } of rows) {
    if (timeMs % (24 * HOUR_MS) === 0) stream.retrain();
    const result = stream.observe(timeMs, value);
    assert.equal(result.kind, 'forecast');
    if (result.kind !== 'forecast') continue;
    if (previous && previous.target === timeMs && timeMs >= scoreFrom) {
      const e = value - previous.value;
      sumAbs += Math.abs(e);
      sumSq += e * e;
      sumSqPersistence += (value - previous.persistence) ** 2;
      n++;
    }
    if (result.forecast.model !== model) warmupForecasts++;
    previous = { target: result.forecast.targetTimeMs, value: result.forecast.value, persistence: value };
  }
  const rmse = Math.sqrt(sumSq / n);
  return {
    model,
    mae: sumAbs / n,
    rmse,
    skill: 1 - rmse / Math.sqrt(sumSqPersistence / n),
    n,
    warmupForecasts,
  };
}

describe('forecast models on the Seattle hourly temperature normals (walk-forward, one hour ahead)', () => {
  const rows = readTemperatures();
  const scores = new Map<ModelName, Score>();

  before(function () {
    this.timeout(60_000);
    for (const model of MODEL_NAMES) scores.set(model, walkForward(model, rows));
    console.log('      model           MAE °C   RMSE °C   skill vs persistence   scored hours');
    for (const s of scores.values()) {
      console.log(
        `      ${s.model.padEnd(15)} ${s.mae.toFixed(4).padStart(7)}   ${s.rmse.toFixed(4).padStart(7)}   ${s.skill
          .toFixed(3)
          .padStart(20)}   ${String(s.n).padStart(12)}`,
      );
    }
  });

  it('reads a full year of hourly rows without gaps', () => {
    assert.equal(rows.length, 8759);
    assert.ok(rows.every((r, i) => i === 0 || r.timeMs - rows[i - 1].timeMs === HOUR_MS));
    assert.ok(rows.every((r) => Number.isFinite(r.value)));
  });

  it('scores every model on the same hours once all are trained', () => {
    const counts = [...scores.values()].map((s) => s.n);
    assert.ok(
      counts.every((n) => n === counts[0] && n > 8000),
      `scored hours ${counts.join(', ')}`,
    );
    for (const s of scores.values())
      assert.ok(s.warmupForecasts < 120, `${s.model} warm-up ${s.warmupForecasts}`); // first fit on a full history
  });

  it('persistence has skill 0 against itself', () => {
    assert.ok(Math.abs((scores.get('persistence') as Score).skill) < 1e-12);
  });

  it('Holt-Winters beats persistence', () => {
    const hw = scores.get('holt-winters') as Score;
    const p = scores.get('persistence') as Score;
    assert.ok(hw.rmse < p.rmse, `Holt-Winters RMSE ${hw.rmse} vs persistence ${p.rmse}`);
    assert.ok(hw.mae < p.mae, `Holt-Winters MAE ${hw.mae} vs persistence ${p.mae}`);
    assert.ok(hw.skill > 0.1, `Holt-Winters skill ${hw.skill}`);
  });

  it('ridge on lags and smoothed values beats persistence', () => {
    const ridge = scores.get('ridge') as Score;
    const p = scores.get('persistence') as Score;
    assert.ok(ridge.rmse < p.rmse, `ridge RMSE ${ridge.rmse} vs persistence ${p.rmse}`);
    assert.ok(ridge.mae < p.mae, `ridge MAE ${ridge.mae} vs persistence ${p.mae}`);
    assert.ok(ridge.skill > 0.1, `ridge skill ${ridge.skill}`);
  });
});
