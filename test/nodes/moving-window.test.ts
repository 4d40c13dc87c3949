import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import movingWindowNode from '../../nodes/moving-window/moving-window';
import * as nodeState from '../../nodes/shared/node-state';

helper.init(require.resolve('node-red'));

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type TestNode = ReturnType<typeof helper.getNode> & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const START = Date.UTC(2024, 6, 5, 12, 0, 30); // 12:00:30 UTC
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function flow(config: Record<string, unknown> = {}) {
  return [
    { id: 't1', type: 'tab' },
    {
      id: 'mw',
      z: 't1',
      type: 'moving-window',
      windowSeconds: 300,
      hopSeconds: 60,
      aggregates: ['mean', 'min', 'max', 'count'],
      wires: [['out'], ['late']],
      ...config,
    },
    { id: 'out', z: 't1', type: 'helper' },
    { id: 'late', z: 't1', type: 'helper' },
  ];
}

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}

describe('moving-window node', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      now: START,
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
  });
  afterEach(async () => {
    await helper.unload();
    clock.restore();
  });

  /** One sample every 10 s for `seconds`, value = seconds since START. */
  async function feed(node: TestNode, seconds: number, topic = 'f') {
    for (let s = 0; s < seconds; s += 10) {
      node.receive({ topic, payload: (Date.now() - START) / 1000 });
      await clock.tickAsync(10_000);
      await flush();
    }
  }

  it('emits the 5-minute mean at every minute boundary, aligned to :00', async () => {
    await helper.load(movingWindowNode, flow());
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    await feed(mw, 390); // 12:00:30 → 12:07:00, samples at 12:00:30, :40, ... 12:06:50
    await flush();
    assert.deepEqual(
      out.map((m) => m.payload.end),
      ['01', '02', '03', '04', '05', '06', '07'].map((mm) => `2024-07-05T12:${mm}:00.000Z`),
    );
    const at7 = out[6];
    assert.equal(at7.topic, 'f');
    // (12:02, 12:07]: samples 12:02:10 … 12:06:50 = 29, values 100 … 380 s after START
    assert.deepEqual(at7.payload, {
      start: '2024-07-05T12:02:00.000Z',
      end: '2024-07-05T12:07:00.000Z',
      count: 29,
      mean: 240,
      min: 100,
      max: 380,
    });
    assert.equal(out[0].payload.count, 3); // 12:00:30, :40, :50
  });

  it('emits on the clock without new samples, and empty windows only with emitEmpty', async () => {
    await helper.load(movingWindowNode, flow({ windowSeconds: 60, emitEmpty: true }));
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    mw.receive({ topic: 'k', payload: 7 });
    await flush();
    await clock.tickAsync(150_000); // ticks at 12:01, 12:02, 12:03
    await flush();
    assert.deepEqual(
      out.map((m) => [m.payload.end.slice(11, 16), m.payload.count, m.payload.mean]),
      [
        ['12:01', 1, 7],
        ['12:02', 0, null],
        ['12:03', 0, null],
      ],
    );
  });

  it('after a restart with the saved state emits a full window one minute later', async () => {
    const saves = sinon.spy(nodeState, 'saveState');
    await helper.load(movingWindowNode, flow());
    let mw = helper.getNode('mw') as TestNode;
    await feed(mw, 300); // 30 samples, 12:00:30 … 12:05:20; clock now 12:05:30
    // Saved on the 12:05 tick: the window (12:00, 12:05] = 12:00:30 … 12:04:50.
    const atTick = JSON.parse(JSON.stringify(mw.context().get('state'))) as Msg;
    assert.equal(atTick.keys.f.window.times.length, 27, 'state saved on the clock tick');
    await helper.unload(); // the close handler saves again: all 30 samples
    saves.restore();
    const saved = JSON.parse(JSON.stringify(saves.lastCall.args[1])) as Msg;
    assert.equal(saved.keys.f.window.times.length, 30, 'state saved on close');
    // The test helper's context store does not outlive unload; hand the saved state
    // (JSON, as the localfilesystem store keeps it) to the restarted node.
    const restore = sinon.stub(nodeState, 'loadState').returns(saved);
    try {
      await helper.load(movingWindowNode, flow());
    } finally {
      restore.restore();
    }
    mw = helper.getNode('mw') as TestNode;
    const out = collect('out');
    mw.receive({ topic: 'f', payload: 300 });
    await clock.tickAsync(30_000); // 12:06:00
    await flush();
    assert.equal(out.length, 1);
    // (12:01, 12:06]: 12:01:10 … 12:05:20 restored (26) + the new sample at 12:05:30
    assert.equal(out[0].payload.count, 27);
    assert.equal(out[0].payload.min, 40);
    assert.equal(out[0].payload.max, 300);
  });

  it('reports bad values once per key, keeps good msgs flowing and calls done once per msg', async () => {
    await helper.load(movingWindowNode, flow({ hopSeconds: 0, countWindow: 3 }));
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    const errors: unknown[][] = [];
    (mw as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
      errors.push(call.args),
    );
    const bad = [
      { payload: 'abc' },
      { payload: NaN },
      { payload: Infinity },
      {},
      { payload: '12,5' },
      { payload: { v: 1 } },
    ];
    const msgs = [{ payload: 1 }, ...bad, { payload: '2' }, { topic: 'other', payload: 'x' }, { payload: 3 }];
    for (const m of msgs) {
      const done = sinon.spy();
      mw._inputCallback({ topic: 'k', ...m }, (o: Msg[]) => o[0] && out.push(o[0]), done);
      assert.equal(done.callCount, 1, `done once for ${JSON.stringify(m)}`);
      assert.equal(done.firstCall.args.length, 0);
    }
    assert.deepEqual(
      out.map((m) => m.payload.mean),
      [1, 1.5, 2],
    );
    await flush();
    assert.equal(errors.length, 2, 'once for key k, once for key other');
    assert.match(String(errors[0][0]), /msg.payload "abc" is not a number/);
    assert.equal((errors[0][1] as Msg).payload, 'abc');
  });

  it('sends samples older than the allowed lateness to output 2 with the reason', async () => {
    await helper.load(
      movingWindowNode,
      flow({ timeProperty: 'timestamp', latenessSeconds: 30, hopSeconds: 0 }),
    );
    const out = collect('out');
    const late = collect('late');
    const mw = helper.getNode('mw') as TestNode;
    mw.receive({ topic: 'k', payload: 1, timestamp: '2024-07-05T12:00:00Z' });
    mw.receive({ topic: 'k', payload: 2, timestamp: '2024-07-05T11:59:40Z' }); // 20 s late: accepted
    mw.receive({ topic: 'k', payload: 3, timestamp: START - 70_000 }); // 11:59:20, 40 s behind
    await flush();
    assert.equal(out.length, 2);
    assert.equal(out[1].payload.count, 2);
    assert.equal(late.length, 1);
    assert.equal(late[0].payload, 3);
    assert.match(late[0].reason, /more than 30 s behind/);
  });

  it('forgets idle keys after the TTL and shows the live key count', async () => {
    await helper.load(movingWindowNode, flow({ windowSeconds: 60, keyTtlSeconds: 120 }));
    const mw = helper.getNode('mw') as TestNode;
    const status: string[] = [];
    (mw as unknown as NodeJS.EventEmitter).on('call:status', (call: { args: Array<{ text: string }> }) =>
      status.push(call.args[0].text),
    );
    mw.receive({ topic: 'a', payload: 1 });
    mw.receive({ topic: 'b', payload: 1 });
    await clock.tickAsync(30_000);
    await flush();
    assert.equal(status.at(-1), '2 keys');
    for (let i = 0; i < 4; i++) {
      mw.receive({ topic: 'b', payload: 2 });
      await clock.tickAsync(60_000);
      await flush();
    }
    assert.equal(status.at(-1), '1 keys');
  });
});
