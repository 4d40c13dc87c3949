/**
 * influx-write's per-point CPU without the database: LineBuilder.write into one of
 * influx-write's batches (OpenBatch, nodes/shared/influx-writer.ts), ns a point, for the influx-write bench's frequency points (one series, epoch-ms times) and
 * turbine rows (15 series, three fields). BENCH_BASELINE=<a copy of an earlier dist/ inside
 * the project, e.g. bench-results/dist-before> runs that build's LineBuilder (into this build's batch) in the same
 * process, rounds alternating, and prints new/old per round: the way to see a change of a
 * few tens of ns a point, which the end-to-end bench (influxd-bound) cannot.
 */
import { join } from 'node:path';
import type { Point } from '../nodes/core/line-protocol';
import { OpenBatch } from '../nodes/shared/influx-writer';
import * as current from '../nodes/core/line-protocol';

const POINTS = 200_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 21;
const BASELINE = process.env.BENCH_BASELINE;

type LineBuilderModule = Pick<typeof current, 'LineBuilder'>;

const START_MS = Date.UTC(2021, 4, 1);
const SHAPES: Record<string, (k: number) => Point> = {
  frequency: (k) => ({
    measurement: 'grid_frequency',
    tags: { series: 'bench', run: 'r1' },
    fields: { hz: 50 + ((k % 21) - 10) / 1000 },
    timestamp: START_MS + k * 30_000,
  }),
  turbine: (k) => ({
    measurement: 'turbine',
    tags: { turbine_id: String((k % 15) + 1) },
    fields: { wind_speed: 9 + (k % 60) / 10, wind_direction: k % 360, power_output: 1.5 + (k % 31) / 10 },
    timestamp: START_MS + Math.floor(k / 15) * 60_000,
  }),
};

/** ns a point to write `points` with a fresh builder of `mod` into a batch of influx-write's. */
function nsPerPoint(mod: LineBuilderModule, points: Point[]): number {
  const builder = new mod.LineBuilder('ms');
  const batch = new OpenBatch({ database: 'bench' }, 1 << 25);
  const t0 = process.hrtime.bigint();
  for (const point of points) {
    builder.write(point, undefined, 0, batch);
    batch.endLine();
  }
  return Number(process.hrtime.bigint() - t0) / points.length;
}

function baselineModule(dist: string): LineBuilderModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(dist, 'nodes/core/line-protocol')) as LineBuilderModule;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function run(): Promise<void> {
  const before = BASELINE ? baselineModule(BASELINE) : undefined;
  console.log(`${POINTS.toLocaleString('en')} points a round, ${ROUNDS} rounds, ns a point median (min–max)`);
  for (const [shape, make] of Object.entries(SHAPES)) {
    const points = Array.from({ length: POINTS }, (_x, k) => make(k));
    const now: number[] = [];
    const old: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (before && round % 2 === 1) old.push(nsPerPoint(before, points));
      now.push(nsPerPoint(current, points));
      if (before && round % 2 === 0) old.push(nsPerPoint(before, points));
    }
    const range = (xs: number[]) =>
      `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    let line = `${shape.padEnd(10)} this build ${range(now)} ns`;
    if (before) {
      const ratios = now.map((x, i) => x / old[i]);
      line += `, baseline ${range(old)} ns, this/baseline ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    }
    console.log(line);
  }
}
