/**
 * A flow saved at each earlier version loads and behaves as today's: the same node saved
 * at version 0 and at today's version side by side in one flow, the same msgs into both,
 * the same msgs out (and no configuration error).
 */
import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import anomalyFlaggerNode from '../../../nodes/anomaly-flagger/anomaly-flagger';
import covFilterNode from '../../../nodes/cov-filter/cov-filter';
import covResamplerNode from '../../../nodes/cov-resampler/cov-resampler';
import forecasterNode from '../../../nodes/forecaster/forecaster';
import movingWindowNode from '../../../nodes/moving-window/moving-window';
import rainNextHourNode from '../../../nodes/rain-next-hour/rain-next-hour';
import turbineStatsNode from '../../../nodes/turbine-stats/turbine-stats';
import apiEndpointNode from '../../../nodes/api-endpoint/api-endpoint';
import carbonFootprintNode from '../../../nodes/carbon-footprint/carbon-footprint';
import csvSourceNode from '../../../nodes/csv-source/csv-source';
import footprintRequestNode from '../../../nodes/footprint-request/footprint-request';
import footprintResponseNode from '../../../nodes/footprint-response/footprint-response';
import influxConnectionNode from '../../../nodes/influx-connection/influx-connection';
import influxQueryNode from '../../../nodes/influx-query/influx-query';
import natsConnectionNode from '../../../nodes/nats-connection/nats-connection';
import natsOutNode from '../../../nodes/nats-out/nats-out';
import seriesRequestNode from '../../../nodes/series-request/series-request';
import seriesResponseNode from '../../../nodes/series-response/series-response';
import seriesRollupNode from '../../../nodes/series-rollup/series-rollup';
import { SAVED_CONFIGS } from './saved-configs';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown>;
type Loose = { on(event: string, listener: (call: { args: unknown[] }) => void): void };
type NodeModule = Parameters<typeof helper.load>[0];
type NodeInitializer = Exclude<NodeModule, unknown[]>;

const T0 = Date.UTC(2024, 0, 1);
const hour = (h: number) => new Date(T0 + h * 3_600_000).toISOString();
const PORTS = 3;

interface Case {
  node: NodeModule;
  inputs: Msg[];
}

const CASES: Record<string, Case> = {
  'moving-window': {
    node: movingWindowNode,
    inputs: [1, 5, 3, 8, 2, 9, 4].map((payload) => ({ topic: 'a', payload })),
  },
  'anomaly-flagger': {
    node: anomalyFlaggerNode,
    inputs: [10, 11, 10, 9, 10, 11, 10, 11.9, 50, 10].map((payload) => ({ topic: 't1', payload })),
  },
  'cov-filter': {
    node: covFilterNode,
    inputs: [10, 10.5, 11.2, 11.4, 9, 9].map((payload) => ({ topic: 'p', payload })),
  },
  'cov-resampler': {
    node: covResamplerNode,
    inputs: [0, 0.2, 0.7, 1.1, 2.6, 3.0].map((h, i) => ({ topic: 'm', payload: i * 10, timestamp: hour(h) })),
  },
  forecaster: {
    node: forecasterNode,
    inputs: Array.from({ length: 60 }, (_, h) => ({
      topic: 'load',
      payload: 100 + 10 * Math.sin((2 * Math.PI * h) / 24),
      timestamp: hour(h),
    })),
  },
  'turbine-stats': {
    node: turbineStatsNode,
    inputs: [0, 6, 12, 18, 24, 30, 48].flatMap((h) =>
      [1, 2].map((turbine) => ({
        payload: { turbine_id: turbine, timestamp: hour(h), power_output: 1 + turbine + h / 100 },
      })),
    ),
  },
  'rain-next-hour': {
    node: rainNextHourNode,
    inputs: [
      {
        payload: {
          current: { dt: T0 / 1000 },
          minutely: Array.from({ length: 61 }, (_, i) => ({ dt: T0 / 1000 + i * 60, precipitation: i % 3 })),
        },
      },
    ],
  },
};

/** Every msg each port of `id` sent, without the per-msg ids. */
function collect(id: string): Msg[][] {
  const ports: Msg[][] = Array.from({ length: PORTS }, () => []);
  for (let port = 0; port < PORTS; port++)
    helper.getNode(`${id}.out${port}`).on('input', (msg: Msg) => {
      const { _msgid, ...rest } = msg;
      void _msgid;
      ports[port].push(rest);
    });
  return ports;
}

describe("a flow saved at an earlier version loads and behaves as today's", function () {
  this.timeout(20_000);
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: T0 + 3_600_000, toFake: ['Date'] });
  });
  afterEach(async () => {
    await helper.unload();
    clock.restore();
  });

  for (const [type, c] of Object.entries(CASES)) {
    const chain = SAVED_CONFIGS[type];
    for (let version = 0; version < chain.length - 1; version++) {
      it(`${type}: saved at version ${version}`, async () => {
        const ids = ['old', 'today'];
        const configs = [chain[version], chain[chain.length - 1]];
        await helper.load(c.node, [
          ...ids.map((id, i) => ({
            ...configs[i],
            id,
            type,
            wires: Array.from({ length: PORTS }, (_, port) => [`${id}.out${port}`]),
          })),
          ...ids.flatMap((id) =>
            Array.from({ length: PORTS }, (_, port) => ({ id: `${id}.out${port}`, type: 'helper' })),
          ),
        ]);
        const errors: string[] = [];
        const outputs = ids.map((id) => {
          (helper.getNode(id) as unknown as Loose).on('call:error', (call) =>
            errors.push(String(call.args[0])),
          );
          return collect(id);
        });
        for (const msg of c.inputs) for (const id of ids) helper.getNode(id).receive(structuredClone(msg));
        for (const id of ids) helper.getNode(id).receive({ flush: true });
        for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
        assert.deepEqual(
          errors.filter((e) => /invalid configuration/.test(e)),
          [],
        );
        assert.ok(outputs[1].flat().length > 0, 'today’s node sent msgs');
        assert.deepEqual(outputs[0], outputs[1]);
      });
    }
  }
});

/** Nodes that need a service or a request to do anything: saved at version 0, they load without a configuration error. */
const LOADED_ONLY: Record<string, NodeInitializer> = {
  'api-endpoint': apiEndpointNode,
  'carbon-footprint': carbonFootprintNode,
  'csv-source': csvSourceNode,
  'footprint-request': footprintRequestNode,
  'footprint-response': footprintResponseNode,
  'influx-connection': influxConnectionNode,
  'influx-query': influxQueryNode,
  'nats-connection': natsConnectionNode,
  'nats-out': natsOutNode,
  'series-request': seriesRequestNode,
  'series-response': seriesResponseNode,
  'series-rollup': seriesRollupNode,
};

describe('nodes that need a service, saved before versions, load without a configuration error', function () {
  this.timeout(20_000);
  afterEach(async () => {
    await helper.unload();
  });

  it(Object.keys(LOADED_ONLY).join(', '), async () => {
    // The ids the saved configs name for their connections: influx-query → conn, nats-out → nats.
    // (Other ids are not the type name: Node-RED takes a property equal to a config node's id as a dependency.)
    const ids: Record<string, string> = { 'influx-connection': 'conn', 'nats-connection': 'nats' };
    await helper.load(
      Object.values(LOADED_ONLY),
      Object.keys(LOADED_ONLY).map((type) => ({
        ...SAVED_CONFIGS[type][0],
        id: ids[type] ?? `saved.${type}`,
        type,
        wires: [],
      })),
    );
    for (const type of Object.keys(LOADED_ONLY))
      assert.ok(helper.getNode(ids[type] ?? `saved.${type}`), `${type} constructed`);
    const logged = (helper.log() as unknown as { args: Array<[{ msg?: unknown }]> }).args.map((a) =>
      String(a[0]?.msg),
    );
    assert.deepEqual(
      logged.filter((msg) => /invalid configuration/.test(msg)),
      [],
    );
  });
});
