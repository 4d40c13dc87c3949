import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import fc from 'fast-check';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';
import { EventOrderBuffer } from '../../nodes/core/event-order';

helper.init(require.resolve('node-red'));

type Msg = { topic: string; payload: number; timestamp: number; anomaly?: boolean; z?: number | null };
type Port = Msg | null;
type TestNode = ReturnType<typeof helper.getNode> & {
  _inputCallback: (msg: object, send: (out: unknown) => void, done: (err?: Error) => void) => void;
};

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

async function load(extra: Record<string, unknown> = {}): Promise<TestNode> {
  const flow = [
    {
      id: 'flag',
      type: 'anomaly-flagger',
      mode: 'stream',
      k: 2,
      sigmas: 2,
      property: 'payload',
      keyProperty: 'topic',
      windowSize: 20,
      minCount: 5,
      timeProperty: 'timestamp',
      latenessSeconds: 180,
      idleSeconds: 600,
      wires: [[], []],
      ...extra,
    },
  ];
  await helper.load(anomalyFlaggerNode, flow as Parameters<typeof helper.load>[1]);
  return helper.getNode('flag') as TestNode;
}

/** One value a minute per key, with a spike now and then. */
const samples: Msg[] = Array.from({ length: 120 }, (_, i) => ({
  topic: i % 2 === 0 ? 'a' : 'b',
  payload: i % 37 === 20 ? 40 : 10 + ((i * 7) % 5),
  timestamp: T0 + Math.floor(i / 2) * MIN,
}));

function feed(node: TestNode, msgs: object[], before?: (msg: object) => Promise<void> | void) {
  const scored: Array<[string, number, number, boolean | undefined]> = [];
  const errors: Error[] = [];
  const collect = (out: unknown) => {
    const [all] = out as [Port, Port];
    if (all) scored.push([all.topic, all.timestamp, all.payload, all.anomaly]);
  };
  return {
    scored,
    errors,
    async run() {
      for (const msg of msgs) {
        await before?.(msg);
        node._inputCallback({ ...msg }, collect, (err) => err && errors.push(err));
      }
      node._inputCallback({ flush: true }, collect, (err) => err && errors.push(err));
      (node as unknown as { send: (out: unknown) => void }).send = collect;
    },
  };
}

describe('anomaly-flagger stream mode in event time', () => {
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
  });

  it('scores identically live under fake timers, as a fast replay, and shuffled within the lateness', async () => {
    const clock = sinon.useFakeTimers({ now: T0 - 1000, toFake: ['setInterval', 'clearInterval', 'Date'] });
    let node = await load();
    const live = feed(node, samples, async (m) => {
      const t = (m as Msg).timestamp + 1000;
      if (t > Date.now()) await clock.tickAsync(t - Date.now());
    });
    await live.run();
    await helper.unload();
    clock.restore();

    node = await load();
    const fast = feed(node, samples);
    await fast.run();
    await helper.unload();

    // Reverse blocks of 6 msgs (3 minutes of both keys): at most 2 min behind the newest.
    const shuffled: Msg[] = [];
    for (let i = 0; i < samples.length; i += 6) shuffled.push(...samples.slice(i, i + 6).reverse());
    node = await load();
    const jittered = feed(node, shuffled);
    await jittered.run();

    assert.deepEqual(live.errors, []);
    assert.equal(live.scored.length, samples.length);
    assert.ok(
      live.scored.some((s) => s[3] === true),
      'some spikes are flagged',
    );
    // Each key's results in its own order; keys interleave as their msgs arrive.
    const perKey = (scored: typeof live.scored) => ['a', 'b'].map((k) => scored.filter((s) => s[0] === k));
    assert.deepEqual(perKey(fast.scored), perKey(live.scored));
    assert.deepEqual(perKey(jittered.scored), perKey(live.scored));
  });

  it('counts a value older than one already scored as late, does not score it, and warns once per key', async () => {
    const node = await load({ latenessSeconds: 0 });
    const run = feed(node, [samples[0], samples[2], samples[0], samples[0]]);
    await run.run();
    assert.equal(run.scored.length, 2);
    const status = (node as unknown as { status: sinon.SinonSpy }).status;
    assert.equal(status.lastCall.args[0].text, '0 of 2 · 2 late');
  });

  it('refuses a value stamped more than maxFutureSeconds ahead of the clock with done(err)', async () => {
    const node = await load({ latenessSeconds: 0 });
    const run = feed(node, [{ ...samples[0], timestamp: Date.UTC(2099, 0, 1) }, samples[0]]);
    await run.run();
    assert.equal(run.errors.length, 1);
    assert.match(run.errors[0].message, /ahead of the clock.*maxFutureSeconds/);
    assert.equal(run.scored.length, 1, 'the key is not stopped');
  });

  it('keeps arrival order when Time is blank (old flows)', async () => {
    const node = await load({ timeProperty: undefined, latenessSeconds: undefined });
    const run = feed(node, [samples[2], samples[0]]);
    await run.run();
    assert.deepEqual(
      run.scored.map((s) => s[1]),
      [samples[2].timestamp, samples[0].timestamp],
    );
  });
});

describe('EventOrderBuffer', () => {
  it('releases in time order once the watermark reaches a sample, and refuses late and future ones', () => {
    const order = new EventOrderBuffer<string>({ latenessMs: 10, maxFutureMs: 0 });
    assert.deepEqual(order.add('k', 20, 'b', 100), { ok: true, released: [] });
    assert.deepEqual(order.add('k', 15, 'a', 100), { ok: true, released: [] });
    assert.deepEqual(order.add('k', 31, 'c', 100), { ok: true, released: ['a', 'b'] });
    assert.equal((order.add('k', 19, 'x', 100) as { kind: string }).kind, 'late');
    assert.equal((order.add('k', 101, 'y', 100) as { kind: string }).kind, 'future');
    assert.deepEqual(order.flush(), [['k', ['c']]]);
    assert.equal(order.heldCount, 0);
  });

  it('holds at most maxKeys keys: a new key forgets the one idle the longest and releases its held samples', () => {
    const order = new EventOrderBuffer<string>({ latenessMs: 100, maxFutureMs: 0 }, 2);
    assert.deepEqual(order.add('a', 10, 'a10', 1000), { ok: true, released: [] });
    assert.deepEqual(order.add('b', 20, 'b20', 1000), { ok: true, released: [] });
    assert.deepEqual(order.add('a', 11, 'a11', 1000), { ok: true, released: [] }); // b is now the oldest
    assert.deepEqual(order.add('c', 30, 'c30', 1000), { ok: true, released: [], forgotten: ['b', ['b20']] });
    assert.equal(order.evictedKeys, 1);
    assert.equal(order.heldCount, 3);
    assert.equal(
      (order.add('d', 5000, 'd', 1000) as { kind: string }).kind,
      'future',
      'refused: nothing forgotten',
    );
    assert.equal(order.evictedKeys, 1);
    assert.deepEqual(order.flush(), [
      ['a', ['a10', 'a11']],
      ['c', ['c30']],
    ]);
  });

  it('with room for every key, bounded and unbounded release the same samples in the same order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ key: fc.constantFrom('a', 'b', 'c'), timeMs: fc.integer({ min: 0, max: 500 }) }),
          {
            maxLength: 60,
          },
        ),
        (samples) => {
          const run = (maxKeys?: number) => {
            const order = new EventOrderBuffer<number>({ latenessMs: 50, maxFutureMs: 0 }, maxKeys);
            const out = samples.map((s, i) => order.add(s.key, s.timeMs, i, 1000));
            return [out, order.flush()];
          };
          assert.deepEqual(run(3), run());
        },
      ),
    );
  });

  it('with fewer keys than arrive, every accepted sample is still released exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), timeMs: fc.integer({ min: 0, max: 500 }) }),
          {
            maxLength: 60,
          },
        ),
        fc.integer({ min: 1, max: 3 }),
        (samples, maxKeys) => {
          const order = new EventOrderBuffer<number>({ latenessMs: 50, maxFutureMs: 0 }, maxKeys);
          const released: number[] = [];
          const accepted: number[] = [];
          samples.forEach((s, i) => {
            const r = order.add(s.key, s.timeMs, i, 1000);
            if (!r.ok) return;
            accepted.push(i);
            released.push(...(r.forgotten?.[1] ?? []), ...r.released);
          });
          for (const [, items] of order.flush()) released.push(...items);
          assert.deepEqual(
            [...released].sort((x, y) => x - y),
            accepted,
          );
        },
      ),
    );
  });
});
