import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Samples a saved window holds: panes (state version 2) count theirs. */
const samplesHeld = (window: Msg): number =>
  window.kind === 'panes'
    ? (window.panes as number[][]).reduce((n, pane) => n + pane[1], 0)
    : window.times.length + window.pending.times.length;

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

  it('emits the 5-minute mean at every minute boundary, aligned to :00 (arrival time)', async () => {
    await helper.load(movingWindowNode, flow());
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    await feed(mw, 390); // 12:00:30 → 12:07:00, samples at 12:00:30, :40, ... 12:06:50
    await clock.tickAsync(1); // the idle check runs 1 ms past the boundary
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
    assert.equal(out[0].payload.count, 4); // 12:00:30, :40, :50 and 12:01:00, which closed it
  });

  it('a tick that closes the windows of 1,000 keys sends every one, in order', async () => {
    await helper.load(movingWindowNode, flow({ windowSeconds: 60 }));
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    for (const [i, topic] of keys.entries()) mw.receive({ topic, payload: i });
    await flush();
    await clock.tickAsync(30_001); // 12:01:00.001: all 1,000 windows close
    for (let turn = 0; turn < 50 && out.length < 1000; turn++) await flush();
    assert.deepEqual(
      out.map((m) => m.topic),
      keys,
    );
    assert.deepEqual(
      out.map((m) => m.payload.mean),
      keys.map((_, i) => i),
    );
    assert.ok(out.every((m) => m.payload.end === '2024-07-05T12:01:00.000Z' && m.payload.count === 1));
  });

  it('output batch: one msg per emission holding every window closed with it, the same windows as one msg each', async () => {
    await helper.load(movingWindowNode, [
      ...flow({ windowSeconds: 60 }),
      {
        id: 'mwb',
        z: 't1',
        type: 'moving-window',
        windowSeconds: 60,
        hopSeconds: 60,
        aggregates: ['mean', 'min', 'max', 'count'],
        output: 'batch',
        wires: [['batch'], []],
      },
      { id: 'batch', z: 't1', type: 'helper' },
    ] as ReturnType<typeof flow>);
    const each = collect('out');
    const batches = collect('batch');
    const nodes = ['mw', 'mwb'].map((id) => helper.getNode(id) as TestNode);
    await clock.tickAsync(5_000); // samples at :35, :45, … : none on a boundary, so the clock closes every window
    for (let second = 0; second < 150; second += 10) {
      for (const key of ['a', 'b', 'c']) for (const n of nodes) n.receive({ topic: key, payload: second });
      await clock.tickAsync(10_000);
      await flush();
    }
    await clock.tickAsync(1);
    await flush();
    assert.deepEqual(
      batches.map((m) => m.payload.length),
      [3, 3, 3],
      'one msg per minute, every key in it',
    );
    assert.ok(batches.every((m) => m.topic === undefined));
    assert.deepEqual(
      batches.flatMap((m) => m.payload as Msg[]),
      each.map((m) => ({ topic: m.topic, payload: m.payload })),
    );
  });

  it('saves its state halfway between emissions (:30 when it emits every minute), not with the burst at :00', async () => {
    const saves = sinon.spy(nodeState, 'saveState');
    try {
      await helper.load(movingWindowNode, flow());
      const mw = helper.getNode('mw') as TestNode;
      mw.receive({ topic: 'f', payload: 1 });
      await clock.tickAsync(30_001); // 12:01:00.001: a window goes out
      await flush();
      assert.equal(saves.callCount, 0, 'no save with the :00 emissions');
      await clock.tickAsync(30_000); // 12:01:30.001
      await flush();
      assert.equal(saves.callCount, 1, 'saved at :30');
    } finally {
      saves.restore();
    }
  });

  it('emits on the clock without new samples, and empty windows only with emitEmpty', async () => {
    await helper.load(movingWindowNode, flow({ windowSeconds: 60, emitEmpty: true }));
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    mw.receive({ topic: 'k', payload: 7 });
    await flush();
    await clock.tickAsync(150_001); // idle checks 1 ms past 12:01, 12:02, 12:03
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
    // Checkpointed every checkpointSeconds (60) on the clock.
    const atTick = JSON.parse(JSON.stringify(mw.context().get('state'))) as Msg;
    assert.ok(samplesHeld(atTick.keys.f.window) >= 20, 'state saved on the clock');
    await helper.unload(); // the close handler saves again: all 30 samples
    saves.restore();
    const saved = JSON.parse(JSON.stringify(saves.lastCall.args[1])) as Msg;
    assert.equal(samplesHeld(saved.keys.f.window), 30, 'state saved on close');
    assert.equal(saved.keys.f.clock.closedThroughMs, Date.UTC(2024, 6, 5, 12, 5), 'watermark saved');
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
    await clock.tickAsync(30_001); // 12:06:00.001
    await flush();
    assert.equal(out.length, 1);
    // (12:01, 12:06]: 12:01:10 … 12:05:20 restored (26) + the new sample at 12:05:30
    assert.equal(out[0].payload.count, 27);
    assert.equal(out[0].payload.min, 40);
    assert.equal(out[0].payload.max, 300);
  });

  it('count windows go out per sample on the msg with start, end, count and the aggregates in their configured order', async () => {
    const aggregates = ['last', 'stdev', 'count', 'first', 'max', 'sum', 'min', 'mean'];
    await helper.load(
      movingWindowNode,
      flow({ hopSeconds: 0, countWindow: 3, timeProperty: 'timestamp', emitWarmup: false, aggregates }),
    );
    const out = collect('out');
    const mw = helper.getNode('mw') as TestNode;
    const at = (s: number) => new Date(START - 60_000 + s * 1000).toISOString();
    [4, 1, 7, 2].forEach((v, s) => mw.receive({ topic: '7', payload: v, timestamp: at(s), _msgid: `m${s}` }));
    await flush();
    assert.deepEqual(
      out.map((m) => [m._msgid, m.topic, Object.keys(m.payload)]),
      [
        ['m2', '7', ['start', 'end', 'count', 'last', 'stdev', 'first', 'max', 'sum', 'min', 'mean']],
        ['m3', '7', ['start', 'end', 'count', 'last', 'stdev', 'first', 'max', 'sum', 'min', 'mean']],
      ],
    );
    const { stdev, ...rest } = out[1].payload;
    assert.ok(Math.abs(stdev - Math.sqrt(31 / 3)) < 1e-12, `stdev ${stdev}`);
    assert.deepEqual(rest, {
      start: at(1),
      end: at(3),
      count: 3,
      last: 2,
      first: 1,
      max: 7,
      sum: 10,
      min: 1,
      mean: 10 / 3,
    });
  });

  it('restores a checkpoint saved before pane windows (state version 1, ring samples) and saves version 2', async () => {
    // Saved by the ring-only release after samples at 12:00:30 … 12:05:20 (as in the test above).
    const v1 = JSON.parse(
      readFileSync(
        join(__dirname, '..', '..', '..', 'test', 'fixtures', 'moving-window-state-v1.json'),
        'utf8',
      ),
    ) as unknown;
    clock.setSystemTime(Date.UTC(2024, 6, 5, 12, 5, 30));
    // The upgrade the node asks for (its state format), as loadState applies it to a stored version 1.
    const restore = sinon.stub(nodeState, 'loadState').callsFake((_node, format) => {
      const upgraded = nodeState.upgradeState(v1, 1, format as nodeState.StateFormat);
      assert.ok(upgraded.ok);
      return upgraded.state;
    });
    const saves = sinon.spy(nodeState, 'saveState');
    try {
      await helper.load(movingWindowNode, flow());
      restore.restore();
      const mw = helper.getNode('mw') as TestNode;
      const out = collect('out');
      mw.receive({ topic: 'f', payload: 300 });
      await clock.tickAsync(30_001); // 12:06:00.001
      await flush();
      assert.deepEqual(
        [out.length, out[0].payload.count, out[0].payload.min, out[0].payload.max],
        [1, 27, 40, 300],
      );
      await helper.unload();
      const [, state, format] = saves.lastCall.args as [unknown, Msg, nodeState.StateFormat];
      assert.equal(format.version, 2);
      assert.equal(state.keys.f.window.kind, 'panes');
    } finally {
      restore.restore();
      saves.restore();
    }
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
      const firstOutput = (o: Msg | Msg[]) => (Array.isArray(o) ? o[0] : o); // a bare msg goes to output 1
      mw._inputCallback(
        { topic: 'k', ...m },
        (o: Msg | Msg[]) => firstOutput(o) && out.push(firstOutput(o)),
        done,
      );
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
    assert.equal(out.length, 0, 'per-sample windows wait for the watermark (newest − 30 s)');
    mw.receive({ topic: 'k', flush: true });
    await flush();
    assert.deepEqual(
      out.map((m) => [m.payload.end, m.payload.count]),
      [
        ['2024-07-05T11:59:40.000Z', 1],
        ['2024-07-05T12:00:00.000Z', 2],
      ],
    );
    assert.equal(late.length, 1);
    assert.equal(late[0].payload, 3);
    assert.match(late[0].reason, /late/);
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
    assert.equal(status.at(-1), '1 key');
  });

  describe('event time', function () {
    const MIN = 60_000;
    const T0 = Date.UTC(2024, 6, 5, 11, 0); // data time, an hour before the wall clock
    const iso = (ms: number) => new Date(ms).toISOString();

    /** Keys a, b, c: one sample every 10 s for 20 min (c skips minutes 7–12), values from the time. */
    function samples(): Array<{ topic: string; payload: number; timestamp: string; ms: number }> {
      const out = [];
      for (let ms = T0 + 10_000; ms <= T0 + 20 * MIN; ms += 10_000) {
        for (const topic of ['a', 'b', 'c']) {
          if (topic === 'c' && ms > T0 + 7 * MIN && ms <= T0 + 12 * MIN) continue;
          const payload = Math.round(100 * Math.sin(ms / 77_000) + (topic === 'b' ? 50 : 0)) / 10;
          out.push({ topic, payload, timestamp: iso(ms), ms });
        }
      }
      return out;
    }
    /** Deterministic shuffle within `boundMs`: each sample is delayed by 0…boundMs, then sorted by arrival. */
    function shuffledWithin<T extends { ms: number }>(xs: T[], boundMs: number): T[] {
      let seed = 42;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      return xs
        .map((x) => ({ x, at: x.ms + rand() * boundMs }))
        .sort((p, q) => p.at - q.at)
        .map((p) => p.x);
    }
    const byKeyAndEnd = (msgs: Msg[]) =>
      msgs
        .map((m) => ({ topic: m.topic, ...m.payload }))
        .sort((p, q) => (p.topic < q.topic ? -1 : p.topic > q.topic ? 1 : p.end < q.end ? -1 : 1));

    async function run(
      config: Record<string, unknown>,
      mode: 'live' | 'replay' | 'shuffled',
      latenessMs: number,
    ): Promise<{ out: Msg[]; late: Msg[] }> {
      await helper.load(movingWindowNode, flow({ timeProperty: 'timestamp', ...config }));
      const out = collect('out');
      const late = collect('late');
      const mw = helper.getNode('mw') as TestNode;
      const all = samples();
      if (mode === 'live') {
        // Each sample arrives 2 s after its time; the fake wall clock runs along.
        clock.setSystemTime(T0);
        for (const x of all) {
          if (x.ms + 2000 > Date.now()) await clock.tickAsync(x.ms + 2000 - Date.now());
          mw.receive({ topic: x.topic, payload: x.payload, timestamp: x.timestamp });
        }
      } else {
        for (const x of mode === 'replay' ? all : shuffledWithin(all, latenessMs))
          mw.receive({ topic: x.topic, payload: x.payload, timestamp: x.timestamp });
      }
      await flush();
      mw.receive({ flush: true, topic: '' });
      await flush();
      const result = { out: [...out], late: [...late] };
      await helper.unload();
      clock.setSystemTime(START);
      return result;
    }

    for (const [name, config] of [
      ['5 min every 1 min', { windowSeconds: 300, hopSeconds: 60, latenessSeconds: 30 }],
      [
        'per sample',
        { windowSeconds: 120, hopSeconds: 0, latenessSeconds: 30, aggregates: ['mean', 'count', 'stdev'] },
      ],
      ['empty windows too', { windowSeconds: 60, hopSeconds: 60, latenessSeconds: 30, emitEmpty: true }],
    ] as const) {
      it(`gives identical windows live, replayed at full speed and shuffled within the lateness (${name})`, async () => {
        const live = await run(config, 'live', 30_000);
        const replay = await run(config, 'replay', 30_000);
        const shuffled = await run(config, 'shuffled', 30_000);
        assert.ok(live.out.length > 50, `${live.out.length} windows`);
        assert.equal(live.late.length + replay.late.length + shuffled.late.length, 0);
        assert.deepEqual(byKeyAndEnd(replay.out), byKeyAndEnd(live.out));
        assert.deepEqual(byKeyAndEnd(shuffled.out), byKeyAndEnd(live.out));
      });
    }

    it('a shuffle beyond the lateness sends the stragglers to output 2 and never mixes them in', async () => {
      const config = { windowSeconds: 300, hopSeconds: 60, latenessSeconds: 0 };
      const { out, late } = await run(config, 'shuffled', 30_000);
      assert.ok(late.length > 0);
      const lateMs = new Set(late.map((m) => Date.parse(m.timestamp)));
      for (const m of late) assert.match(m.reason, /late/);
      // Every emitted count equals the samples of its window that were not late.
      for (const w of out) {
        const end = Date.parse(w.payload.end);
        const expected = samples().filter(
          (x) =>
            x.topic === w.topic &&
            x.ms > end - 300_000 &&
            x.ms <= end &&
            !(lateMs.has(x.ms) && late.some((m) => m.topic === x.topic && Date.parse(m.timestamp) === x.ms)),
        ).length;
        assert.equal(w.payload.count, expected, `${w.topic} ${w.payload.end}`);
      }
    });

    it('closes the window ending T as soon as the record stamped T arrives, with exactly its 5 records', async () => {
      await helper.load(
        movingWindowNode,
        flow({ timeProperty: 'timestamp', latenessSeconds: 0, idleSeconds: 90 }),
      );
      const out = collect('out');
      const mw = helper.getNode('mw') as TestNode;
      clock.setSystemTime(T0);
      // The first poll hands on 10 records oldest first, then one a minute at :05.
      for (let m = -9; m <= 0; m++) mw.receive({ topic: 'co2', payload: m, timestamp: iso(T0 + m * MIN) });
      await flush();
      assert.deepEqual(
        out.map((o) => o.payload.count),
        [1, 2, 3, 4, 5, 5, 5, 5, 5, 5],
      );
      for (let m = 1; m <= 3; m++) {
        await clock.tickAsync(T0 + m * MIN + 5000 - Date.now());
        const before = out.length;
        mw.receive({ topic: 'co2', payload: m, timestamp: iso(T0 + m * MIN) });
        await flush();
        assert.equal(out.length, before + 1, 'emitted on the record, not on the clock');
        assert.deepEqual(out.at(-1)?.payload, {
          start: iso(T0 + (m - 5) * MIN),
          end: iso(T0 + m * MIN),
          count: 5,
          mean: m - 2,
          min: m - 4,
          max: m,
        });
      }
    });

    it('without warm-up windows, a first poll of 10 records oldest first gives only full windows', async () => {
      await helper.load(
        movingWindowNode,
        flow({ timeProperty: 'timestamp', emitWarmup: false, aggregates: ['count', 'mean'] }),
      );
      const out = collect('out');
      const mw = helper.getNode('mw') as TestNode;
      for (let m = -9; m <= 0; m++) mw.receive({ topic: 'co2', payload: m, timestamp: iso(T0 + m * MIN) });
      await flush();
      assert.deepEqual(
        out.map((o) => [o.payload.end, o.payload.count, o.payload.mean]),
        [-4, -3, -2, -1, 0].map((m) => [iso(T0 + m * MIN), 5, m - 2]),
      );
    });

    it('emits the windows of a key that went quiet once it is idle, and counts later samples as late', async () => {
      await helper.load(
        movingWindowNode,
        flow({ timeProperty: 'timestamp', windowSeconds: 120, idleSeconds: 60 }),
      );
      const out = collect('out');
      const late = collect('late');
      const mw = helper.getNode('mw') as TestNode;
      clock.setSystemTime(T0 + 30_000);
      mw.receive({ topic: 'q', payload: 4, timestamp: iso(T0 + 30_000) });
      await clock.tickAsync(59_000);
      assert.equal(out.length, 0, 'not idle yet');
      await clock.tickAsync(31_002); // quiet 90 s: the watermark follows the clock from +60 s
      assert.deepEqual(
        out.map((o) => [o.payload.end, o.payload.count]),
        [[iso(T0 + MIN), 1]],
      );
      await clock.tickAsync(MIN);
      assert.deepEqual(
        out.map((o) => o.payload.end),
        [iso(T0 + MIN), iso(T0 + 2 * MIN)],
      );
      mw.receive({ topic: 'q', payload: 5, timestamp: iso(T0 + 90_000) });
      await flush();
      assert.equal(late.length, 1);
    });

    it('rejects a sample stamped beyond maxFutureSeconds as bad input without moving the watermark', async () => {
      await helper.load(
        movingWindowNode,
        flow({ timeProperty: 'timestamp', hopSeconds: 60, windowSeconds: 60 }),
      );
      const out = collect('out');
      const late = collect('late');
      const mw = helper.getNode('mw') as TestNode;
      const errors: string[] = [];
      (mw as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
        errors.push(String(call.args[0])),
      );
      mw.receive({ topic: 'k', payload: 1, timestamp: iso(START - 30_000) });
      mw.receive({ topic: 'k', payload: 99, timestamp: '2099-01-01T00:00:00Z' });
      mw.receive({ topic: 'k', payload: 2, timestamp: iso(START - 10_000) });
      mw.receive({ topic: 'k', payload: 3, timestamp: iso(START + 240_000) }); // 4 min ahead: within 300 s
      await flush();
      assert.equal(late.length, 0, 'the 2099 sample did not make later samples late');
      assert.equal(errors.length, 1);
      assert.match(errors[0], /more than 300 s ahead/);
      assert.deepEqual(
        out.map((o) => [o.payload.end, o.payload.count, o.payload.mean]),
        [
          ['2024-07-05T12:00:00.000Z', 1, 1],
          ['2024-07-05T12:01:00.000Z', 1, 2],
        ],
      );
    });

    it('drops late samples when lateOutput is drop, counting them in the status', async () => {
      await helper.load(movingWindowNode, flow({ timeProperty: 'timestamp', lateOutput: 'drop' }));
      const late = collect('late');
      const mw = helper.getNode('mw') as TestNode;
      const status: string[] = [];
      (mw as unknown as NodeJS.EventEmitter).on('call:status', (call: { args: Array<{ text: string }> }) =>
        status.push(call.args[0].text),
      );
      mw.receive({ topic: 'k', payload: 1, timestamp: iso(START) });
      mw.receive({ topic: 'k', payload: 1, timestamp: iso(START - 120_000) });
      await flush();
      assert.equal(late.length, 0);
      assert.equal(status.at(-1), '1 key · 1 late');
    });

    it('holds at most maxKeys keys and warns once when the cap bites', async () => {
      await helper.load(movingWindowNode, flow({ maxKeys: 2 }));
      const mw = helper.getNode('mw') as TestNode;
      const warnings: string[] = [];
      (mw as unknown as NodeJS.EventEmitter).on('call:warn', (call: { args: unknown[] }) =>
        warnings.push(String(call.args[0])),
      );
      for (const topic of ['a', 'b', 'c', 'd', 'a']) mw.receive({ topic, payload: 1 });
      await flush();
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /2 keys held \(maxKeys\)/);
    });
  });
});
