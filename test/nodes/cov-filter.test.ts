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

  describe('event time', function () {
    const T0 = Date.UTC(2023, 11, 31, 23); // data time, an hour before the wall clock
    const iso = (ms: number) => new Date(ms).toISOString();
    /** Keys a, b: one reading every 5 s for 30 min, mostly flat with steps, so heartbeats and thresholds both pass. */
    function readings() {
      const out: Array<{ topic: string; payload: number; timestamp: string; ms: number }> = [];
      for (let ms = T0; ms < T0 + 1_800_000; ms += 5000) {
        for (const topic of ['a', 'b']) {
          const step = Math.floor((ms - T0) / (topic === 'a' ? 170_000 : 230_000)) % 3;
          out.push({
            topic,
            payload: 10 + step + (Math.sin(ms / 9000) > 0.9 ? 0.4 : 0),
            timestamp: iso(ms),
            ms,
          });
        }
      }
      return out;
    }
    function shuffledWithin<T extends { ms: number }>(xs: T[], boundMs: number): T[] {
      let seed = 7;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      return xs
        .map((x) => ({ x, at: x.ms + rand() * boundMs }))
        .sort((p, q) => p.at - q.at)
        .map((p) => p.x);
    }
    async function run(mode: 'live' | 'replay' | 'shuffled', config: Record<string, unknown>) {
      await helper.load(covFilterNode, flow({ timeProperty: 'timestamp', ...config }));
      const out: Msg[] = [];
      helper.getNode('out').on('input', (m: Msg) => out.push(m));
      const cov = helper.getNode('cov') as TestNode;
      const all = readings();
      if (mode === 'live') {
        clock.setSystemTime(T0);
        for (const x of all) {
          if (x.ms + 1000 > Date.now()) await clock.tickAsync(x.ms + 1000 - Date.now());
          cov.receive({ topic: x.topic, payload: x.payload, timestamp: x.timestamp });
        }
      } else {
        clock.setSystemTime(T0 + 3_600_000);
        for (const x of mode === 'replay' ? all : shuffledWithin(all, 20_000))
          cov.receive({ topic: x.topic, payload: x.payload, timestamp: x.timestamp });
      }
      await flush();
      cov.receive({ flush: true });
      await flush();
      await helper.unload();
      return out
        .map((m) => [m.topic, m.timestamp, m.payload, m.cov.reason])
        .sort((p, q) => (p[0] + p[1] < q[0] + q[1] ? -1 : 1));
    }

    it('passes identical msgs live, replayed at full speed and shuffled within the lateness (heartbeat in event time)', async () => {
      const config = { absolute: 0.5, heartbeatSeconds: 60, latenessSeconds: 20 };
      const live = await run('live', config);
      const replay = await run('replay', config);
      const shuffled = await run('shuffled', config);
      assert.ok(live.filter((p) => p[3] === 'heartbeat').length > 20, 'heartbeats passed');
      assert.ok(live.filter((p) => p[3] === 'absolute').length > 10, 'changes passed');
      assert.deepEqual(replay, live);
      assert.deepEqual(shuffled, live);
    });

    it('measures the heartbeat between event times, not arrival times', async () => {
      const config = { absolute: 0.5, heartbeatSeconds: 60 };
      const replay = await run('replay', config);
      // 30 min of data replayed in one instant: one heartbeat per key per minute of data time, not none.
      const heartbeats = replay.filter((p) => p[0] === 'a' && p[3] === 'heartbeat').length;
      assert.ok(heartbeats >= 15, `${heartbeats} heartbeats`);
    });

    it('drops a msg stamped behind one already decided, and rejects one from the far future without moving the watermark', async () => {
      await helper.load(covFilterNode, flow({ timeProperty: 'timestamp', absolute: 0.5 }));
      const out: Msg[] = [];
      helper.getNode('out').on('input', (m: Msg) => out.push(m));
      const cov = helper.getNode('cov') as TestNode;
      const errors: string[] = [];
      (cov as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
        errors.push(String(call.args[0])),
      );
      const now = Date.now();
      cov.receive({ topic: 'k', payload: 1, timestamp: iso(now - 60_000) });
      cov.receive({ topic: 'k', payload: 5, timestamp: '2099-01-01T00:00:00Z' });
      cov.receive({ topic: 'k', payload: 9, timestamp: iso(now - 90_000) }); // late
      cov.receive({ topic: 'k', payload: 3, timestamp: iso(now - 30_000) });
      await flush();
      assert.deepEqual(
        out.map((m) => m.payload),
        [1, 3],
      );
      assert.equal(errors.length, 1);
      assert.match(errors[0], /ahead of the clock/);
    });
  });
});
