import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { startApp, type RunningApp } from '../harness/app';
import { influxdInstalled, INFLUXD_INSTALL_HINT } from '../../app/private-influxd';

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
  before(async () => {
    if (!influxdInstalled()) throw new Error(INFLUXD_INSTALL_HINT);
    app = await startApp({ env: { INFLUX_URL: '' } });
  });
  after(async () => app?.dispose());

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
