/**
 * Issue 20: rollups at ingest, the cheapest exact source, the catalog and retention, in the
 * app as a user starts it. Two Swissgrid files in Swiss local time, each across a DST change,
 * with some decimal commas; every resolution from 1 s to 1 d is checked against a reference
 * computed here from the rows, and against a GROUP BY over the raw points in InfluxDB.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { eventually } from '../harness/eventually';
import { assertSameBuckets, naiveBucketMeans } from '../harness/bucket-means';
import { frequencyCsvChunks, frequencyRange, seededRandom } from '../../scripts/gen-frequency';

const VALUES = ['50', '49.99', '50.01', '49.995', '50.005', '49.98'];

/** Spring forward (47 h at 1 s) and fall back (49 h at 10 s). */
const FILES = [
  { name: 'spring-1s', options: { start: '2021-03-27', days: 2, stepMs: 1000 }, seed: 7 },
  { name: 'autumn-10s', options: { start: '2021-10-30', days: 2, stepMs: 10_000 }, seed: 11 },
] as const;

type Row = [timeMs: number, hz: number];

/**
 * The generator's timestamps, with values redrawn so that buckets mix (a new value every
 * 1–600 rows) and about one value in ten written with a decimal comma.
 */
function swissgridFile(spec: (typeof FILES)[number]): { text: string; rows: Row[]; commas: number } {
  const random = seededRandom(spec.seed);
  const { startMs } = frequencyRange(spec.options);
  const lines = [...frequencyCsvChunks(spec.options)].join('').trimEnd().split('\n');
  const rows: Row[] = [];
  let commas = 0;
  let value = '50';
  let left = 0;
  const out = [lines[0]];
  for (let i = 1; i < lines.length; i++) {
    if (left-- <= 0) {
      value = VALUES[Math.floor(random() * VALUES.length)];
      left = 1 + Math.floor(random() * 600);
    }
    const comma = value.includes('.') && random() < 0.1;
    if (comma) commas++;
    out.push(`${lines[i].split(';')[0]};${comma ? value.replace('.', ',') : value}`);
    rows.push([startMs + (i - 1) * spec.options.stepMs, Number(value)]);
  }
  return { text: `${out.join('\n')}\n`, rows, commas };
}

const RESOLUTION_MS: Record<string, number> = {
  '1s': 1000,
  '10s': 10_000,
  '30s': 30_000,
  '1m': 60_000,
  '5m': 300_000,
  '7m': 420_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '3h': 10_800_000,
  '1d': 86_400_000,
};

describe('Grid frequency rollups (app, InfluxDB): exact answers from 1 s to 1 d, catalog, retention', function () {
  this.timeout(240_000);
  let dataDir: string;
  let influx: TestInfluxd;
  let app: RunningApp;
  const files = new Map<string, ReturnType<typeof swissgridFile>>();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gridflow-rollup-data-'));
    mkdirSync(join(dataDir, 'frequency'), { recursive: true });
    for (const spec of FILES) {
      const file = swissgridFile(spec);
      files.set(spec.name, file);
      writeFileSync(join(dataDir, 'frequency', `${spec.name}.csv`), file.text);
    }
    influx = await startTestInfluxd('gridflow');
    app = await startApp({
      env: {
        GRIDFLOW_DATA_DIR: dataDir,
        INFLUX_URL: influx.url,
        INFLUX_DB: 'gridflow',
        // long enough for 2021 data: InfluxDB drops points older than a policy's duration
        GRIDFLOW_RETENTION: '1m=2000w,15m=INF',
      },
    });
    for (const [name, file] of files) {
      await eventually(`${name}: raw rows and the 1d rollup in InfluxDB`, 120_000, async () => {
        const raw = await influx.query(`SELECT count(hz) FROM grid_frequency WHERE "series" = '${name}'`);
        const daily = await influx.query(
          `SELECT sum("count") FROM "rollup_1d"."grid_frequency_1d" WHERE "series" = '${name}'`,
        );
        return raw[0]?.count === file.rows.length && daily[0]?.sum === file.rows.length ? true : undefined;
      });
    }
  });

  after(async () => {
    await app?.dispose();
    await influx?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the files as written: DST days of 23 and 25 hours, decimal commas included', () => {
    assert.equal(files.get('spring-1s')!.rows.length, 47 * 3600);
    assert.equal(files.get('autumn-10s')!.rows.length, 49 * 360);
    for (const file of files.values()) assert.ok(file.commas > 100, 'some decimal commas');
  });

  it('keeps 1m, 15m, 1h and 1d buckets with count and sum in their own retention policies', async () => {
    for (const [name, file] of files) {
      for (const [level, ms] of [
        ['1m', 60_000],
        ['15m', 900_000],
        ['1h', 3_600_000],
        ['1d', 86_400_000],
      ] as const) {
        const buckets = new Set(file.rows.map(([t]) => Math.floor(t / ms)));
        const stored = await influx.query(
          `SELECT count("mean"), sum("count") FROM "rollup_${level}"."grid_frequency_${level}" WHERE "series" = '${name}'`,
        );
        assert.equal(stored[0]?.count, buckets.size, `${name} ${level} buckets`);
        assert.equal(stored[0]?.sum, file.rows.length, `${name} ${level} rows`);
      }
    }
  });

  it('answers every resolution from 1 s to 1 d exactly like the rows and like a raw GROUP BY, 7 min included', async () => {
    const cases: [string, string, string, string][] = [];
    for (const spec of FILES) {
      const { startMs, endMs } = frequencyRange(spec.options);
      const iso = (ms: number) => new Date(ms).toISOString();
      // ranges that start and end inside buckets at every level, and one that covers everything
      const odd = [startMs + 3_600_000 + 17_000, startMs + 2 * 3_600_000 + 7 * 60_000 + 43_000];
      cases.push([spec.name, iso(odd[0]), iso(odd[1]), '1s']);
      for (const res of ['10s', '30s', '1m', '5m', '7m', '15m', '1h', '3h', '1d']) {
        const span = Math.min(endMs - startMs, RESOLUTION_MS[res] * 9000);
        cases.push([spec.name, iso(startMs + 3_599_000), iso(startMs + span - 61_001), res]);
      }
      cases.push([spec.name, '2021-01-01', '2021-12-31', '1d']);
      cases.push([spec.name, iso(startMs - 86_400_000), iso(endMs + 86_400_000), '1h']);
    }
    for (const [series, start, end, resolution] of cases) {
      const q = new URLSearchParams({ start, end, resolution });
      const res = await fetch(`${app.url}/api/series/${series}?${q}`);
      const what = `${series} ${start}…${end} at ${resolution}`;
      assert.equal(res.status, 200, `${what}: ${await res.clone().text()}`);
      const body = (await res.json()) as { time: string; value: number }[];
      const expected = naiveBucketMeans(
        files.get(series)!.rows,
        Date.parse(start),
        Date.parse(end),
        RESOLUTION_MS[resolution],
      );
      assert.ok(expected.length > 0, what);
      assertSameBuckets(body, expected, what);
      const raw = await influx.query(
        `SELECT mean(hz) AS value FROM grid_frequency WHERE "series" = '${series}' AND time >= '${new Date(Date.parse(start)).toISOString()}' AND time <= '${new Date(Date.parse(end)).toISOString()}' GROUP BY time(${resolution}) fill(none)`,
      );
      assertSameBuckets(
        body,
        raw.map((r) => ({ time: new Date(r.time as number).toISOString(), value: r.value as number })),
        `${what} vs raw GROUP BY`,
      );
    }
  });

  it('answers several series in one call, as the single-series answers', async () => {
    const q = 'start=2021-03-27T00:00:00Z&end=2021-10-31T12:00:00Z&resolution=1d';
    const res = await fetch(`${app.url}/api/series?series=spring-1s,autumn-10s&${q}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['spring-1s', 'autumn-10s']);
    for (const name of ['spring-1s', 'autumn-10s']) {
      const single = await (await fetch(`${app.url}/api/series/${name}?${q}`)).json();
      assert.deepEqual(body[name], single);
    }
    const missing = await fetch(`${app.url}/api/series?series=spring-1s,nope&${q}`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'series "nope" not found' });
  });

  it('lists every series with first and last time, row count and native step', async () => {
    const res = await fetch(`${app.url}/api/series`);
    assert.equal(res.status, 200);
    const expected = FILES.map((spec) => {
      const rows = files.get(spec.name)!.rows;
      return {
        series: spec.name,
        first: new Date(rows[0][0]).toISOString(),
        last: new Date(rows[rows.length - 1][0]).toISOString(),
        rows: rows.length,
        step: spec.options.stepMs === 1000 ? '1s' : '10s',
      };
    }).sort((a, b) => a.series.localeCompare(b.series));
    assert.deepEqual(await res.json(), expected);
  });

  it('creates the rollup retention policies with the durations of GRIDFLOW_RETENTION', async () => {
    const policies = await influx.query('SHOW RETENTION POLICIES ON gridflow');
    const duration = new Map(policies.map((p) => [p.name, p.duration]));
    assert.equal(duration.get('rollup_1m'), '336000h0m0s');
    assert.equal(duration.get('rollup_15m'), '0s');
    assert.equal(duration.get('rollup_1h'), '0s');
    assert.equal(duration.get('rollup_1d'), '0s');
    assert.equal(duration.get('autogen'), '0s', 'raw: unset keeps the default policy as it is');
  });
});
