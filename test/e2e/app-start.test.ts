import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startApp, type RunningApp } from '../harness/app';
import { eventually } from '../harness/eventually';
import { readFixture, startReplayServer, type ReplayServer } from '../harness/replay-server';
import { influxdInstalled, INFLUXD_INSTALL_HINT } from '../../app/private-influxd';
import { READY_PATH } from '../../app/readiness';

const SERIES_URL =
  '/api/series/sollfrequenz-sample?start=2021-04-30T22:00:00Z&end=2021-05-01T21:59:30Z&resolution=1h';
const FOOTPRINT_URL = '/api/carbon/abc123xyz/footprint?date=2019-11-25&from=14&to=20';
/** The Carbon Intensity API answers a day with 48 half hours (the fixture), replayed here. */
function carbonIntensityApi(): Promise<ReplayServer> {
  return startReplayServer().then((api) =>
    api.route(
      '/intensity/2019-11-25T00:00Z/2019-11-26T00:00Z',
      JSON.parse(readFixture('carbon/carbon_intensity_2019-11-25.json')) as object,
    ),
  );
}

function which(command: string): string {
  const found = spawnSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${command} is not on PATH`);
  return found;
}

/**
 * A PATH with only what scripts/setup.sh needs (bash, dirname) and no influxd: a machine
 * where InfluxDB is not installed. `fakes` adds executables written as bash scripts.
 */
function barePath(fakes: Record<string, string>): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-path-'));
  for (const tool of ['bash', 'dirname']) symlinkSync(which(tool), join(dir, tool));
  for (const [name, script] of Object.entries(fakes)) {
    writeFileSync(join(dir, name), `#!${which('bash')}\n${script}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { dir, path: dir };
}

type NodeSet = { id: string; module: string; types: string[]; err?: string };

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('the app, started as a user starts it', function () {
  this.timeout(90_000);
  let app: RunningApp;
  let api: ReplayServer;
  before(async () => {
    if (!influxdInstalled()) throw new Error(INFLUXD_INSTALL_HINT);
    api = await carbonIntensityApi();
    // As the README says: INFLUX_URL unset, the bundled data; only the internet APIs replayed.
    app = await startApp({
      env: {
        INFLUX_URL: '',
        CARBON_INTENSITY_URL: api.url,
        ENERGIDATASERVICE_URL: api.url,
        OPENWEATHER_API_KEY: '',
      },
    });
  });
  after(async () => {
    await app?.dispose();
    await api?.close();
  });

  it('with influxd present, the start setup installs nothing', () => {
    const setup = spawnSync('bash', ['scripts/setup.sh', 'start'], { encoding: 'utf8' });
    assert.equal(setup.status, 0, setup.stderr);
    assert.doesNotMatch(setup.stdout + setup.stderr, /installing/);
  });

  it('says it is ready only when GET /gridflow/ready answers 200, and names editor, broker, database and tabs', async () => {
    const ready = await fetch(`${app.url}${READY_PATH}`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, waiting: [] });
    const logs = app.logs();
    assert.match(
      logs,
      new RegExp(
        `gridflow ready: editor http://127\\.0\\.0\\.1:${app.port}/ · MQTT broker 127\\.0\\.0\\.1:${app.mqttPort} · database private InfluxDB at http://`,
      ),
    );
    // the ready line comes after Node-RED started the flows and the broker listens
    assert.ok(logs.indexOf('Started flows') < logs.indexOf('gridflow ready'));
    assert.ok(logs.indexOf('MQTT broker listening') < logs.indexOf('gridflow ready'));
    assert.match(logs, /^ {2}Weather: no OPENWEATHER_API_KEY, not polling$/m);
    assert.match(
      logs,
      /^ {2}Grid frequency: reading .*frequency\/\*\.csv; serving GET \/api\/series\/:series, GET \/api\/series$/m,
    );
    await app.waitForLog(/^Grid frequency: ingested 2,880 rows from 1 file$/m, 60_000);
  });

  it('answers the Grid frequency and Carbon footprint APIs with rows from the bundled files within a minute', async () => {
    const series = await eventually('series rows', 60_000, async () => {
      const res = await fetch(`${app.url}${SERIES_URL}`);
      const rows = res.status === 200 ? ((await res.json()) as { time: string; value: number }[]) : [];
      return rows.length === 24 ? rows : undefined;
    });
    assert.equal(series[0].time, '2021-04-30T22:00:00.000Z'); // the file is in Swiss local time
    for (const row of series) assert.ok(row.value > 49.9 && row.value < 50.1, JSON.stringify(row));
    const footprint = await eventually('footprint rows', 60_000, async () => {
      const res = await fetch(`${app.url}${FOOTPRINT_URL}`);
      const rows = res.status === 200 ? ((await res.json()) as { half_hour_id: number }[]) : [];
      return rows.length === 7 ? rows : undefined; // half hours 14 to 20
    });
    assert.deepEqual(
      footprint.map((r) => r.half_hour_id),
      [14, 15, 16, 17, 18, 19, 20],
    );
  });

  it('serves the editor with every gridflow node in the palette, loaded without errors', async () => {
    const editor = await fetch(`${app.url}/`);
    assert.equal(editor.status, 200);
    assert.match(await editor.text(), /<title>gridflow<\/title>/);
    const res = await fetch(`${app.url}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = ((await res.json()) as NodeSet[]).filter((s) => s.module === '@gridflow/node-red-gridflow');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      'node-red': { nodes: Record<string, string> };
    };
    const declared = Object.keys(pkg['node-red'].nodes);
    assert.deepEqual(sets.map((s) => s.id.split('/').pop()).sort(), [...declared].sort());
    for (const set of sets) assert.equal(set.err, undefined, `${set.id}: ${JSON.stringify(set.err)}`);
  });

  it('offers every shipped flow under Import > Examples', async () => {
    const res = await fetch(`${app.url}/library/examples/flows/@gridflow/node-red-gridflow`);
    const names = ((await res.json()) as { fn: string }[]).map((e) => e.fn);
    const shipped = readdirSync('flows').map((f) => f.replace(/\.json$/, ''));
    assert.deepEqual(names.sort(), shipped.sort());
  });

  it('runs the embedded MQTT broker and a private InfluxDB when INFLUX_URL is unset', async () => {
    await app.waitForLog(/MQTT broker listening/);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${app.mqttPort}`, { reconnectPeriod: 0 });
    assert.equal(client.connected, true);
    await client.endAsync();
    const influxUrl = /private InfluxDB at (http:\/\/[\d.:]+)/.exec(app.logs())?.[1];
    assert.ok(influxUrl, 'the app did not report its private InfluxDB');
    assert.equal((await fetch(`${influxUrl}/ping`)).status, 204);
  });

  it('stops cleanly on Ctrl-C, releasing the editor, broker and database ports', async () => {
    const influxPort = Number(/private InfluxDB at http:\/\/[\d.]+:(\d+)/.exec(app.logs())?.[1]);
    assert.equal(await app.stop(), 0);
    assert.equal(await portOpen(app.port), false);
    assert.equal(await portOpen(app.mqttPort), false);
    assert.equal(await portOpen(influxPort), false);
  });
});

describe('npm start on a machine without influxd (PATH without it)', function () {
  this.timeout(120_000);
  let app: RunningApp | undefined;
  let bin: { dir: string; path: string } | undefined;
  afterEach(async () => {
    await app?.dispose();
    if (bin) rmSync(bin.dir, { recursive: true, force: true });
    app = bin = undefined;
  });

  it('as root with apt-get: installs influxdb the way the test setup does, saying so, then runs the private InfluxDB', async () => {
    const realInfluxd = which('influxd');
    const dir = mkdtempSync(join(tmpdir(), 'gridflow-apt-'));
    const aptLog = join(dir, 'apt-get.log');
    // The fake apt-get records its call; "install" puts the real influxd on the bare PATH.
    bin = barePath({
      'apt-get': `echo "$*" >> ${aptLog}\nif [ "$1" = install ]; then ${which('ln')} -s ${realInfluxd} "\${0%/*}/influxd"; fi`,
      id: 'echo 0',
    });
    try {
      app = await startApp({ env: { INFLUX_URL: '', PATH: bin.path } });
      assert.deepEqual(readFileSync(aptLog, 'utf8').trim().split('\n'), [
        'update -qq',
        'install -y -qq influxdb',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const logs = app.logs();
    assert.match(logs, /influxd is missing: installing InfluxDB 1\.x \(scripts\/setup\.sh start\)/);
    assert.match(logs, /setup: installing Debian packages: influxdb \(apt-get install -y influxdb\)/);
    const influxUrl = /database: private InfluxDB at (http:\/\/[\d.:]+)/.exec(logs)?.[1];
    assert.ok(influxUrl, logs.slice(-3000));
    assert.equal((await fetch(`${influxUrl}/ping`)).status, 204);
  });

  const machines: { what: string; fakes: Record<string, string>; command: string }[] = [
    {
      what: 'not root and no sudo',
      fakes: { 'apt-get': 'echo "apt-get must not run" >&2; exit 1', id: 'echo 1000' },
      command: 'sudo apt-get install -y influxdb',
    },
    {
      what: 'no apt-get (not Debian)',
      fakes: { id: 'echo 0' },
      command:
        'install InfluxDB 1.x (influxd) from https://docs.influxdata.com/influxdb/v1/introduction/install/ or set INFLUX_URL',
    },
  ];
  for (const machine of machines) {
    it(`${machine.what}: starts anyway, prints the one command to run, and the APIs answer 503 with it`, async () => {
      bin = barePath(machine.fakes);
      const running = await startApp({ env: { INFLUX_URL: '', PATH: bin.path } });
      app = running;
      const logs = running.logs();
      assert.match(logs, new RegExp(`^setup: run: ${escapeRegExp(machine.command)}$`, 'm'));
      assert.match(logs, /gridflow: no database: INFLUX_URL is unset and influxd is not installed: run `/);
      assert.match(logs, /gridflow ready: .* · database none \(writes wait in the disk buffer\)/);
      assert.doesNotMatch(logs, /apt-get must not run/);
      for (const path of [SERIES_URL, FOOTPRINT_URL]) {
        const res = await fetch(`${running.url}${path}`);
        const body = (await res.json()) as { error: string; requestId: string };
        assert.equal(res.status, 503, `${path}: ${JSON.stringify(body)}`);
        assert.ok(body.error.includes(`run \`${machine.command}\``), body.error);
        assert.match(body.error, /or set INFLUX_URL/);
        assert.match(body.requestId, /^[0-9a-f]{12}$/);
        assert.doesNotMatch(body.error, /influx-connection/, 'no database client text');
      }
    });
  }
});

describe('the app and a stray unhandled promise rejection from a node', function () {
  this.timeout(90_000);
  let app: RunningApp | undefined;
  let userDir: string | undefined;
  after(async () => {
    await app?.dispose();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('logs it and keeps running', async () => {
    userDir = mkdtempSync(join(tmpdir(), 'gridflow-rejection-'));
    const z = 'tab.stray';
    const flows = [
      { id: z, type: 'tab', label: 'stray', disabled: false, info: '' },
      {
        id: 'stray.in',
        type: 'http in',
        z,
        url: '/stray',
        method: 'get',
        upload: false,
        wires: [['stray.fn', 'stray.ok']],
      },
      {
        id: 'stray.fn',
        type: 'function',
        z,
        name: 'forgets a catch',
        func: "Promise.reject(new Error('stray rejection ' + msg.req.query.n));\nreturn null;",
        outputs: 1,
        wires: [[]],
      },
      { id: 'stray.ok', type: 'http response', z, name: '', statusCode: '', headers: {}, wires: [] },
    ];
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
    app = await startApp({ userDir, env: { INFLUX_URL: 'http://127.0.0.1:9' } });
    for (const n of [1, 2]) {
      assert.equal((await fetch(`${app.url}/stray?n=${n}`)).status, 200);
      await app.waitForLog(
        new RegExp(`unhandled promise rejection \\(the app keeps running\\): Error: stray rejection ${n}`),
      );
    }
    assert.equal((await fetch(`${app.url}${READY_PATH}`)).status, 200, 'still serving after two rejections');
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
