import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createPartitionOperator, type OperatorSettings } from '../../nodes/core/partition-operator';
import {
  PartitionTurbineStats,
  type PartitionTurbineResult,
  type PartitionTurbineStatsState,
} from '../../nodes/core/partition-turbine-stats';
import { TurbineStats, type TurbineStatsOptions } from '../../nodes/core/turbine-stats';
import type { ImputeMethod } from '../../nodes/core/turbine-cleaning';

const HOUR = 3_600_000;
const MIN = 60_000;
const DAY0 = Date.parse('2026-03-28T00:00:00Z'); // the Europe/Zurich DST switch is on the 29th

interface Reading {
  key: string;
  t: number;
  v: number;
  seq: number;
}

const BASE = { periodSeconds: 86_400, timeZone: 'UTC', impute: 'linear' as ImputeMethod, madThreshold: 6 };

/** Reference without idle closing: one uninterrupted TurbineStats per key (the node's core), fed in stream order. */
function perKeyReference(readings: Reading[], options: Omit<TurbineStatsOptions, 'closeOnData'>) {
  const perKey = new Map<string, TurbineStats>();
  const out: PartitionTurbineResult[] = [];
  const refused: number[] = [];
  for (const r of readings) {
    let stats = perKey.get(r.key);
    if (!stats)
      perKey.set(r.key, (stats = new TurbineStats({ ...options, closeOnData: true, latenessMs: 0 })));
    if (!stats.add({ turbineId: r.key, timeMs: r.t, power: r.v, row: { time: r.t, value: r.v } })) {
      refused.push(r.seq);
      continue;
    }
    for (const p of stats.closeReady())
      for (const s of p.stats)
        out.push({ key: r.key, seq: r.seq, period: { start: s.start, end: s.end, day: p.day }, stats: s });
  }
  return { out, refused };
}

function feedAll(op: PartitionTurbineStats, readings: Reading[]) {
  const out: PartitionTurbineResult[] = [];
  const refused: number[] = [];
  for (const r of readings) {
    const added = op.add(r.key, r.t, r.v, r.seq);
    if (added.ok) out.push(...added.results);
    else refused.push(r.seq);
  }
  return { out, refused };
}

describe('PartitionTurbineStats (turbine-stats per key of one partition)', () => {
  it("closes a key's day at its first reading of the next day, cleaned as the node does", () => {
    const op = new PartitionTurbineStats({ ...BASE, minPower: 0, maxPower: 10 });
    const day1 = [2, 4, 4, 99, 6, 4]; // 99 is above maxPower: an outlier, imputed linearly (→ 5)
    day1.forEach((v, i) =>
      assert.deepEqual(op.add('wind/t1', DAY0 + i * HOUR, v, i + 1), { ok: true, results: [] }),
    );
    assert.ok(
      op.add('wind/t1', DAY0 + 2 * HOUR, 4, 7).ok,
      'a duplicate (same time, same value) is taken, then dropped',
    );
    assert.deepEqual(
      op.add('wind/t2', DAY0 + 25 * HOUR, 1, 8),
      { ok: true, results: [] },
      "t2's time closes nothing of t1",
    );
    const closed = op.add('wind/t1', DAY0 + 24 * HOUR, 3, 9);
    assert.ok(closed.ok);
    assert.equal(closed.results.length, 1);
    const [r] = closed.results;
    assert.deepEqual(r.period, {
      start: '2026-03-28T00:00:00.000Z',
      end: '2026-03-29T00:00:00.000Z',
      day: '2026-03-28',
    });
    assert.deepEqual(
      {
        key: r.key,
        seq: r.seq,
        min: r.stats.min,
        max: r.stats.max,
        mean: r.stats.mean,
        count: r.stats.count,
      },
      { key: 'wind/t1', seq: 9, min: 2, max: 6, mean: 25 / 6, count: 6 },
    );
    assert.deepEqual(r.stats.quality, { rows: 7, missing: 0, imputed: 1, outliers: 1, duplicates: 1 });
    assert.equal(r.stats.turbine_id, 'wind/t1');

    const late = op.add('wind/t1', DAY0 + 23 * HOUR, 1, 10);
    assert.equal(late.ok, false);
    assert.match(
      late.ok ? '' : late.reason,
      /2026-03-28T23:00:00.000Z of key "wind\/t1" is in a period already emitted/,
    );
    assert.ok(
      op.add('wind/t1', DAY0 + 24.5 * HOUR, 1, 11).ok,
      'readings of the open day may come in any order',
    );
    assert.equal(op.seq, 11);
    assert.equal(op.openReadings, 3);
  });

  it("with idleSeconds closes a quiet turbine's day by the partition's event time and refuses readings behind it", () => {
    const op = new PartitionTurbineStats({ ...BASE, idleMs: 2 * HOUR });
    assert.ok(op.add('wind/quiet', DAY0 + 20 * HOUR, 5, 1).ok);
    assert.ok(op.add('wind/busy', DAY0 + 23 * HOUR, 1, 2).ok);
    const own = op.add('wind/busy', DAY0 + 25 * HOUR, 1, 3);
    assert.deepEqual(own.ok && own.results.map((r) => r.key), ['wind/busy']);
    const idle = op.add('wind/busy', DAY0 + 26 * HOUR, 1, 4);
    assert.ok(idle.ok);
    assert.deepEqual(
      idle.results.map((r) => [r.key, r.period.day, r.stats.mean, r.seq]),
      [['wind/quiet', '2026-03-28', 5, 4]],
    );
    const behind = op.add('wind/other', DAY0 + 22 * HOUR, 1, 5);
    assert.equal(behind.ok, false);
    assert.match(
      behind.ok ? '' : behind.reason,
      /ended at or before the partition's idle watermark \(2026-03-29T00:00:00.000Z\)/,
    );
    assert.ok(op.add('wind/quiet', DAY0 + 27 * HOUR, 7, 6).ok, 'the quiet turbine starts its next day');
  });

  it('refuses a new key beyond maxKeys and a sample with no key, no time or a non-number; the others go on', () => {
    const op = new PartitionTurbineStats({ ...BASE, maxKeys: 1 });
    assert.ok(op.add('wind/t1', DAY0, 1, 1).ok);
    const refused = op.add('wind/t2', DAY0, 1, 2);
    assert.match(refused.ok ? '' : refused.reason, /maxKeys.*"wind\/t2"/);
    assert.ok(op.add('wind/t1', DAY0 + HOUR, 1, 3).ok);
    for (const [key, time, value] of [
      ['', DAY0 + HOUR, 1],
      ['wind/t1', NaN, 1],
      ['wind/t1', DAY0 + HOUR, Infinity],
    ] as const) {
      const bad = op.add(key, time, value, 4);
      assert.match(bad.ok ? '' : bad.reason, /needs a key, a time and a finite number/);
    }
    assert.equal(op.openReadings, 2, 'bad samples are not held');
  });

  it('checks its settings with the node’s own errors', () => {
    assert.throws(
      () => new PartitionTurbineStats({ ...BASE, periodSeconds: 7000 }),
      /periodSeconds 7000 must divide a day/,
    );
    assert.throws(
      () => new PartitionTurbineStats({ ...BASE, minPower: 5, maxPower: 1 }),
      /minPower 5 is above maxPower 1/,
    );
    assert.throws(() => new PartitionTurbineStats({ ...BASE, timeZone: 'Mars/Base' }), /Mars\/Base/);
  });

  it('restores only a state with the same period, zone and cleaning', () => {
    const settings: OperatorSettings = {
      operator: 'turbine-stats',
      windowMs: 1,
      hopMs: 1,
      minPower: 0,
      maxPower: 10,
    };
    const first = createPartitionOperator(settings);
    assert.equal(first.kind, 'turbine-stats');
    first.operator.add('wind/t1', DAY0, 1, 5);
    const state = JSON.parse(JSON.stringify(first.operator.toJSON())) as PartitionTurbineStatsState;
    assert.equal(createPartitionOperator(settings, state).operator.seq, 5);
    assert.equal(createPartitionOperator({ ...settings, maxPower: 11 }, state).operator.seq, 0);
    assert.equal(createPartitionOperator({ ...settings, timeZone: 'Europe/Zurich' }, state).operator.seq, 0);
    assert.equal(createPartitionOperator({ ...settings, operator: 'anomaly-stream' }, state).operator.seq, 0);
  });

  const readingsArb = fc.array(
    fc.record({
      key: fc.constantFrom('wind/a', 'wind/b', 'sea/c'),
      // Mostly forward, sometimes back (reordered within a period, or late), sometimes a duplicate.
      step: fc.oneof(fc.integer({ min: -90, max: 400 }), fc.constant(0)),
      v: fc.oneof(fc.integer({ min: -20, max: 120 }), fc.constant(50)),
    }),
    { minLength: 1, maxLength: 200 },
  );

  const toReadings = (raw: { key: string; step: number; v: number }[]): Reading[] => {
    const clock = new Map<string, number>();
    return raw.map((r, i) => {
      const t = (clock.get(r.key) ?? DAY0) + r.step * MIN;
      clock.set(r.key, Math.max(t, clock.get(r.key) ?? DAY0));
      return { key: r.key, t, v: r.v / 4, seq: i + 1 };
    });
  };

  /** The first owner checkpoints at `cut`, dies at `crash`; the next restores and replays from the checkpoint. */
  function checkpointAndReplay(settings: OperatorSettings, readings: Reading[], cut: number, crash: number) {
    const first = createPartitionOperator(settings).operator as PartitionTurbineStats;
    let checkpoint = '';
    const emitted: PartitionTurbineResult[] = [];
    for (const r of readings.slice(0, crash)) {
      if (r.seq === cut + 1) checkpoint = JSON.stringify(first.toJSON());
      const added = first.add(r.key, r.t, r.v, r.seq);
      if (added.ok) emitted.push(...added.results);
    }
    if (checkpoint === '') checkpoint = JSON.stringify(first.toJSON());
    const second = createPartitionOperator(settings, JSON.parse(checkpoint) as PartitionTurbineStatsState)
      .operator as PartitionTurbineStats;
    assert.equal(second.seq, cut);
    const replay = feedAll(second, readings.slice(cut));
    // What the first owner emitted after the checkpoint, the replay emits identically.
    const id = (r: PartitionTurbineResult) => `${r.key}@${r.period.start}`;
    const again = new Map(replay.out.map((r) => [id(r), r]));
    for (const r of emitted.filter((r) => r.seq > cut)) assert.deepEqual(again.get(id(r)), r);
    return { out: [...emitted.filter((r) => r.seq <= cut), ...replay.out], refusedAfterCut: replay.refused };
  }

  it('checkpoint at any position + replay == one uninterrupted turbine-stats core per key (no idle closing)', () => {
    fc.assert(
      fc.property(
        readingsArb,
        fc.nat(200),
        fc.nat(200),
        fc.constantFrom(3600, 21_600, 86_400),
        fc.constantFrom('UTC', 'Europe/Zurich'),
        fc.constantFrom<ImputeMethod>('linear', 'median', 'none'),
        fc.constantFrom(0, 3),
        (raw, cutAt, crashAfter, periodSeconds, timeZone, impute, madThreshold) => {
          const readings = toReadings(raw);
          const cut = Math.min(cutAt, readings.length);
          const crash = Math.min(cut + crashAfter, readings.length);
          const cleaning = { periodSeconds, timeZone, impute, madThreshold, minPower: 0, maxPower: 25 };
          const settings: OperatorSettings = {
            operator: 'turbine-stats',
            windowMs: 1,
            hopMs: 1,
            ...cleaning,
          };
          const got = checkpointAndReplay(settings, readings, cut, crash);
          const expected = perKeyReference(readings, cleaning);
          assert.deepEqual(got.out, expected.out);
          assert.deepEqual(
            got.refusedAfterCut,
            expected.refused.filter((seq) => seq > cut),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('checkpoint at any position + replay == one uninterrupted run with idle closing', () => {
    fc.assert(
      fc.property(
        readingsArb,
        fc.nat(200),
        fc.nat(200),
        fc.constantFrom(3600, 21_600),
        fc.integer({ min: 1, max: 8 }),
        (raw, cutAt, crashAfter, periodSeconds, idleHours) => {
          const readings = toReadings(raw);
          const cut = Math.min(cutAt, readings.length);
          const crash = Math.min(cut + crashAfter, readings.length);
          const settings: OperatorSettings = {
            operator: 'turbine-stats',
            windowMs: 1,
            hopMs: 1,
            periodSeconds,
            timeZone: 'Europe/Zurich',
            idleMs: idleHours * HOUR,
          };
          const got = checkpointAndReplay(settings, readings, cut, crash);
          const uninterrupted = feedAll(
            createPartitionOperator(settings).operator as PartitionTurbineStats,
            readings,
          );
          assert.deepEqual(got.out, uninterrupted.out);
          assert.deepEqual(
            got.refusedAfterCut,
            uninterrupted.refused.filter((seq) => seq > cut),
          );
          // Every key-period comes out at most once.
          const ids = got.out.map((r) => `${r.key}@${r.period.start}`);
          assert.equal(new Set(ids).size, ids.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
