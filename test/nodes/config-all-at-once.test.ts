import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import movingWindowNode from '../../nodes/moving-window/moving-window';
import covFilterNode from '../../nodes/cov-filter/cov-filter';
import covResamplerNode from '../../nodes/cov-resampler/cov-resampler';
import forecasterNode from '../../nodes/forecaster/forecaster';
import turbineStatsNode from '../../nodes/turbine-stats/turbine-stats';
import { eventually } from '../harness/eventually';

helper.init(require.resolve('node-red'));

type Loose = { on(event: string, listener: (call: { args: unknown[] }) => void): void };

/** Each node with two bad numeric settings: one error must name both. */
const CASES = [
  { type: 'moving-window', node: movingWindowNode, bad: { windowSeconds: 'five', latenessSeconds: -1 } },
  { type: 'cov-filter', node: covFilterNode, bad: { absolute: 'x', heartbeatSeconds: -5 } },
  { type: 'cov-resampler', node: covResamplerNode, bad: { bucketSeconds: 'half', graceSeconds: -1 } },
  { type: 'forecaster', node: forecasterNode, bad: { stepSeconds: 'hour', historySteps: -3 } },
  { type: 'turbine-stats', node: turbineStatsNode, bad: { periodSeconds: 'day', latenessSeconds: -1 } },
];

describe('bad settings are reported all at once (every node that parses numbers)', function () {
  this.timeout(20_000);
  afterEach(async () => {
    await helper.unload();
  });

  for (const c of CASES) {
    it(`${c.type}: one error names both bad settings, and every msg fails with it`, async () => {
      await helper.load(c.node, [{ id: 'n', type: c.type, name: '', ...c.bad, wires: [[]] }]);
      const node = helper.getNode('n');
      const errors: string[] = [];
      (node as unknown as Loose).on('call:error', (call) => errors.push(String(call.args[0])));
      node.receive({ payload: 1 });
      await eventually('the msg fails', 10_000, async () => (errors.length > 0 ? true : undefined), 10);
      for (const name of Object.keys(c.bad)) assert.match(errors[0], new RegExp(`setting ${name} = `));
    });
  }
});
