/**
 * The Grid frequency and Carbon footprint tabs in the app as a user starts it: three
 * frequency series of different resolutions and the COV power file in GRIDFLOW_DATA_DIR,
 * the Carbon Intensity API replayed from the fixture, a real InfluxDB and a real MQTT client.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { readFixture, startReplayServer, type ReplayServer } from '../harness/replay-server';
import { frequencyCsvChunks, frequencyRange, writeFrequencyCsv } from '../../scripts/gen-frequency';
import {
  dayIntensities,
  footprintRows,
  readPowerBucket,
  type FootprintRow,
  type PowerBucket,
} from '../../nodes/core/carbon-footprint';
import { resampleCov } from '../../nodes/core/cov-resample';
import { eventually } from '../harness/eventually';
import { assertSameBuckets, naiveBucketMeans } from '../harness/bucket-means';

const ROOT = join(__dirname, '..', '..', '..');
const DAY_MS = 86_400_000;

/** Three series, as files named after them: 2 days at 15 min, 1 day at 30 s, 1 day at 1 s. */
const SERIES = [
  { name: 'freq-15m', options: { start: '2021-05-01', days: 2, stepMs: 900_000, seed: 3 } },
  { name: 'freq-30s', options: { start: '2021-05-01', days: 1, stepMs: 30_000, seed: 1 } },
  { name: 'freq-1s', options: { start: '2021-10-31', days: 1, stepMs: 1000, seed: 5 } },
] as const;

/** The points of a generated file, read back from its own text: [epoch ms, Hz]. */
function seriesPoints(options: (typeof SERIES)[number]['options']): [number, number][] {
  const { startMs } = frequencyRange(options);
  const lines = [...frequencyCsvChunks(options)].join('').trimEnd().split('\n').slice(1);
  return lines.map((line, i) => [startMs + i * options.stepMs, Number(line.split(';')[1])]);
}

/** The expected footprint rows, from the core modules (tested against a naive computation in test/core). */
function expectedFootprints(): FootprintRow[] {
  const lines = readFileSync(join(ROOT, 'data', 'carbon', 'power_measurements_2019-11-25.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const readings = lines.map((l) => {
    const [time, , , value] = l.split(',');
    return { timeMs: Date.parse(`${time.replace(' ', 'T').slice(0, 23)}Z`), value: Number(value) };
  });
  const day = Date.UTC(2019, 10, 25);
  const buckets = resampleCov(
    readings,
    { bucketMs: 1_800_000, method: 'locf', timeZone: 'UTC', maxCarryMs: 0, graceMs: 0 },
    day + DAY_MS,
  );
  const power = buckets.map(
    (b) => readPowerBucket({ start: b.startMs, end: b.endMs, mean: b.mean, energy: b.energy }) as PowerBucket,
  );
  const entries = (JSON.parse(readFixture('carbon/carbon_intensity_2019-11-25.json')) as { data: [] }).data;
  return footprintRows('2019-11-25', power, dayIntensities(entries, '2019-11-25'));
}

function assertRowsClose(actual: FootprintRow[], expected: FootprintRow[]) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.equal(a.half_hour_id, e.half_hour_id);
    assert.equal(a.start, e.start);
    assert.equal(a.end, e.end);
    assert.equal(a.intensity, e.intensity);
    for (const k of ['mean_kw', 'energy_kwh', 'footprint_g'] as const) {
      assert.ok(
        Math.abs(a[k]! - e[k]!) <= 1e-9 * Math.max(1, Math.abs(e[k]!)),
        `${k} of ${a.half_hour_id}: ${a[k]} vs ${e[k]}`,
      );
    }
  });
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) =>
  eventually(what, timeoutMs, probe);

describe('Grid frequency and Carbon footprint tabs (app, InfluxDB, replayed Carbon Intensity API, MQTT)', function () {
  this.timeout(180_000);
  let dataDir: string;
  let influx: TestInfluxd;
  let api: ReplayServer;
  let app: RunningApp;
  const rowCounts = new Map<string, number>();

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gridflow-e2e-data-'));
    mkdirSync(join(dataDir, 'carbon'), { recursive: true });
    for (const s of SERIES) {
      const written = await writeFrequencyCsv(join(dataDir, 'frequency', `${s.name}.csv`), s.options);
      rowCounts.set(s.name, written.rows);
    }
    influx = await startTestInfluxd('gridflow');
    api = await startReplayServer();
    // the live API answers a day with 49 entries: the first is 23:30 of the day before
    const fixture = JSON.parse(readFixture('carbon/carbon_intensity_2019-11-25.json')) as { data: unknown[] };
    const previous = {
      from: '2019-11-24T23:30Z',
      to: '2019-11-25T00:00Z',
      intensity: { forecast: 999, actual: 999, index: 'very high' },
    };
    api.route('/intensity/2019-11-25T00:00Z/2019-11-26T00:00Z', { data: [previous, ...fixture.data] });
    app = await startApp({
      env: {
        GRIDFLOW_DATA_DIR: dataDir,
        INFLUX_URL: influx.url,
        INFLUX_DB: 'gridflow',
        CARBON_INTENSITY_URL: api.url,
        ENERGIDATASERVICE_URL: api.url,
        OPENWEATHER_URL: api.url,
      },
    });
  });

  after(async () => {
    await app?.dispose();
    await api?.close();
    await influx?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('Grid frequency', () => {
    before(async () => {
      for (const s of SERIES) {
        await waitFor(`${s.name} in InfluxDB`, async () => {
          const rows = await influx.query(
            `SELECT count(hz) FROM grid_frequency WHERE "series" = '${s.name}'`,
          );
          // the API reads the rollups written at the end of each file
          const daily = await influx.query(
            `SELECT sum("count") FROM "rollup_1d"."grid_frequency_1d" WHERE "series" = '${s.name}'`,
          );
          const n = rowCounts.get(s.name);
          return rows[0]?.count === n && daily[0]?.sum === n ? true : undefined;
        });
      }
    });

    it('ingests every file of the folder with the file name as series tag and reports rows, rows/s and duration', async () => {
      const tags = await influx.query('SHOW TAG VALUES FROM grid_frequency WITH KEY = "series"');
      assert.deepEqual(tags.map((t) => t.value).sort(), ['freq-15m', 'freq-1s', 'freq-30s']);
      // 2021-10-31 has 25 hours in Zurich: 90,000 rows at 1 s
      assert.equal(rowCounts.get('freq-1s'), 90_000);
      await app.waitForLog(/ingest freq-1s\.csv: 90000 rows, \d+ rows\/s, [\d.]+ s/, 30_000);
    });

    it('returns the mean per bucket at several resolutions for series from 15 min to 1 s', async () => {
      const cases: [string, string, string, string, number][] = [
        ['freq-15m', '2021-04-30T22:00:00Z', '2021-05-02T21:45:00Z', '15m', 900_000],
        ['freq-15m', '2021-04-30T22:00:00Z', '2021-05-02T21:45:00Z', '1h', 3_600_000],
        ['freq-15m', '2021-04-30T00:00:00Z', '2021-05-03T00:00:00Z', '1d', DAY_MS],
        ['freq-30s', '2021-04-30T22:00:00Z', '2021-05-01T21:59:30Z', '30s', 30_000],
        ['freq-30s', '2021-04-30T23:00:00Z', '2021-05-01T04:00:00Z', '7m', 420_000],
        ['freq-30s', '2021-05-01T00:00:00+02:00', '2021-05-02', '1d', DAY_MS],
        ['freq-1s', '2021-10-31T00:00:00Z', '2021-10-31T02:00:00Z', '1s', 1000],
        ['freq-1s', '2021-10-30T22:00:00Z', '2021-10-31T22:59:59Z', '13m', 780_000],
        ['freq-1s', '2021-10-30', '2021-11-01', '1h', 3_600_000],
      ];
      let mixed = 0;
      for (const [series, start, end, resolution, resolutionMs] of cases) {
        const q = new URLSearchParams({ start, end, resolution });
        const res = await fetch(`${app.url}/api/series/${series}?${q}`);
        assert.equal(res.status, 200, `${series} ${resolution}: ${await res.clone().text()}`);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const body = (await res.json()) as { time: string; value: number }[];
        const spec = SERIES.find((s) => s.name === series)!;
        const expected = naiveBucketMeans(
          seriesPoints(spec.options),
          Date.parse(start),
          Date.parse(end),
          resolutionMs,
        );
        assert.ok(expected.length > 0);
        assertSameBuckets(body, expected, `${series} ${resolution}`);
        mixed += expected.filter((e) => ![50, 49.99, 50.01].includes(e.value)).length;
      }
      assert.ok(mixed > 0, 'some buckets mix set points, so the means are real averages');
    });

    it('treats start and end as inclusive', async () => {
      const res = await fetch(
        `${app.url}/api/series/freq-30s?start=2021-04-30T22:00:30Z&end=2021-04-30T22:01:30Z&resolution=1s`,
      );
      assert.deepEqual(await res.json(), [
        { time: '2021-04-30T22:00:30.000Z', value: 50 },
        { time: '2021-04-30T22:01:00.000Z', value: 50 },
        { time: '2021-04-30T22:01:30.000Z', value: 50 },
      ]);
    });

    it('answers 404 for an unknown series and 200 [] for a known one without points in the range', async () => {
      const missing = await fetch(
        `${app.url}/api/series/no-such-series?start=2021-05-01&end=2021-05-02&resolution=1h`,
      );
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'series "no-such-series" not found' });
      const empty = await fetch(
        `${app.url}/api/series/freq-15m?start=2030-01-01&end=2030-01-02&resolution=1h`,
      );
      assert.equal(empty.status, 200);
      assert.deepEqual(await empty.json(), []);
    });

    it('answers 400 with a JSON error for bad dates and resolutions and names the point limit', async () => {
      const cases: [string, RegExp][] = [
        ['start=yesterday&end=2021-05-02&resolution=1h', /start "yesterday" is not an ISO-8601 time/],
        ['start=2021-05-02&end=2021-05-01&resolution=1h', /end is before start/],
        ['start=2021-05-01&end=2021-05-02&resolution=1w', /resolution "1w" must be/],
        ['start=2021-05-01&end=2021-05-02', /resolution is required/],
        ['end=2021-05-02&resolution=1h', /start is required/],
      ];
      for (const [query, message] of cases) {
        const res = await fetch(`${app.url}/api/series/freq-30s?${query}`);
        assert.equal(res.status, 400, query);
        assert.match(((await res.json()) as { error: string }).error, message);
      }
      const tooMany = await fetch(
        `${app.url}/api/series/freq-1s?start=2021-10-30&end=2021-11-01&resolution=1s`,
      );
      assert.equal(tooMany.status, 400);
      const body = (await tooMany.json()) as { error: string; limit: number };
      assert.equal(body.limit, 10_000);
      assert.match(body.error, /the limit is 10000/);
    });

    it('refuses injection attempts with 400 and leaves the database intact', async () => {
      const attempts = [
        `/api/series/${encodeURIComponent("freq-30s' OR '1'='1")}?start=2021-05-01&end=2021-05-02&resolution=1h`,
        `/api/series/${encodeURIComponent('freq-30s"; DROP MEASUREMENT grid_frequency; --')}?start=2021-05-01&end=2021-05-02&resolution=1h`,
        `/api/series/freq-30s?start=2021-05-01&end=2021-05-02&resolution=${encodeURIComponent('1h) fill(none); DROP MEASUREMENT grid_frequency; SELECT (1')}`,
        `/api/series/freq-30s?start=${encodeURIComponent("2021-05-01' OR time > 0; DROP DATABASE gridflow; --")}&end=2021-05-02&resolution=1h`,
        `/api/series/freq-30s?start=2021-05-01&end=2021-05-02&resolution=1h&resolution=${encodeURIComponent('1s;DROP')}`,
      ];
      for (const path of attempts) {
        const res = await fetch(`${app.url}${path}`);
        assert.equal(res.status, 400, path);
        assert.ok(((await res.json()) as { error: string }).error);
      }
      const measurements = await influx.query('SHOW MEASUREMENTS');
      assert.ok(measurements.some((m) => m.name === 'grid_frequency'));
      for (const s of SERIES) {
        const rows = await influx.query(`SELECT count(hz) FROM grid_frequency WHERE "series" = '${s.name}'`);
        assert.equal(rows[0]?.count, rowCounts.get(s.name), s.name);
      }
    });
  });

  describe('Carbon footprint', () => {
    const expected = expectedFootprints();
    const received: (FootprintRow & { time: string })[] = [];
    let client: mqtt.MqttClient;

    before(async () => {
      client = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.mqttPort}`, { reconnectPeriod: 0 });
      client.on('message', (topic, payload) => {
        if (topic === 'gridflow/carbon/abc123xyz/footprint') received.push(JSON.parse(payload.toString()));
      });
      await client.subscribeAsync('gridflow/carbon/+/footprint', { qos: 1 });
      // dropped into the watched folder while the app runs, as a user would
      const staged = join(dataDir, 'power.tmp');
      copyFileSync(join(ROOT, 'data', 'carbon', 'power_measurements_2019-11-25.csv'), staged);
      renameSync(staged, join(dataDir, 'carbon', 'power_measurements_2019-11-25.csv'));
      await waitFor(
        '48 footprint rows on MQTT',
        async () => (received.length >= 48 ? true : undefined),
        90_000,
      );
    });

    after(async () => client?.endAsync());

    it('asks the Carbon Intensity API for the file’s day', () => {
      assert.ok(api.requests('/intensity/2019-11-25T00:00Z/2019-11-26T00:00Z').length >= 1);
    });

    it('publishes the 48 half-hour footprints of the day on MQTT, each with its time', () => {
      const day = received.slice(-48).sort((a, b) => a.half_hour_id - b.half_hour_id);
      assert.deepEqual(
        day.map((r) => r.half_hour_id),
        Array.from({ length: 48 }, (_, i) => i + 1),
      );
      day.forEach((r) => assert.equal(r.time, r.start));
      assertRowsClose(
        day.map(({ time: _time, ...row }) => row),
        expected,
      );
      assert.ok(!day.some((r) => r.intensity === 999), 'the 23:30 entry of the day before is not counted');
    });

    it('serves the rows for HalfHourId 14–20 read back from InfluxDB as JSON', async () => {
      const rows = await waitFor('footprint rows in InfluxDB', async () => {
        const res = await fetch(`${app.url}/api/carbon/abc123xyz/footprint?date=2019-11-25&from=14&to=20`);
        return res.status === 200 ? ((await res.json()) as FootprintRow[]) : undefined;
      });
      assertRowsClose(rows, expected.slice(13, 20));
      // the asset stood still (0 kW) from 06:00 to 11:00 UTC; the afternoon has real footprints
      const afternoon = await fetch(
        `${app.url}/api/carbon/abc123xyz/footprint?date=2019-11-25&from=23&to=28`,
      );
      const afternoonRows = (await afternoon.json()) as FootprintRow[];
      assertRowsClose(afternoonRows, expected.slice(22, 28));
      assert.ok(
        afternoonRows.every((r) => Math.abs(r.footprint_g!) > 10),
        'non-zero footprints',
      );
      const stored = await influx.query(
        `SELECT count(footprint_g) FROM carbon_footprint WHERE asset_id = 'abc123xyz'`,
      );
      assert.equal(stored[0]?.count, 48);
    });

    it('draws them as an SVG bar chart with 7 labelled bars', async () => {
      const res = await fetch(
        `${app.url}/api/carbon/abc123xyz/footprint?date=2019-11-25&from=14&to=20&format=svg`,
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
      const svg = await res.text();
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
      assert.match(svg, /<\/svg>$/);
      assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 7);
      for (const label of [
        '>14<',
        '>20<',
        '>06:30<',
        '>09:30<',
        'Footprint (gCO2eq)',
        'Carbon footprint of abc123xyz on 2019-11-25',
      ]) {
        assert.ok(svg.includes(label), label);
      }
      const stack: string[] = [];
      for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
        if (m[3] === '/') continue;
        if (m[1] === '/') assert.equal(stack.pop(), m[2]);
        else stack.push(m[2]);
      }
      assert.deepEqual(stack, [], 'every element closed');
      writeFileSync(join(tmpdir(), 'gridflow-footprint-14-20.svg'), svg);
    });

    it('answers 400 for bad parameters and 404 for an asset without rows', async () => {
      for (const query of [
        'date=2019-13-01',
        'date=2019-11-25&from=0',
        'date=2019-11-25&from=20&to=14',
        'date=2019-11-25&format=png',
        '',
      ]) {
        const res = await fetch(`${app.url}/api/carbon/abc123xyz/footprint?${query}`);
        assert.equal(res.status, 400, query);
        assert.ok(((await res.json()) as { error: string }).error);
      }
      const injection = await fetch(
        `${app.url}/api/carbon/${encodeURIComponent("x' OR '1'='1")}/footprint?date=2019-11-25`,
      );
      assert.equal(injection.status, 400);
      const missing = await fetch(`${app.url}/api/carbon/nobody/footprint?date=2019-11-25`);
      assert.equal(missing.status, 404);
    });
  });
});
