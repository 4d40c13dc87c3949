import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import covResamplerNode from '../../nodes/cov-resampler/cov-resampler';
import * as nodeState from '../../nodes/shared/node-state';

helper.init(require.resolve('node-red'));

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type TestNode = ReturnType<typeof helper.getNode> & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const DAY = Date.UTC(2019, 10, 25);

function flow(config: Record<string, unknown> = {}) {
  return [
    { id: 'rs', type: 'cov-resampler', bucketSeconds: 1800, wires: [['out']], ...config },
    { id: 'out', type: 'helper' },
  ];
}

function collect(): Msg[] {
  const got: Msg[] = [];
  helper.getNode('out').on('input', (m: Msg) => got.push(m));
  return got;
}

describe('cov-resampler node', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: DAY + 600_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(async () => {
    await helper.unload();
    clock.restore();
  });

  it('resamples the real unsorted COV file sent as one array and flushed: HalfHourId 1–48 with mean and energy', async () => {
    clock.setSystemTime(DAY + 2 * 86_400_000); // the file is from the past
    await helper.load(covResamplerNode, flow());
    const out = collect();
    const rows = readFileSync(
      join(__dirname, '../../../data/carbon/power_measurements_2019-11-25.csv'),
      'utf8',
    )
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    const rs = helper.getNode('rs') as TestNode;
    rs.receive({
      topic: 'abc123xyz',
      payload: rows.map(([time, , , value]) => ({ time, value: Number(value) })),
      flush: true,
    });
    await flush();
    assert.equal(out.length, 48);
    assert.deepEqual(
      out.map((m) => m.payload.bucket_id),
      Array.from({ length: 48 }, (_, i) => i + 1),
    );
    const hh12 = out[11];
    assert.equal(hh12.topic, 'abc123xyz');
    assert.equal(hh12.payload.start, '2019-11-25T05:30:00.000Z');
    assert.equal(hh12.payload.end, '2019-11-25T06:00:00.000Z');
    assert.ok(Math.abs(hh12.payload.mean - 1392.171883) < 5e-7);
    assert.ok(Math.abs(hh12.payload.energy - 1392.171883 / 2) < 5e-7);
    assert.equal(hh12.payload.count, 110);
    assert.equal(out[12].payload.filled, true); // 06:00–06:30: no reading, 0 kW carried
    assert.equal(
      out.reduce((n, m) => n + m.payload.count, 0),
      4916,
    );
  });

  it('closes a live key that went quiet when the clock passes bucket end plus grace, carrying the value through empty buckets', async () => {
    await helper.load(covResamplerNode, flow({ graceSeconds: 60, maxCarrySeconds: 2400 }));
    const out = collect();
    const rs = helper.getNode('rs') as TestNode;
    rs.receive({ topic: 'm', payload: 10, timestamp: new Date(DAY + 600_000).toISOString() }); // 00:10
    await flush();
    await clock.tickAsync(1_800_000 - 600_000 + 59_000); // 00:30:59
    await flush();
    assert.equal(out.length, 0);
    await clock.tickAsync(1000); // 00:31:00 = end + grace
    await flush();
    await clock.tickAsync(1_800_000); // 01:01:00
    await flush();
    assert.deepEqual(
      out.map((m) => [
        m.payload.bucket_id,
        m.payload.mean,
        m.payload.energy,
        m.payload.count,
        m.payload.filled,
        m.payload.stale,
      ]),
      [
        [1, 10, 5, 1, false, false],
        [2, 10, 5, 0, true, true], // carried 00:10 → 01:00 = 50 min > 40 min
      ],
    );
  });

  it('fails every bad msg through done(err), counts them in the status, and keeps good readings flowing', async () => {
    clock.setSystemTime(DAY + 86_400_000);
    await helper.load(covResamplerNode, flow());
    const rs = helper.getNode('rs') as TestNode;
    const sent: Msg[] = [];
    const inputs = [
      { payload: 5, timestamp: DAY },
      { payload: 'abc', timestamp: DAY + 1000 },
      { payload: NaN, timestamp: DAY + 2000 },
      { payload: Infinity, timestamp: DAY + 3000 },
      { timestamp: DAY + 4000 },
      { payload: 7, timestamp: 'yesterday' },
      { payload: 7, timestamp: Date.UTC(2099, 0, 1) },
      {
        payload: [
          { time: DAY + 900_000, value: 9 },
          { time: DAY + 1_000_000, value: 'x' },
        ],
      },
      { payload: 11, timestamp: DAY + 1_800_000 },
    ];
    const errors: string[] = [];
    for (const m of inputs) {
      const done = sinon.spy();
      rs._inputCallback({ topic: 'k', ...m }, (o: Msg[][]) => sent.push(...o[0]), done);
      assert.equal(done.callCount, 1);
      if (done.firstCall.args[0]) errors.push(String(done.firstCall.args[0]));
    }
    assert.equal(errors.length, 7, 'each bad msg fails, not only the first of the key');
    assert.match(errors[0], /key "k": msg.payload "abc" is not a number/);
    assert.match(errors[4], /msg.timestamp is not a time .*clear Time to use arrival time/);
    assert.match(errors[5], /ahead of the clock.*maxFutureSeconds/);
    assert.match(errors[6], /msg.payload\[1\].value/);
    // Bucket 1 from the good readings only: 5 kW 00:00–00:15, 9 kW 00:15–00:30.
    assert.deepEqual(
      sent.map((m) => [m.payload.bucket_id, m.payload.mean, m.payload.count]),
      [[1, 7, 2]],
    );
    assert.equal((rs.status as unknown as sinon.SinonSpy).lastCall.args[0].text, '1 key · 7 bad');
  });

  it('reaches a Catch node with each bad msg', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const catchNode = require('@node-red/nodes/core/common/25-catch.js');
    await helper.load([covResamplerNode, catchNode], [
      ...flow(),
      { id: 'c1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ] as Parameters<typeof helper.load>[1]);
    const caught: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
    const rs = helper.getNode('rs') as TestNode;
    for (let i = 0; i < 3; i++) rs.receive({ topic: 'k', payload: 'bad', timestamp: DAY });
    await flush();
    assert.equal(caught.length, 3);
  });

  it('uses arrival time when Time is blank', async () => {
    await helper.load(covResamplerNode, flow({ timeProperty: '' }));
    const out = collect();
    const rs = helper.getNode('rs') as TestNode;
    rs.receive({ topic: 'k', payload: 4 }); // 00:10
    clock.setSystemTime(DAY + 1_800_000 + 5000);
    rs.receive({ topic: 'k', payload: 6 }); // 00:30:05 closes bucket 1
    await flush();
    assert.deepEqual(
      out.map((m) => [m.payload.bucket_id, m.payload.mean, m.payload.count]),
      [[1, 4, 1]],
    );
  });

  it('closes buckets of a replayed key only by its data and flush, never by the wall clock', async () => {
    clock.setSystemTime(DAY + 5 * 86_400_000);
    await helper.load(covResamplerNode, flow({ idleSeconds: 60 }));
    const out = collect();
    const rs = helper.getNode('rs') as TestNode;
    rs.receive({ topic: 'k', payload: 4, timestamp: DAY + 600_000 });
    await flush();
    await clock.tickAsync(2 * 86_400_000); // two days of silence
    await flush();
    assert.equal(out.length, 0);
    rs.receive({ topic: 'k', payload: 6, timestamp: DAY + 86_400_000 + 60_000 }); // the next day's file
    await flush();
    assert.equal(out.length, 48);
    assert.equal((rs.status as unknown as sinon.SinonSpy).lastCall.args[0].text, '1 key · 48 out');
  });

  it('gives identical buckets live under fake timers, as a fast replay, and shuffled within the grace', async () => {
    const readings = Array.from({ length: 300 }, (_, i) => ({
      topic: 'k',
      payload: (i * 31) % 17,
      timestamp: DAY + 600_000 + i * 37_000 + ((i * 7919) % 30_000),
    }));
    const end = { topic: 'k', flush: true, until: new Date(DAY + 4 * 3_600_000).toISOString() };
    const config = { bucketSeconds: 600, graceSeconds: 120, idleSeconds: 60 };
    const run = async (msgs: Msg[], live: boolean) => {
      await helper.load(covResamplerNode, flow(config));
      const out = collect();
      const rs = helper.getNode('rs') as TestNode;
      for (const m of msgs) {
        if (live && m.timestamp + 1000 > Date.now()) await clock.tickAsync(m.timestamp + 1000 - Date.now());
        rs.receive(m);
      }
      if (live) await clock.tickAsync(1_800_000); // the idle fallback closes some of the rest live
      rs.receive(end);
      await flush();
      await helper.unload();
      return out.map((m) => m.payload);
    };
    const live = await run(readings, true);
    clock.setSystemTime(DAY + 86_400_000);
    const fast = await run(readings, false);
    const shuffled = [...readings];
    for (let i = 0; i + 2 < shuffled.length; i += 3)
      [shuffled[i], shuffled[i + 2]] = [shuffled[i + 2], shuffled[i]];
    const jittered = await run(shuffled, false);
    assert.ok(live.length >= 20);
    assert.deepEqual(fast, live);
    assert.deepEqual(jittered, live);
  });

  it('saves its state on close and restores it after a restart', async () => {
    clock.setSystemTime(DAY + 86_400_000);
    const saves = sinon.spy(nodeState, 'saveState');
    await helper.load(covResamplerNode, flow());
    (helper.getNode('rs') as TestNode).receive({ topic: 'k', payload: 4, timestamp: DAY + 60_000 });
    await flush();
    await helper.unload();
    saves.restore();
    const saved = JSON.parse(JSON.stringify(saves.lastCall.args[1]));
    assert.deepEqual(saved.k.values, [4]);
    const restore = sinon.stub(nodeState, 'loadState').returns(saved);
    try {
      await helper.load(covResamplerNode, flow());
    } finally {
      restore.restore();
    }
    const out = collect();
    (helper.getNode('rs') as TestNode).receive({ topic: 'k', payload: 8, timestamp: DAY + 1_800_000 });
    await flush();
    assert.deepEqual(
      out.map((m) => [m.payload.bucket_id, m.payload.mean]),
      [[1, 4]],
    );
  });
});
