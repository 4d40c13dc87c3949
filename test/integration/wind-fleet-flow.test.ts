/**
 * The shipped Wind fleet tab, as saved in flows/wind-fleet.json, with its MQTT and
 * InfluxDB outputs replaced by helper nodes: checks the wiring and the function nodes'
 * msg shapes on the bundled data (the app-level e2e covers the real broker and InfluxDB).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import csvSourceNode from '../../nodes/csv-source/csv-source';
import turbineStatsNode from '../../nodes/turbine-stats/turbine-stats';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';

helper.init(require.resolve('node-red'));

const ROOT = join(__dirname, '..', '..', '..');
const CORE = join(ROOT, 'node_modules', '@node-red', 'nodes', 'core');
/* eslint-disable @typescript-eslint/no-require-imports */
const coreNodes = [
  require(join(CORE, 'function', '10-function.js')),
  require(join(CORE, 'function', '10-switch.js')),
  require(join(CORE, 'function', '15-change.js')),
  require(join(CORE, 'common', '21-debug.js')),
  require(join(CORE, 'common', '90-comment.js')),
];
/* eslint-enable @typescript-eslint/no-require-imports */

type Msg = { topic?: string; payload: unknown };
type FlowNode = { id: string; type: string; [k: string]: unknown };

describe('Wind fleet tab (flows/wind-fleet.json)', function () {
  this.timeout(30000);
  const saved = process.env.GRIDFLOW_DATA_DIR;
  before(() => (process.env.GRIDFLOW_DATA_DIR = join(ROOT, 'data')));
  after(async () => {
    await helper.unload();
    if (saved === undefined) delete process.env.GRIDFLOW_DATA_DIR;
    else process.env.GRIDFLOW_DATA_DIR = saved;
  });

  it('publishes 465 daily stats and the fleet anomalies, and writes the three measurements', async () => {
    const flow = JSON.parse(readFileSync(join(ROOT, 'flows', 'wind-fleet.json'), 'utf8')) as FlowNode[];
    const nodes = flow
      .filter((n) => !['mqtt-broker', 'influx-connection'].includes(n.type))
      .map((n) =>
        n.type === 'mqtt out' || n.type === 'influx-write' ? { id: n.id, z: n.z, type: 'helper' } : n,
      );
    await helper.load([...coreNodes, csvSourceNode, turbineStatsNode, anomalyFlaggerNode], nodes as never);
    const mqtt: Msg[] = [];
    const points: { measurement: string; tags: { turbine_id: string }; fields: Record<string, unknown> }[] =
      [];
    const on = (id: string, fn: (m: Msg) => void) =>
      (helper.getNode(id) as unknown as { on(e: string, f: (m: Msg) => void): void }).on('input', fn);
    on('wind-fleet.mqtt', (m) => mqtt.push(m));
    on('wind-fleet.write', (m) => points.push(...(m.payload as typeof points)));
    // read at start: wait until the last day's stats were published
    for (
      let i = 0;
      i < 1200 && mqtt.filter((m) => m.topic?.startsWith('gridflow/wind/stats/')).length < 465;
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    const stats = mqtt.filter((m) => m.topic?.startsWith('gridflow/wind/stats/'));
    assert.equal(stats.length, 465);
    assert.deepEqual(Object.keys(stats[0].payload as object), [
      'time',
      'day',
      'min',
      'max',
      'mean',
      'count',
      'stdev',
      'quality',
    ]);
    assert.equal(stats[0].topic, 'gridflow/wind/stats/1');
    assert.equal((stats[0].payload as { time: string }).time, '2022-03-01T00:00:00.000Z');
    const anomalies = mqtt.filter((m) => m.topic?.startsWith('gridflow/wind/anomaly/'));
    assert.ok(anomalies.length > 0);
    for (const a of anomalies) {
      const p = a.payload as {
        day: string;
        mean: number;
        fleet_mean: number;
        fleet_stdev: number;
        z: number;
      };
      assert.deepEqual(Object.keys(p), ['time', 'day', 'mean', 'fleet_mean', 'fleet_stdev', 'z']);
      assert.ok(Math.abs(p.z) > 2);
      assert.ok(Math.abs((p.mean - p.fleet_mean) / p.fleet_stdev - p.z) < 1e-9);
    }
    const count = (m: string) => points.filter((p) => p.measurement === m).length;
    assert.equal(count('turbine_power'), 11160);
    assert.equal(count('turbine_daily_stats'), 465);
    assert.equal(count('turbine_anomaly'), anomalies.length);
    const power = points.find((p) => p.measurement === 'turbine_power');
    assert.deepEqual(Object.keys(power?.fields ?? {}).sort(), [
      'imputed',
      'power_output',
      'wind_direction',
      'wind_speed',
    ]);
  });
});
