import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../../app/free-port';
import { eventually } from '../harness/eventually';
import { startReplayServer } from '../harness/replay-server';

type FlowNode = { id: string; type: string; z?: string; [key: string]: unknown };

/** Every example of the installed package, merged by id (shared config nodes once), as a user imports them all. */
function installedExamples(packageDir: string, mqttPort: number, apiUrl: string): FlowNode[] {
  const dir = join(packageDir, 'examples');
  const merged = new Map<string, FlowNode>();
  for (const file of readdirSync(dir).sort())
    for (const node of JSON.parse(readFileSync(join(dir, file), 'utf8')) as FlowNode[])
      if (!merged.has(node.id)) merged.set(node.id, node);
  // 1883 may be taken on a shared machine: the user's port, set in the two nodes that name it;
  // the public APIs are replayed (the test machine is offline)
  return [...merged.values()].map((n) =>
    n.type === 'aedes-broker' || n.type === 'mqtt-broker'
      ? { ...n, port: String(mqttPort) }
      : n.type === 'api-endpoint'
        ? { ...n, baseUrl: apiUrl }
        : n,
  );
}

const repoRoot = resolve(__dirname, '..', '..', '..');
const nodeRedMain = require.resolve('node-red/red.js');

describe('the npm package, packed and installed into a plain Node-RED 4.1 userDir', function () {
  this.timeout(180_000);
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'gridflow-pack-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('installs from the tarball and loads every node and example without errors', async () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: repoRoot,
        encoding: 'utf8',
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    assert.ok(files.includes('dist/nodes/aedes-broker/aedes-broker.html'), 'the .html files are packed');
    for (const type of Object.keys(
      (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: object } })[
        'node-red'
      ].nodes,
    ))
      for (const ext of ['html', 'json'])
        assert.ok(
          files.includes(`dist/nodes/${type}/locales/en-US/${type}.${ext}`),
          `${type}'s locales/en-US/${type}.${ext} is packed`,
        );
    assert.ok(files.includes('resources/gridflow-editor.js'), 'the editor helpers are packed');
    assert.ok(files.includes('resources/config-migrations.js'), "the editor's config migrations are packed");
    assert.ok(
      files.some((f) => f.startsWith('examples/')),
      'the examples are packed',
    );
    assert.ok(
      !files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/')),
      'tests stay out of the package',
    );

    const userDir = join(work, 'userdir');
    execFileSync('mkdir', ['-p', userDir]);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)],
      {
        cwd: userDir,
        stdio: 'pipe',
      },
    );

    const port = await freePort();
    // a plain Node-RED: none of gridflow's env (see README, Settings)
    const plainEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) =>
          !/^(GRIDFLOW_|INFLUX_|MQTT_|ENERGIDATASERVICE_|CARBON_INTENSITY_|OPENWEATHER_)/.test(name),
      ),
    );
    const red = spawn(process.execPath, [nodeRedMain, '--userDir', userDir, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: plainEnv,
    });
    let log = '';
    red.stdout.on('data', (d: Buffer) => (log += d.toString()));
    red.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      // "Started flows" may come before "Server now running": wait for the one asserted below.
      for (let i = 0; i < 600 && !/Server now running/.test(log); i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(log, /Server now running/, log);
      const sets = (await (
        await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } })
      ).json()) as {
        id: string;
        module: string;
        err?: string;
      }[];
      const ours = sets.filter((s) => s.module === '@gridflow/node-red-gridflow');
      const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
        'node-red': { nodes: object };
      };
      const declared = Object.keys(pkg['node-red'].nodes);
      assert.equal(ours.length, declared.length);
      for (const set of ours) assert.equal(set.err, undefined, `${set.id}: ${JSON.stringify(set.err)}`);
      assert.doesNotMatch(log, /\[@gridflow\/node-red-gridflow[^\]]*\] Error/);
      const examples = (await (
        await fetch(`http://127.0.0.1:${port}/library/examples/flows/@gridflow/node-red-gridflow`)
      ).json()) as unknown[];
      assert.ok(examples.length > 0, 'Import > Examples lists the shipped flows');
      const editorScript = await fetch(
        `http://127.0.0.1:${port}/resources/@gridflow/node-red-gridflow/gridflow-editor.js`,
      );
      assert.equal(editorScript.status, 200, 'Node-RED serves the editor helpers');
      assert.match(await editorScript.text(), /window\.gridflowEditor/);
      const help = await (
        await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'text/html' } })
      ).text();
      assert.match(help, /data-help-name="moving-window"/, 'the help comes from locales/en-US');
      const migrations = await fetch(
        `http://127.0.0.1:${port}/resources/@gridflow/node-red-gridflow/config-migrations.js`,
      );
      assert.equal(migrations.status, 200, 'Node-RED serves the editor script each .html loads');
      assert.match(await migrations.text(), /GridflowConfigMigrations/);
      await deployEveryExample(
        port,
        join(userDir, 'node_modules', '@gridflow', 'node-red-gridflow'),
        declared,
        () => log,
      );
    } finally {
      red.kill('SIGINT');
      await new Promise((r) => red.once('exit', r));
    }
  });
});

/**
 * Deploys every example with no env set and waits until each gridflow node has shown a
 * status and the csv-source nodes have read their bundled files; then no gridflow node
 * may have logged an error, and the core MQTT client must have reached the example broker.
 */
async function deployEveryExample(
  port: number,
  packageDir: string,
  gridflowTypes: string[],
  log: () => string,
): Promise<void> {
  assert.ok(existsSync(join(packageDir, 'data', 'windmill')), 'the bundled data is in the package');
  assert.ok(existsSync(join(packageDir, 'LICENSE')), 'the package has its LICENSE');
  const api = await startReplayServer();
  api.fixture(
    '/dataset/PowerSystemRightNow',
    'statnett/PowerSystemRightNow_sample_2026-04-08.extracted_from_test_fixture.json',
  );
  api.fixture('/intensity/2019-11-25T00:00Z/2019-11-26T00:00Z', 'carbon/carbon_intensity_2019-11-25.json');
  const flow = installedExamples(packageDir, await freePort(), api.url);
  const ours = flow.filter((n) => gridflowTypes.includes(n.type) && n.z).map((n) => n.id);
  const statuses = new Map<string, string>();
  const comms = new WebSocket(`ws://127.0.0.1:${port}/comms`);
  await new Promise((resolve, reject) => comms.once('open', resolve).once('error', reject));
  comms.send(JSON.stringify({ subscribe: 'status/#' }));
  comms.on('message', (data: Buffer) => {
    for (const event of JSON.parse(data.toString()) as { topic: string; data?: { text?: string } }[])
      if (event.topic.startsWith('status/')) statuses.set(event.topic.slice(7), event.data?.text ?? '');
  });
  try {
    const before = log().length;
    const res = await fetch(`http://127.0.0.1:${port}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    assert.ok(res.ok, `deploy: ${res.status} ${await res.text()}`);
    const csvSources = flow.filter((n) => n.type === 'csv-source').map((n) => n.id);
    await eventually(
      'every gridflow node of the examples shows a status, the CSVs are read',
      60_000,
      async () =>
        ours.every((id) => statuses.has(id)) &&
        csvSources.every((id) => /rows|files?|done|idle|watch/i.test(statuses.get(id) ?? '')) &&
        /Connected to broker/.test(log().slice(before))
          ? true
          : undefined,
    );
    const deployed = log().slice(before);
    const typeNames = gridflowTypes.join('|');
    const errors = deployed
      .split('\n')
      .filter((line) => new RegExp(`\\[error\\] \\[(${typeNames}):`).test(line));
    assert.deepEqual(errors, [], deployed);
    assert.doesNotMatch(deployed, /\$\{MQTT_PORT\}|must be an integer|ENOENT/);
  } finally {
    comms.close();
    await api.close();
  }
}
