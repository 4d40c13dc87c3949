import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import covFilterNode from '../../nodes/cov-filter/cov-filter';

helper.init(require.resolve('node-red'));

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type TestNode = ReturnType<typeof helper.getNode> & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function flow(config: Record<string, unknown>) {
  return [
    { id: 'cov', type: 'cov-filter', wires: [['out']], ...config },
    { id: 'out', type: 'helper' },
  ];
}

describe('cov-filter node', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      now: Date.UTC(2024, 0, 1),
      toFake: ['setTimeout', 'clearTimeout', 'Date'],
    });
  });
  afterEach(async () => {
    await helper.unload();
    clock.restore();
  });

  it('passes values that moved more than the absolute threshold from the last passed one, per key, with the reason', async () => {
    await helper.load(covFilterNode, flow({ absolute: 1 }));
    const out: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    const cov = helper.getNode('cov') as TestNode;
    for (const [topic, payload] of [
      ['a', 10],
      ['b', 10],
      ['a', 10.6],
      ['a', 10.9],
      ['a', 11.2],
      ['b', 8.5],
      ['a', '12.3'],
    ] as const) {
      cov.receive({ topic, payload });
    }
    await flush();
    assert.deepEqual(
      out.map((m) => [m.topic, m.payload, m.cov.reason, m.cov.previous]),
      [
        ['a', 10, 'first', null],
        ['b', 10, 'first', null],
        ['a', 11.2, 'absolute', 10],
        ['b', 8.5, 'absolute', 10],
        ['a', '12.3', 'absolute', 11.2],
      ],
    );
  });

  it('passes by percentage, and an unchanged value once the heartbeat is due', async () => {
    await helper.load(covFilterNode, flow({ percent: 5, heartbeatSeconds: 60 }));
    const out: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    const cov = helper.getNode('cov') as TestNode;
    cov.receive({ payload: 200 });
    cov.receive({ payload: 209 }); // 4.5 %: blocked
    clock.tick(59_000);
    cov.receive({ payload: 200 }); // not yet due
    clock.tick(1000);
    cov.receive({ payload: 200 }); // 60 s since the last pass
    cov.receive({ payload: 211 }); // 5.5 % of 200
    await flush();
    assert.deepEqual(
      out.map((m) => [m.payload, m.cov.reason]),
      [
        [200, 'first'],
        [200, 'heartbeat'],
        [211, 'percent'],
      ],
    );
  });

  it('reports bad values with the msg, keeps good msgs flowing and calls done once per msg', async () => {
    await helper.load(covFilterNode, flow({ absolute: 0.5 }));
    const cov = helper.getNode('cov') as TestNode;
    const errors: unknown[][] = [];
    (cov as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
      errors.push(call.args),
    );
    const sent: Msg[] = [];
    for (const payload of [1, 'abc', NaN, Infinity, undefined, null, 2, 2.2, 3]) {
      const done = sinon.spy();
      cov._inputCallback({ topic: 't', payload }, (m: Msg) => sent.push(m), done);
      assert.equal(done.callCount, 1);
      assert.equal(done.firstCall.args.length, 0);
    }
    await flush();
    assert.deepEqual(
      sent.map((m) => m.payload),
      [1, 2, 3],
    );
    assert.equal(errors.length, 1, 'reported once for the key');
    assert.match(String(errors[0][0]), /key "t": msg.payload "abc" is not a number/);
  });
});
