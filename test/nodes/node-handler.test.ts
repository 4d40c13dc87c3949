/**
 * The shared input wrapper and registration (nodes/shared/node-handler.ts) on a node
 * defined here: typed msg and send, a throw or a rejected promise becomes done(err) with
 * the status 'bad input', and the saved config reaches the constructor migrated.
 */
import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import { onInput, registerNode } from '../../nodes/shared/node-handler';
import type { Node, NodeAPI, NodeDef } from '../../nodes/shared/node-red-types';
import { eventually } from '../harness/eventually';

helper.init(require.resolve('node-red'));

type Loose = { on(event: string, listener: (call: { args: unknown[] }) => void): void };
type TestMsg = Record<string, unknown>;

interface ProbeConfig extends NodeDef {
  factor?: number;
  scale?: number;
  version?: number;
}

/** A node whose v0 config called its factor `scale`. */
function probeModule(RED: NodeAPI): void {
  function ProbeNode(this: Node, config: ProbeConfig) {
    RED.nodes.createNode(this, config);
    const factor = Number(config.factor);
    onInput(this, (msg, send, done) => {
      if (msg.payload === 'throw') throw new Error('thrown inside');
      if (msg.payload === 'reject') return Promise.reject(new Error('rejected inside'));
      msg.payload = Number(msg.payload) * factor;
      msg.version = config.version;
      send(msg);
      done();
    });
  }
  registerNode(
    RED,
    'probe',
    [{ version: 1, up: ({ scale, ...config }) => ({ factor: scale ?? 1, ...config }) }],
    ProbeNode,
  );
}

describe('onInput and registerNode (nodes/shared/node-handler.ts)', () => {
  afterEach(async () => {
    await helper.unload();
  });

  async function load(config: Record<string, unknown>) {
    await helper.load(probeModule, [
      { id: 'p', type: 'probe', ...config, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const out: TestMsg[] = [];
    helper.getNode('out').on('input', (m: TestMsg) => out.push(m));
    const errors: string[] = [];
    const statuses: string[] = [];
    const probe = helper.getNode('p');
    (probe as unknown as Loose).on('call:error', (call) => errors.push(String(call.args[0])));
    (probe as unknown as Loose).on('call:status', (call) =>
      statuses.push(String((call.args[0] as { text?: string }).text)),
    );
    return { probe, out, errors, statuses };
  }

  it('gives the constructor the config migrated from a flow saved before versions', async () => {
    const { probe, out } = await load({ scale: 3 });
    probe.receive({ payload: 2 });
    await eventually('the msg', 5000, async () => (out.length > 0 ? true : undefined), 5);
    assert.equal(out[0].payload, 6);
    assert.equal(out[0].version, 1);
  });

  it('turns a throw and a rejected promise into done(err) with status "bad input", and keeps going', async () => {
    const { probe, out, errors, statuses } = await load({ factor: 2, version: 1 });
    probe.receive({ payload: 'throw' });
    probe.receive({ payload: 'reject' });
    probe.receive({ payload: 5 });
    await eventually('two errors and a msg', 5000, async () =>
      errors.length === 2 && out.length === 1 ? true : undefined,
    );
    assert.match(errors[0], /thrown inside/);
    assert.match(errors[1], /rejected inside/);
    assert.deepEqual(statuses, ['bad input', 'bad input']);
    assert.equal(out[0].payload, 10);
  });
});
