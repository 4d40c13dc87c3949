/**
 * The Grid now and Weather tabs in the app as a user starts it: Energi Data Service and
 * OpenWeatherMap replayed by a local server (generated responses: live-like 1-minute
 * records and One Call responses with rain), a real InfluxDB and a real MQTT client.
 * The replayed Energi Data Service answers like the live API: the records of the last 10
 * minutes, newest = the current minute. The 5-minute windows are emitted in event time when
 * the record for their end arrives, so this file waits up to one wall-clock minute (the
 * poll at :05) for a window published after the start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import {
  oneCallWithRain,
  powerSystemRightNow,
  startReplayServer,
  type ReplayServer,
} from '../harness/replay-server';
import { eventually } from '../harness/eventually';

const ROOT = join(__dirname, '..', '..', '..');
const KEY = 'e2e-secret-appid-42';
const EDS_PATH = '/dataset/PowerSystemRightNow';
const ONECALL_PATH = '/data/3.0/onecall';
/** current.temp of the replayed One Call sample (Kelvin, as One Call answers without `units`). */
const ONECALL_KELVIN = (
  JSON.parse(
    readFileSync(
      join(__dirname, '..', '..', '..', 'test', 'fixtures', 'owm', 'onecall_devights.json'),
      'utf8',
    ),
  ) as {
    current: { temp: number };
  }
).current.temp;

/** CO2Emission of the replayed record for a minute: a small repeating ramp. */
const co2At = (minuteMs: number) => 100 + ((minuteMs / 60_000) % 7);
/** Rain rate (mm/h, the same for every minute) for a latitude: different per location. */
const rainRate = (lat: number) => (Math.round(lat * 100) % 7) * 0.3;

/**
 * A userDir whose flow file holds the broker, Grid now and Weather tabs as shipped (the
 * app seeds the flow file only when there is none), so the other tabs cannot slow or block
 * this test.
 */
function userDirWithTabs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-e2e-gridnow-'));
  const nodes = new Map<string, unknown>();
  for (const tab of ['broker', 'grid-now', 'weather'])
    for (const n of JSON.parse(readFileSync(join(ROOT, 'flows', `${tab}.json`), 'utf8')) as { id: string }[])
      nodes.set(n.id, n);
  writeFileSync(join(dir, 'flows.json'), JSON.stringify([...nodes.values()], null, 2));
  return dir;
}

function replay(api: ReplayServer): void {
  api.route(EDS_PATH, (req) => {
    assert.equal(req.query.get('start'), 'now-PT10M');
    return powerSystemRightNow({
      nowMs: Date.now(),
      minutes: 10,
      valueAt: (field, minuteMs, fixture) => (field === 'CO2Emission' ? co2At(minuteMs) : fixture),
    });
  });
  api.route(ONECALL_PATH, (req) => {
    const lat = Number(req.query.get('lat'));
    return oneCallWithRain({
      lat,
      lon: Number(req.query.get('lon')),
      nowMs: Date.now(),
      rainMmPerHour: rainRate(lat),
    });
  });
}

describe('Grid now and Weather tabs (app, replayed APIs, InfluxDB, MQTT)', function () {
  this.timeout(180_000);
  let influx: TestInfluxd;
  let api: ReplayServer;
  let app: RunningApp;
  let client: mqtt.MqttClient;
  let userDir: string | undefined;
  const received = new Map<string, Record<string, unknown>>();
  /** Every avg5m payload as it arrived, with the wall-clock arrival time. */
  const avgLog: Array<{ topic: string; payload: Record<string, unknown>; atMs: number }> = [];

  before(async () => {
    influx = await startTestInfluxd('gridflow');
    api = await startReplayServer();
    replay(api);
  });

  after(async () => {
    client?.end(true);
    await app?.dispose();
    await api?.close();
    await influx?.dispose();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('without OPENWEATHER_API_KEY the Weather tab says so and calls nothing', async () => {
    const dir = userDirWithTabs();
    const keyless = await startApp({
      userDir: dir,
      env: {
        GRIDFLOW_DATA_DIR: join(ROOT, 'data'),
        INFLUX_URL: influx.url,
        INFLUX_DB: 'gridflow_keyless',
        ENERGIDATASERVICE_URL: api.url,
        OPENWEATHER_URL: api.url,
        CARBON_INTENSITY_URL: api.url,
        OPENWEATHER_API_KEY: '',
      },
    });
    try {
      await keyless.waitForLog(/API key missing.*OPENWEATHER_API_KEY/, 20_000);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(api.requests(ONECALL_PATH).length, 0);
    } finally {
      await keyless.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
    api.log.length = 0;
  });

  describe('with the key', () => {
    before(async () => {
      userDir = userDirWithTabs();
      app = await startApp({
        userDir,
        env: {
          GRIDFLOW_DATA_DIR: join(ROOT, 'data'),
          INFLUX_URL: influx.url,
          INFLUX_DB: 'gridflow',
          ENERGIDATASERVICE_URL: api.url,
          OPENWEATHER_URL: api.url,
          CARBON_INTENSITY_URL: api.url,
          OPENWEATHER_API_KEY: KEY,
        },
      });
      client = mqtt.connect(`mqtt://127.0.0.1:${app.mqttPort}`, { reconnectPeriod: 200 });
      client.on('message', (topic, payload) => {
        const value = JSON.parse(payload.toString()) as Record<string, unknown>;
        received.set(topic, value);
        if (topic.endsWith('/avg5m')) avgLog.push({ topic, payload: value, atMs: Date.now() });
      });
      // The broker is a node in the flows: it listens shortly after the app is ready.
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      await client.subscribeAsync(['gridflow/grid-now/#', 'gridflow/weather/#'], { qos: 1 });
    });

    it('publishes rain over the next hour per location and stores it in rain_next_hour', async () => {
      const rainTopics = () => [...received.keys()].filter((t) => t.endsWith('/rain-next-hour'));
      await eventually('rain for 3 locations on MQTT', 30_000, async () =>
        rainTopics().length >= 3 ? true : undefined,
      );
      for (const topic of rainTopics()) {
        const [lat, lon] = topic.split('/')[2].split(',').map(Number);
        assert.ok(Number.isFinite(lat) && Number.isFinite(lon), topic);
        const rain = received.get(topic)!;
        assert.equal(rain.minutes, 60, topic);
        assert.ok(Math.abs((rain.mm as number) - rainRate(lat)) < 1e-6, `${topic}: mm ${rain.mm}`);
        assert.match(rain.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
      }
      // Sensorfact Utrecht, the first row of locations.csv, polled first.
      const rows = await eventually('rain_next_hour row', 20_000, async () => {
        const r = await influx.query(
          `SELECT mm, "name" FROM rain_next_hour WHERE lat = '52.0845' AND lon = '5.1155'`,
        );
        return r.length > 0 ? r : undefined;
      });
      assert.equal(rows[0].name, 'Sensorfact Utrecht');
      assert.ok(Math.abs((rows[0].mm as number) - rainRate(52.0845)) < 1e-6);
    });

    it('calls One Call with the key, about once a second, and never logs the key', async () => {
      // Both Weather pollers (rain for every location, hourly temperature) share the endpoint's 60/min.
      const calls = api.requests(ONECALL_PATH);
      assert.ok(calls.length >= 2);
      assert.ok(calls.every((c) => c.query.get('appid') === KEY));
      const times = calls.map((c) => c.time);
      const perMinute = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
      assert.ok(perMinute <= 60, `at most 60 calls in any minute, saw ${perMinute}`);
      const gaps = times
        .slice(1)
        .map((t, i) => t - times[i])
        .sort((a, b) => a - b);
      assert.ok(gaps[0] >= 500, `no burst: gaps ${gaps.join(', ')}`);
      assert.ok(
        gaps[Math.floor(gaps.length / 2)] >= 950,
        `spaced about a second apart: gaps ${gaps.join(', ')}`,
      );
      const rainCalls = calls.filter((c) => !c.url.includes('exclude='));
      assert.deepEqual(
        rainCalls.slice(0, 2).map((c) => c.query.get('lat')),
        ['52.0845', '52.3676'],
        'round-robin from the top of locations.csv',
      );
      assert.ok(!app.logs().includes(KEY), 'the key is not in the app output');
    });

    it('stores every PowerSystemRightNow record once in power_system', async () => {
      const rows = await eventually('power_system rows', 30_000, async () => {
        const r = await influx.query(`SELECT "source", CO2Emission, OnshoreWindPower FROM power_system`);
        return r.length >= 10 ? r : undefined;
      });
      const times = rows.map((r) => r.time as number);
      assert.equal(new Set(times).size, times.length, 'no minute twice');
      for (const r of rows) {
        assert.equal(r.source, 'energidataservice');
        assert.equal(r.CO2Emission, co2At(r.time as number));
        assert.equal(r.OnshoreWindPower, 2877.889893);
      }
      const edsCalls = api.requests(EDS_PATH).length;
      assert.ok(edsCalls >= 1 && edsCalls <= 3, `polled once at start and then once a minute: ${edsCalls}`);
    });

    it('publishes each 5-minute mean with the 5 records of its window, within 10 s of the record for its end', async () => {
      const co2 = 'gridflow/grid-now/CO2Emission/avg5m';
      // The first poll (at start) brings the records up to the current minute; wait for a
      // window whose end record came with a later poll (at :05 of a following minute).
      const firstPollMinute = Math.floor(api.requests(EDS_PATH)[0].time / 60_000) * 60_000;
      const fresh = await eventually('CO2Emission avg5m from a later poll', 75_000, async () =>
        avgLog.find((a) => a.topic === co2 && Date.parse(a.payload.time as string) > firstPollMinute),
      );
      const published = avgLog.filter((a) => a.topic === co2);
      assert.ok(published.length >= 2, `${published.length} CO2Emission means`);
      for (const { payload } of published) {
        const endMs = Date.parse(payload.time as string);
        assert.equal(endMs % 60_000, 0, 'window end at a minute boundary');
        assert.equal(payload.count, 5, `count at ${payload.time}: the 5 records of (end − 5 min, end]`);
        const expected = [0, 1, 2, 3, 4].map((k) => co2At(endMs - k * 60_000)).reduce((a, b) => a + b) / 5;
        assert.ok(
          Math.abs((payload.value as number) - expected) < 1e-9,
          `mean ${payload.value} vs ${expected}`,
        );
      }
      const endMs = Date.parse(fresh.payload.time as string);
      // The poll that brought the record stamped endMs: the first after endMs (at :05).
      const poll = api.requests(EDS_PATH).find((r) => r.time >= endMs);
      assert.ok(poll, 'a poll after the window end');
      const delayMs = fresh.atMs - poll.time;
      assert.ok(delayMs >= 0 && delayMs < 10_000, `published ${delayMs} ms after the poll`);
      for (const field of ['OnshoreWindPower', 'OffshoreWindPower', 'SolarPower', 'ImbalanceDK1'])
        await eventually(`${field} avg5m on MQTT`, 30_000, async () =>
          received.get(`gridflow/grid-now/${field}/avg5m`),
        );
      const rows = await eventually('power_system_avg5m rows', 20_000, async () => {
        const r = await influx.query(
          `SELECT mean, "min", "max", "count" FROM power_system_avg5m WHERE "field" = 'CO2Emission'`,
        );
        return r.length >= published.length ? r : undefined;
      });
      for (const row of rows) {
        assert.equal(row.count, 5, `stored count at ${row.time}`);
        const t = row.time as number;
        const expected = [0, 1, 2, 3, 4].map((k) => co2At(t - k * 60_000)).reduce((a, b) => a + b) / 5;
        assert.ok(Math.abs((row.mean as number) - expected) < 1e-9);
      }
    });

    it('forecasts the next minute from each 5-minute mean and stores it in forecast', async () => {
      const avg = received.get('gridflow/grid-now/CO2Emission/avg5m')!;
      const forecast = await eventually('CO2Emission forecast on MQTT', 10_000, async () =>
        received.get('gridflow/grid-now/CO2Emission/forecast'),
      );
      assert.equal(Date.parse(forecast.target_time as string) - Date.parse(forecast.time as string), 60_000);
      // Until a day of history exists the forecaster says "persistence": the next minute = the last mean.
      assert.equal(forecast.model, 'persistence');
      assert.equal(forecast.time, avg.time);
      assert.equal(forecast.value, avg.value);
      // The first poll's records close several windows at once: one forecast row each.
      await eventually('forecast row for the latest mean', 20_000, async () => {
        const r = await influx.query(`SELECT "value" FROM forecast WHERE "series" = 'grid-now/CO2Emission'`);
        return r.some((row) => row.value === avg.value) ? r : undefined;
      });
    });

    it('forecasts the next hour temperature in °C for the first location from One Call in Kelvin', async () => {
      const forecast = await eventually('temperature forecast on MQTT', 30_000, async () =>
        received.get('gridflow/weather/52.0845,5.1155/temperature/forecast'),
      );
      assert.equal(
        Date.parse(forecast.target_time as string) - Date.parse(forecast.time as string),
        3_600_000,
      );
      assert.equal(forecast.value, Math.round((ONECALL_KELVIN - 273.15) * 100) / 100);
      const hourly = api.requests(ONECALL_PATH).filter((r) => r.url.includes('exclude=minutely'));
      // Once at start, then on the hour: a run that crosses an hour boundary sees a second call.
      const hours = hourly.map((r) => Math.floor(r.time / 3_600_000));
      assert.ok(hourly.length >= 1, 'the hourly poller called at start');
      assert.equal(
        new Set(hours).size,
        hourly.length,
        'the hourly poller called at most once per clock hour',
      );
    });
  });
});
