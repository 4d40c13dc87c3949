import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import * as nodeState from '../../nodes/shared/node-state';
import csvSourceNode from '../../nodes/csv-source/csv-source';
import turbineStatsNode from '../../nodes/turbine-stats/turbine-stats';
import type { Msg } from '../../nodes/shared/node-red-types';
import { eventually } from '../harness/eventually';
import type { TurbinePeriodStats } from '../../nodes/core/turbine-stats';

helper.init(require.resolve('node-red'));

/** Test flows as the helper takes them (node-specific properties included). */
const flowOf = (items: object[]) => items as Parameters<typeof helper.load>[1];
type Loose = { on(event: string, fn: (call: { args: unknown[] }) => void): void };

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'windmill');

type Spy = { args: unknown[][]; lastCall?: { args: { text?: string }[] } };

const STATS: Record<string, unknown> & { id: string } = {
  id: 'stats',
  type: 'turbine-stats',
  turbineProperty: 'turbine_id',
  timeProperty: 'timestamp',
  powerProperty: 'power_output',
  periodSeconds: 86400,
  timezone: 'UTC',
  impute: 'linear',
  minPower: '0',
  maxPower: '10',
  closeOnData: false,
  wires: [['out'], ['rows']],
};

/** csv-source → turbine-stats, with the run report wired back in as msg.flush. */
function pipeline(stats: Record<string, unknown> = {}) {
  return [
    {
      id: 'src',
      type: 'csv-source',
      timeColumn: 'timestamp',
      numberColumns: 'turbine_id,wind_speed,wind_direction',
      batchSize: 1000,
      wires: [['stats'], ['flush']],
    },
    { id: 'flush', type: 'helper' },
    { ...STATS, ...stats },
    { id: 'out', type: 'helper' },
    { id: 'rows', type: 'helper' },
  ];
}

async function runFiles(filename: string, stats: Record<string, unknown> = {}) {
  await helper.load([csvSourceNode, turbineStatsNode], flowOf(pipeline(stats)));
  const periods: Msg[] = [];
  const rows: Msg[] = [];
  helper.getNode('out').on('input', (m: Msg) => periods.push(m));
  helper.getNode('rows').on('input', (m: Msg) => rows.push(m));
  const finished = new Promise<void>((resolve) => {
    helper.getNode('flush').on('input', (m: Msg) => {
      if (m.topic !== 'run') return;
      // The flush is handled once stats shows its progress; its periods are then queued for
      // delivery, which the next turn of the event loop completes (no fixed delay).
      const stats = helper.getNode('stats');
      stats.once('call:status', () => setImmediate(resolve));
      stats.receive({ flush: true });
    });
  });
  helper.getNode('src').receive({ filename });
  await finished;
  return { periods, rows };
}

describe('turbine-stats node', function () {
  this.timeout(20000);
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
  });

  it('emits one msg per day with the stats of all 15 turbines for the clean files (465 turbine-days)', async () => {
    const { periods, rows } = await runFiles(join(ROOT, 'data', 'windmill', '*.csv'));
    assert.equal(periods.length, 31);
    assert.ok(periods.every((p) => (p.payload as unknown[]).length === 15));
    assert.equal(periods[0].topic, '2022-03-01');
    assert.deepEqual(periods[0].period, {
      start: '2022-03-01T00:00:00.000Z',
      end: '2022-03-02T00:00:00.000Z',
      day: '2022-03-01',
    });
    const first = (periods[0].payload as TurbinePeriodStats[])[0];
    assert.deepEqual(Object.keys(first), [
      'turbine_id',
      'day',
      'start',
      'end',
      'min',
      'max',
      'mean',
      'count',
      'stdev',
      'quality',
    ]);
    assert.equal(first.turbine_id, 1);
    assert.equal(first.count, 24);
    assert.equal(
      rows.reduce((n, m) => n + (m.payload as unknown[]).length, 0),
      11160,
    );
    assert.equal((rows[0].payload as { imputed: boolean }[])[0].imputed, false);
    const status = helper.getNode('stats').status as unknown as Spy;
    assert.equal(status.lastCall?.args[0].text, '465 stats');
  });

  it('reports the quality counts of the David-dmh variant and leaves out rows without a turbine id', async () => {
    const file = join(FIXTURES, 'David-dmh_wind-pipeline_modified', 'data_group_1.csv');
    const { periods, rows } = await runFiles(file);
    const day1 = periods[0].payload as TurbinePeriodStats[];
    assert.deepEqual(
      day1.map((s) => [s.turbine_id, s.quality]),
      [
        [1, { rows: 27, missing: 0, imputed: 1, outliers: 1, duplicates: 4 }],
        [2, { rows: 23, missing: 0, imputed: 1, outliers: 1, duplicates: 0 }],
        [3, { rows: 24, missing: 2, imputed: 2, outliers: 0, duplicates: 0 }],
        [4, { rows: 24, missing: 0, imputed: 1, outliers: 1, duplicates: 0 }],
        [5, { rows: 24, missing: 0, imputed: 2, outliers: 2, duplicates: 0 }],
      ],
    );
    const day1Rows = rows[0].payload as { turbine_id: number; power_output: number; imputed: boolean }[];
    assert.equal(day1Rows.filter((r) => r.imputed).length, 7);
    assert.ok(day1Rows.every((r) => r.power_output >= 0 && r.power_output <= 10));
    const warnings = (helper.getNode('stats').warn as unknown as Spy).args.map((a) => String(a[0]));
    assert.equal(warnings.filter((w) => /turbine_id is missing; row left out/.test(w)).length, 2);
  });

  it('emits a day as soon as a later row arrives when closing on data', async () => {
    await helper.load(
      turbineStatsNode,
      flowOf([
        { ...STATS, closeOnData: true },
        { id: 'out', type: 'helper' },
        { id: 'rows', type: 'helper' },
      ]),
    );
    const out: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    const day = Date.UTC(2022, 2, 1);
    const node = helper.getNode('stats');
    node.receive({
      payload: [1, 2, 3].map((h) => ({ turbine_id: 'a', timestamp: day + h * 3_600_000, power_output: h })),
    });
    node.receive({ payload: { turbine_id: 'a', timestamp: '2022-03-02T00:00:00Z', power_output: 9 } });
    await eventually('a period out', 10_000, async () => (out.length >= 1 ? true : undefined), 5);
    assert.equal(out.length, 1);
    assert.deepEqual((out[0].payload as TurbinePeriodStats[])[0], {
      turbine_id: 'a',
      day: '2022-03-01',
      start: '2022-03-01T00:00:00.000Z',
      end: '2022-03-02T00:00:00.000Z',
      min: 1,
      max: 3,
      mean: 2,
      count: 3,
      stdev: 1,
      quality: { rows: 3, missing: 0, imputed: 0, outliers: 0, duplicates: 0 },
    });
  });

  describe('in event time', () => {
    const T = Date.UTC(2022, 2, 26, 23); // Zurich midnight before the DST switch (a 23-hour day follows)
    type InputCallback = (msg: object, send: (out: unknown) => void, done: (err?: Error) => void) => void;
    const rowsFor = (days: number) => {
      const list: Record<string, unknown>[] = [];
      for (let i = 0; i < days * 144; i++)
        for (const turbine of [1, 2, 3])
          list.push({
            turbine_id: turbine,
            timestamp: T + i * 600_000,
            power_output: i % 97 === 5 ? 50 : ((i * 7 + turbine * 13) % 40) / 10,
          });
      return list;
    };
    const config = {
      ...STATS,
      closeOnData: true,
      timezone: 'Europe/Zurich',
      latenessSeconds: 3600,
      idleSeconds: 7200,
    };
    async function run(
      batches: Record<string, unknown>[][],
      beforeEach?: (batch: Record<string, unknown>[]) => Promise<void>,
    ) {
      await helper.load(
        turbineStatsNode,
        flowOf([config, { id: 'out', type: 'helper' }, { id: 'rows', type: 'helper' }]),
      );
      const node = helper.getNode('stats') as unknown as { _inputCallback: InputCallback };
      const sent: unknown[] = [];
      const errors: unknown[] = [];
      for (const batch of [...batches, []]) {
        if (beforeEach) await beforeEach(batch);
        const msg = batch.length > 0 ? { payload: batch } : { flush: true };
        node._inputCallback(
          msg,
          (out) => sent.push(...(out as [Msg | null, Msg | null]).map((m) => m?.payload ?? null)),
          (err) => err && errors.push(err),
        );
      }
      await helper.unload();
      assert.deepEqual(errors, []);
      return sent;
    }

    it('gives identical days live under fake timers, replayed in batches, and shuffled within the lateness', async () => {
      const rows = rowsFor(4);
      const clock = sinon.useFakeTimers({ now: T - 1000, toFake: ['setInterval', 'clearInterval', 'Date'] });
      const live = await run(
        rows.map((r) => [r]),
        async (batch) => {
          const t = batch[0]?.timestamp as number | undefined;
          if (t !== undefined && t + 1000 > Date.now()) await clock.tickAsync(t + 1000 - Date.now());
        },
      );
      clock.restore();
      const replayed = await run(
        Array.from({ length: Math.ceil(rows.length / 500) }, (_, i) => rows.slice(i * 500, i * 500 + 500)),
      );
      // Shuffled within blocks of 18 rows (50 minutes of data < 1 h lateness).
      const shuffled: Record<string, unknown>[] = [];
      for (let i = 0; i < rows.length; i += 18) shuffled.push(...rows.slice(i, i + 18).reverse());
      const jittered = await run(shuffled.map((r) => [r]));
      const days = (live.filter((p, i) => i % 2 === 0 && p !== null) as TurbinePeriodStats[][]).map(
        (p) => p[0].day,
      );
      assert.deepEqual(days, ['2022-03-27', '2022-03-28', '2022-03-29', '2022-03-30', '2022-03-31']);
      assert.deepEqual(replayed, live);
      assert.deepEqual(jittered, live);
    });

    it('refuses a row stamped more than maxFutureSeconds ahead of the clock; it does not close the days', async () => {
      const clock = sinon.useFakeTimers({ now: T + 86_400_000, toFake: ['Date'] });
      try {
        await helper.load(
          turbineStatsNode,
          flowOf([config, { id: 'out', type: 'helper' }, { id: 'rows', type: 'helper' }]),
        );
        const node = helper.getNode('stats') as unknown as {
          _inputCallback: InputCallback;
          warn: sinon.SinonSpy;
        };
        const sent: unknown[] = [];
        node._inputCallback(
          {
            payload: [
              ...rowsFor(1).slice(0, 30),
              { turbine_id: 1, timestamp: Date.UTC(2099, 0, 1), power_output: 1 },
            ],
          },
          (out) => sent.push(out),
          () => {},
        );
        assert.equal(sent.length, 0);
        assert.match(String(node.warn.lastCall.args[0]), /more than 300 s ahead of the clock/);
      } finally {
        clock.restore();
      }
    });
  });

  it('keeps open rows across a restart (saved in the context store on close) and forgets them on msg.reset', async () => {
    const flowDef = flowOf([
      { ...STATS, closeOnData: true },
      { id: 'out', type: 'helper' },
      { id: 'rows', type: 'helper' },
    ]);
    await helper.load(turbineStatsNode, flowDef);
    const first = helper.getNode('stats');
    first.receive({ payload: [{ turbine_id: 7, timestamp: Date.UTC(2022, 2, 1, 5), power_output: 4 }] });
    await new Promise((r) => setTimeout(r, 20));
    let saved: unknown;
    first.on('close', () => (saved = JSON.parse(JSON.stringify(first.context().get('state')))));
    await helper.unload();
    assert.equal((saved as { turbines: unknown[] }).turbines.length, 1);
    // The helper's memory store does not outlive a reload, so the saved value is handed over.
    sinon.stub(nodeState, 'loadState').returns(saved);
    await helper.load(turbineStatsNode, flowDef);
    const out: Msg[] = [];
    helper.getNode('out').on('input', (m: Msg) => out.push(m));
    helper.getNode('stats').receive({
      payload: [{ turbine_id: 7, timestamp: Date.UTC(2022, 2, 1, 6), power_output: 6 }],
      flush: true,
    });
    await eventually('a period out', 10_000, async () => (out.length >= 1 ? true : undefined), 5);
    assert.equal(out.length, 1);
    const restored = (out[0].payload as TurbinePeriodStats[])[0];
    assert.deepEqual([restored.count, restored.mean], [2, 5], 'the row from before the restart counts');
    helper
      .getNode('stats')
      .receive({ payload: [{ turbine_id: 7, timestamp: Date.UTC(2022, 2, 2, 6), power_output: 1 }] });
    helper.getNode('stats').receive({ reset: true });
    helper.getNode('stats').receive({ flush: true });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(out.length, 1, 'nothing left to emit after the reset');
  });

  it('rejects a payload that is not rows with done(err)', async () => {
    await helper.load(
      turbineStatsNode,
      flowOf([STATS, { id: 'out', type: 'helper' }, { id: 'rows', type: 'helper' }]),
    );
    const node = helper.getNode('stats');
    const errored = new Promise<unknown[]>((resolve) =>
      (node as unknown as Loose).on('call:error', (call: { args: unknown[] }) => resolve(call.args)),
    );
    node.receive({ payload: 42 });
    const args = await errored;
    assert.match(String(args[0]), /payload must be a row object or an array of rows/);
  });

  it('refuses a period that does not divide a day', async () => {
    await helper.load(turbineStatsNode, flowOf([{ ...STATS, periodSeconds: 7000 }]));
    const status = helper.getNode('stats').status as unknown as Spy;
    assert.equal(status.lastCall?.args[0].text, 'bad config');
  });
});
