/**
 * Forecaster models: time to retrain on 5 days of hourly data (120 points, season 24)
 * and on 7 days of minute data (10,080 points, season 1,440), and forecasts per second
 * (predictNext + update per step). Persistence is the baseline each row is compared with.
 * Models alternate within each round; figures are the median and min–max of the rounds.
 * BENCH_FULL=1 runs more rounds.
 */
import { performance } from 'node:perf_hooks';
import { createModel, MODEL_NAMES, type ModelName, type ModelOptions } from '../nodes/core/forecast-models';

interface Case {
  label: string;
  points: number;
  options: Partial<ModelOptions>;
  series: number[];
}

function dailySeries(points: number, stepsPerDay: number): number[] {
  let x = 12345;
  const noise = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  };
  return Array.from(
    { length: points },
    (_, t) => 10 + 4 * Math.sin((2 * Math.PI * t) / stepsPerDay) + 0.001 * t + 0.3 * noise(),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeFit(name: ModelName, c: Case): number {
  const m = createModel(name, c.options);
  const t0 = performance.now();
  m.fit(c.series);
  return performance.now() - t0;
}

function forecastsPerSecond(name: ModelName, c: Case, steps: number): number {
  const m = createModel(name, c.options);
  m.fit(c.series);
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    sink += m.predictNext();
    m.update(c.series[i % c.series.length]);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (!Number.isFinite(sink)) throw new Error('non-finite forecast');
  return steps / seconds;
}

export async function run(): Promise<void> {
  const rounds = process.env.BENCH_FULL ? 15 : 5;
  const cases: Case[] = [
    {
      label: '5 d hourly (120 pts)',
      points: 120,
      options: { season: 24, lags: [0, 1, 2, 23, 24], alphas: [0.3, 0.1] },
      series: dailySeries(120, 24),
    },
    {
      label: '7 d minute (10,080 pts)',
      points: 10_080,
      options: { season: 1440, lags: [0, 1, 2, 1439, 1440], alphas: [0.3, 0.1] },
      series: dailySeries(10_080, 1440),
    },
  ];
  const fmt = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0));
  for (const c of cases) {
    const fits = new Map<ModelName, number[]>(MODEL_NAMES.map((n) => [n, []]));
    const rates = new Map<ModelName, number[]>(MODEL_NAMES.map((n) => [n, []]));
    for (const n of MODEL_NAMES) timeFit(n, c); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const n of MODEL_NAMES) {
        fits.get(n)?.push(timeFit(n, c));
        rates.get(n)?.push(forecastsPerSecond(n, c, 200_000));
      }
    }
    const baseRate = median(rates.get('persistence') as number[]);
    console.log(`\n${c.label}, ${rounds} rounds`);
    console.log(
      'model            retrain ms median (min–max)     forecasts/s median (min–max)     × persistence',
    );
    for (const n of MODEL_NAMES) {
      const f = fits.get(n) as number[];
      const q = rates.get(n) as number[];
      const fitText = `${fmt(median(f))} (${fmt(Math.min(...f))}–${fmt(Math.max(...f))})`;
      const rateText = `${(median(q) / 1e6).toFixed(2)}M (${(Math.min(...q) / 1e6).toFixed(2)}–${(Math.max(...q) / 1e6).toFixed(2)}M)`;
      console.log(
        `${n.padEnd(16)} ${fitText.padEnd(31)} ${rateText.padEnd(32)} ${(median(q) / baseRate).toFixed(2)}`,
      );
    }
  }
}
