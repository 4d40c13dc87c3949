import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import seriesRollupNode from '../../nodes/series-rollup/series-rollup';
import { rollupWatermark } from '../../nodes/shared/rollup-progress';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type TestNode = ReturnType<typeof helper.getNode> & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** Waits for a condition the runtime meets asynchronously (Catch delivery), up to 200 turns. */
const until = async (ready: () => boolean) => {
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(ready(), 'condition not met');
};

const T0 = Date.UTC(2021, 4, 1);
const point = (series: string, timeMs: number, hz: number) => ({
  measurement: 'grid_frequency',
  tags: { series },
  fields: { hz },
  timestamp: timeMs,
});

function flow(config: Record<string, unknown> = {}) {
  return [
    { id: 'rollup', type: 'series-rollup', wires: [['raw'], ['rollups']], ...config },
    { id: 'raw', type: 'helper' },
    { id: 'rollups', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

async function load(config: Record<string, unknown> = {}) {
  await helper.load([seriesRollupNode, catchNode], flow(config));
  const got = { raw: [] as Msg[], rollups: [] as Msg[], caught: [] as Msg[] };
  for (const name of ['raw', 'rollups', 'caught'] as const)
    helper.getNode(name).on('input', (m: Msg) => got[name].push(m));
  return { node: helper.getNode('rollup') as TestNode, got };
}

/** A file's worth of batches: 2 series, 3 minutes at 10 s. */
function batches(): Msg[] {
  const out: Msg[] = [];
  for (const series of ['a', 'b']) {
    const points = [];
    for (let t = T0; t < T0 + 180_000; t += 10_000)
      points.push(point(series, t, 50 + ((t / 10_000) % 3) / 100));
    out.push({ payload: points.slice(0, 9) }, { payload: points.slice(9) });
  }
  return out;
}

describe('series-rollup node', () => {
  afterEach(() => helper.unload());

  it('passes the raw msg on and writes each closed bucket once, per level, with its retention policy', async () => {
    const { node, got } = await load({ levels: '1m,15m', retentionPolicy: 'rollup_{level}' });
    for (const msg of batches()) node.receive(msg);
    await settle();
    assert.equal(got.raw.length, 4, 'every batch goes on unchanged');
    const minutes = got.rollups.flatMap((m) => m.payload);
    assert.ok(got.rollups.every((m) => m.topic === '1m' && m.retentionPolicy === 'rollup_1m'));
    // the watermark passed minutes 0 and 1 of each series; minute 2 and the 15m bucket stay open
    assert.deepEqual(
      minutes.map((p: Msg) => [p.tags.series, p.timestamp, p.fields.count]),
      [
        ['a', T0, 6],
        ['a', T0 + 60_000, 6],
        ['b', T0, 6],
        ['b', T0 + 60_000, 6],
      ],
    );
    const first = minutes[0].fields;
    assert.equal(first.mean, first.sum / first.count);
    assert.equal(first.step_ms, undefined, 'the catalog fields are on the coarsest level only');
    assert.equal(minutes[0].measurement, 'grid_frequency_1m');

    const before = got.rollups.length;
    node.receive({ flush: true });
    await settle();
    const flushed = got.rollups.slice(before);
    assert.deepEqual(
      flushed.map((m) => [m.topic, m.retentionPolicy, m.payload.length]),
      [
        ['1m', 'rollup_1m', 2],
        ['15m', 'rollup_15m', 2],
      ],
    );
    assert.equal(flushed[1].payload[0].fields.count, 18);
    assert.equal(flushed[1].payload[0].fields.step_ms, 10_000);
    assert.equal(flushed[1].payload[0].fields.first_ms, T0);
    assert.equal(flushed[1].payload[0].fields.last_ms, T0 + 170_000);
    assert.equal(got.raw.length, 4, 'a flush msg without points is not passed on');
  });

  it('rewrites the same points when a file is read again after its flush (idempotent)', async () => {
    const { node, got } = await load();
    const once = async () => {
      const from = got.rollups.length;
      for (const msg of batches()) node.receive(msg);
      node.receive({ flush: true });
      await settle();
      return got.rollups.slice(from).flatMap((m) => m.payload);
    };
    const first = await once();
    const second = await once();
    assert.ok(first.length > 0);
    assert.deepEqual(second, first);
  });

  it('tells series-request how far each series is rolled up until the flush completes it', async () => {
    const { node } = await load({ latenessSeconds: 5 });
    node.receive({ payload: [point('w', T0, 50), point('w', T0 + 90_000, 50)] });
    await settle();
    assert.equal(rollupWatermark('grid_frequency', 'w'), T0 + 85_000);
    node.receive({ flush: true });
    await settle();
    assert.equal(rollupWatermark('grid_frequency', 'w'), undefined);
  });

  it('forgets open buckets on msg.reset without writing them', async () => {
    const { node, got } = await load();
    node.receive({ payload: [point('a', T0, 50), point('a', T0 + 1000, 50)] });
    node.receive({ reset: true });
    node.receive({ flush: true });
    await settle();
    assert.equal(got.rollups.length, 0);
  });

  it('reports points it cannot read with done(err) and keeps the readable ones', async () => {
    const { node, got } = await load();
    node.receive({
      payload: [point('a', T0, 50), { measurement: 'grid_frequency', tags: {}, fields: { hz: 1 } }],
    });
    node.receive({ payload: 'not points' });
    await until(() => got.caught.length === 2);
    assert.match(got.caught[0].error.message, /1 point\(s\) without a numeric fields\.hz/);
    assert.equal(got.raw.length, 1, 'the msg with a readable point goes on, the other does not');
  });

  it('fails every msg with a clear error when the levels do not nest', async () => {
    const { node, got } = await load({ levels: '2m,5m' });
    node.receive({ payload: [point('a', T0, 50)] });
    await until(() => got.caught.length === 1);
    assert.match(got.caught[0].error.message, /not a multiple of 2m/);
  });
});
