/**
 * `npm run cluster` as a user runs it (the built script): 3 nats-server, InfluxDB and 2
 * workers on free loopback ports, the pinned ready line, samples in over MQTT and
 * windows out in InfluxDB, and SIGTERM stops every process it started.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { eventually } from '../harness/eventually';
import { influxQuery } from '../harness/influxd';

const CLUSTER_SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'cluster.js');

interface Ready {
  mqtt: number[];
  nats: string[];
  influx: string;
  database: string;
  workers: { id: string; pid: number; http: string }[];
  servers: { name: string; pid: number }[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run cluster', function () {
  this.timeout(180_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gridflow-cluster-'));
  });
  after(async () => {
    // SIGTERM, so the script stops the servers and workers it started, not only itself.
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts 3 NATS servers, InfluxDB and 2 workers, prints the ready line, computes windows and stops on SIGTERM', async () => {
    child = spawn(process.execPath, [CLUSTER_SCRIPT], {
      env: { ...process.env, CLUSTER_DIR: dir, CLUSTER_WORKERS: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const ready = await eventually('the ready line', 150_000, async () => {
      assert.equal(child!.exitCode, null, output.slice(-3000));
      const line = /^gridflow cluster ready: (.*)$/m.exec(output)?.[1];
      return line ? (JSON.parse(line) as Ready) : undefined;
    });
    assert.equal(ready.mqtt.length, 3);
    assert.equal(ready.nats.length, 3);
    assert.equal(ready.servers.length, 3);
    assert.deepEqual(
      ready.workers.map((w) => w.id),
      ['worker-1', 'worker-2'],
    );
    assert.equal(ready.database, 'gridflow');

    const t0 = Date.parse('2026-02-01T10:00:00Z');
    const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${ready.mqtt[1]}`);
    for (let s = 0; s <= 60; s++)
      await publisher.publishAsync('gridflow/in/demo/k1', JSON.stringify({ time: t0 + s * 1000, value: s }));
    await publisher.endAsync();
    const rows = await eventually('the windows in InfluxDB', 60_000, async () => {
      const r = await influxQuery(
        ready.influx,
        'SELECT * FROM stream_window WHERE "key" = \'k1\'',
        'gridflow',
      );
      return r.length >= 2 ? r : undefined;
    });
    assert.deepEqual(
      rows.map((r) => [r.time, r.stream, r.count, r.mean]),
      [
        [t0, 'demo', 1, 0],
        [t0 + 60_000, 'demo', 61, 30], // (t0 − 240 s, t0 + 60 s] holds all 61 samples
      ],
    );

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-3000));
    for (const p of [...ready.servers, ...ready.workers])
      assert.ok(!alive(p.pid), `${JSON.stringify(p)} still runs`);
  });
});
