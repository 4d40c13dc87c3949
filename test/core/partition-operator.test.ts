import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bucketAt, CovResampler, type ResampleMethod } from '../../nodes/core/cov-resample';
import {
  createPartitionOperator,
  PartitionCovResampler,
  type PartitionBucketResult,
  type PartitionCovState,
} from '../../nodes/core/partition-operator';
import { PartitionWindows } from '../../nodes/core/partition-windows';

const MIN = 60_000;
const HALF_HOUR = 30 * MIN;
const T0 = Date.parse('2026-03-28T20:00:00Z');

interface Reading {
  key: string;
  t: number;
  v: number;
  seq: number;
}

/** Naive reference: one uninterrupted CovResampler per key, fed that key's readings in stream order. */
function referenceBuckets(readings: Reading[], method: ResampleMethod, timeZone: string) {
  const perKey = new Map<string, CovResampler>();
  const out: PartitionBucketResult[] = [];
  const refused: number[] = [];
  for (const r of readings) {
    let resampler = perKey.get(r.key);
    if (!resampler) {
      resampler = new CovResampler({ bucketMs: HALF_HOUR, method, timeZone, maxCarryMs: 0, graceMs: 0 });
      perKey.set(r.key, resampler);
    }
    if (resampler.add(r.t, r.v)) refused.push(r.seq);
    else out.push(...resampler.closeByData().map((b) => ({ key: r.key, ...b, seq: r.seq })));
  }
  return { out, refused };
}

const bucketId = (b: PartitionBucketResult) => `${b.key}@${b.startMs}`;

describe('PartitionCovResampler (COV resampling of one partition, checkpointed with its position)', () => {
  it('emits the half hours of a key once a reading at or after their end arrives', () => {
    const op = new PartitionCovResampler({ bucketMs: HALF_HOUR, method: 'locf' });
    assert.deepEqual(op.add('m/a', T0, 2, 1), { ok: true, results: [] });
    assert.deepEqual(op.add('m/b', T0, 9, 2), { ok: true, results: [] });
    const closed = op.add('m/a', T0 + 45 * MIN, 4, 3);
    assert.ok(closed.ok);
    assert.deepEqual(closed.results, [
      {
        key: 'm/a',
        bucketId: 41,
        startMs: T0,
        endMs: T0 + HALF_HOUR,
        mean: 2,
        energy: 1,
        count: 1,
        filled: false,
        stale: false,
        seq: 3,
      },
    ]);
    const late = op.add('m/a', T0 + 10 * MIN, 1, 4);
    assert.equal(late.ok, false);
    assert.equal(op.seq, 4, 'the position moves past a refused reading');
    assert.equal(op.keyCount, 2);
  });

  it('refuses a new key beyond maxKeys and keeps the others going', () => {
    const op = new PartitionCovResampler({ bucketMs: HALF_HOUR, method: 'locf', maxKeys: 1 });
    assert.ok(op.add('m/a', T0, 1, 1).ok);
    assert.equal(op.add('m/b', T0, 1, 2).ok, false);
    assert.ok(op.add('m/a', T0 + HALF_HOUR, 1, 3).ok);
  });

  it('restores only a state of the same operator and layout; old moving-window checkpoints still restore', () => {
    const windows = new PartitionWindows(5 * MIN, MIN);
    windows.add('s/a', 30_000, 1, 7);
    const oldCheckpoint = JSON.parse(JSON.stringify(windows.toJSON()));
    assert.equal('operator' in oldCheckpoint, false, 'the moving-window checkpoint shape is unchanged');
    const restored = createPartitionOperator({ windowMs: 5 * MIN, hopMs: MIN }, oldCheckpoint);
    assert.equal(restored.kind, 'moving-window');
    assert.deepEqual(restored.operator.toJSON(), windows.toJSON());
    const cov = createPartitionOperator(
      { operator: 'cov-resample', windowMs: 5 * MIN, hopMs: MIN },
      oldCheckpoint,
    );
    assert.equal(cov.kind, 'cov-resample');
    assert.equal(cov.operator.seq, 0, 'another operator’s state is not restored: replay from the start');

    const op = new PartitionCovResampler({ bucketMs: HALF_HOUR, method: 'linear' });
    op.add('m/a', T0, 3, 11);
    const state = JSON.parse(JSON.stringify(op.toJSON())) as PartitionCovState;
    const same = createPartitionOperator(
      { operator: 'cov-resample', bucketMs: HALF_HOUR, method: 'linear', windowMs: 1, hopMs: 1 },
      state,
    );
    assert.equal(same.operator.seq, 11);
    const other = createPartitionOperator(
      { operator: 'cov-resample', method: 'locf', windowMs: 1, hopMs: 1 },
      state,
    );
    assert.equal(other.operator.seq, 0);
    assert.equal(createPartitionOperator({ windowMs: 5 * MIN, hopMs: MIN }, state).operator.seq, 0);
  });

  it('checkpoint at a random position + replay from its seq gives exactly one uninterrupted CovResampler per key', () => {
    const reading = fc.record({
      key: fc.constantFrom('m/a', 'm/b', 'm/c', 'n/d'),
      // Mostly forward in time, sometimes back (late for an emitted bucket, or reordered within one).
      gap: fc.integer({ min: -20 * MIN, max: 150 * MIN }),
      v: fc.integer({ min: -500, max: 500 }),
    });
    fc.assert(
      fc.property(
        fc.array(reading, { minLength: 1, maxLength: 150 }),
        fc.nat(150),
        fc.nat(150),
        fc.constantFrom<ResampleMethod>('locf', 'linear'),
        fc.constantFrom('UTC', 'Europe/London'),
        (raw, cutAt, crashAfter, method, timeZone) => {
          const clock = new Map<string, number>();
          const readings: Reading[] = raw.map((r, i) => {
            const t = (clock.get(r.key) ?? T0) + r.gap;
            clock.set(r.key, Math.max(t, clock.get(r.key) ?? T0));
            return { key: r.key, t, v: r.v / 4, seq: i + 1 };
          });
          const cut = Math.min(cutAt, readings.length);
          const crash = Math.min(cut + crashAfter, readings.length);
          const settings = { operator: 'cov-resample' as const, method, timeZone, windowMs: 1, hopMs: 1 };

          // The first owner runs past the checkpoint and dies at `crash`; its results after the
          // checkpoint may or may not have reached the sinks.
          const first = createPartitionOperator(settings);
          assert.equal(first.kind, 'cov-resample');
          const firstOp = first.operator as PartitionCovResampler;
          const emitted: PartitionBucketResult[] = [];
          const refused: number[] = [];
          let checkpoint = '';
          const feed = (op: PartitionCovResampler, r: Reading, into: PartitionBucketResult[]) => {
            const added = op.add(r.key, r.t, r.v, r.seq);
            if (added.ok) into.push(...added.results);
            else refused.push(r.seq);
          };
          for (const r of readings.slice(0, crash)) {
            if (r.seq === cut + 1) checkpoint = JSON.stringify(firstOp.toJSON());
            feed(firstOp, r, emitted);
          }
          if (checkpoint === '') checkpoint = JSON.stringify(firstOp.toJSON());

          // The next owner restores the checkpoint and replays the stream after its position.
          const second = createPartitionOperator(settings, JSON.parse(checkpoint) as PartitionCovState);
          const secondOp = second.operator as PartitionCovResampler;
          assert.equal(secondOp.seq, cut);
          const replayed: PartitionBucketResult[] = [];
          const refusedBefore = refused.filter((s) => s <= cut);
          refused.length = 0;
          refused.push(...refusedBefore);
          for (const r of readings.slice(secondOp.seq)) feed(secondOp, r, replayed);
          assert.equal(secondOp.seq, readings.length);

          const reference = referenceBuckets(readings, method, timeZone);
          const kept = emitted.filter((b) => b.seq <= cut);
          assert.deepEqual([...kept, ...replayed], reference.out);
          assert.deepEqual(refused, reference.refused);
          // What the first owner emitted after the checkpoint, the replay emits identically.
          const again = new Map(replayed.map((b) => [bucketId(b), b]));
          for (const b of emitted.filter((b) => b.seq > cut)) assert.deepEqual(again.get(bucketId(b)), b);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Naive reference for idle closing: per key CovResampler; after each reading every key closes up to the watermark. */
function referenceIdleBuckets(readings: Reading[], method: ResampleMethod, timeZone: string, idleMs: number) {
  const settings = { bucketMs: HALF_HOUR, method, timeZone, maxCarryMs: 0, graceMs: 0 };
  const perKey = new Map<string, CovResampler>();
  const out: PartitionBucketResult[] = [];
  const refused: number[] = [];
  let newest = -Infinity;
  let watermark = -Infinity;
  for (const r of readings) {
    if (r.t < watermark) {
      refused.push(r.seq);
      continue;
    }
    const resampler = perKey.get(r.key) ?? new CovResampler(settings);
    if (resampler.add(r.t, r.v)) {
      refused.push(r.seq);
      continue;
    }
    perKey.set(r.key, resampler);
    out.push(...resampler.closeByData().map((b) => ({ key: r.key, ...b, seq: r.seq })));
    newest = Math.max(newest, r.t);
    const next = bucketAt(newest - idleMs, HALF_HOUR, timeZone).startMs;
    if (next > watermark) {
      watermark = next;
      for (const [key, other] of perKey) {
        // At most a day past the key's newest reading (the cov-resampler's idle fallback).
        const until = Math.min(watermark, (other.newestTimeMs as number) + 86_400_000);
        out.push(...other.closeThrough(until).map((b) => ({ key, ...b, seq: r.seq })));
      }
    }
  }
  return { out, refused };
}

describe('PartitionCovResampler idle closing (partition watermark)', () => {
  it('closes a quiet meter’s buckets once the partition is idle past them, and refuses readings before the watermark', () => {
    const op = new PartitionCovResampler({ bucketMs: HALF_HOUR, method: 'locf', idleMs: 60 * MIN });
    assert.ok(op.add('m/a', T0 + 10 * MIN, 2, 1).ok);
    assert.ok(op.add('m/b', T0, 4, 2).ok);
    const b = op.add('m/b', T0 + 45 * MIN, 6, 3);
    assert.ok(b.ok);
    assert.deepEqual(
      b.results.map((r) => [r.key, r.startMs - T0]),
      [['m/b', 0]],
      'm/b closes its first half hour by its own data; nothing is idle yet',
    );
    const idle = op.add('m/b', T0 + 150 * MIN, 8, 4); // watermark = floor(T0 + 90 min) = T0 + 90 min
    assert.ok(idle.ok);
    assert.equal(op.watermark, T0 + 90 * MIN);
    const quiet = idle.results.filter((r) => r.key === 'm/a');
    assert.deepEqual(
      quiet.map(({ startMs, mean, energy, count, filled }) => [startMs - T0, mean, energy, count, filled]),
      [
        [0, 2, 1, 1, false], // covered from its reading at 00:10: mean 2 over the covered part
        [30 * MIN, 2, 1, 0, true],
        [60 * MIN, 2, 1, 0, true],
      ],
    );
    assert.ok(
      quiet.every((r) => r.seq === 4),
      'closed by the reading that moved the watermark',
    );
    const late = op.add('m/a', T0 + 80 * MIN, 3, 5);
    assert.equal(late.ok, false);
    assert.match((late as { reason: string }).reason, /before the partition's idle watermark/);
    assert.ok(op.add('m/a', T0 + 100 * MIN, 3, 6).ok, 'a reading in the open bucket is taken');
    assert.equal(op.add('m/c', T0, 1, 7).ok, false, 'a new key before the watermark too');
    assert.equal(op.keyCount, 2);
    // The clocks move with the checkpoint; with idle closing off they are not restored.
    const state = JSON.parse(JSON.stringify(op.toJSON())) as PartitionCovState;
    assert.equal(state.watermarkMs, T0 + 90 * MIN);
    assert.equal(PartitionCovResampler.fromJSON(state, 0, 60 * MIN).watermark, T0 + 90 * MIN);
    assert.equal(PartitionCovResampler.fromJSON(state).watermark, -Infinity);
    assert.equal(
      'watermarkMs' in new PartitionCovResampler({ bucketMs: HALF_HOUR, method: 'locf' }).toJSON(),
      false,
    );
  });

  it('checkpoint at any position + replay gives exactly the uninterrupted idle-closed buckets', () => {
    const reading = fc.record({
      key: fc.constantFrom('m/a', 'm/b', 'm/c', 'n/d'),
      gap: fc.integer({ min: -90 * MIN, max: 100 * MIN }),
      v: fc.integer({ min: -500, max: 500 }),
    });
    fc.assert(
      fc.property(
        fc.array(reading, { minLength: 1, maxLength: 150 }),
        fc.nat(150),
        fc.nat(150),
        fc.constantFrom<ResampleMethod>('locf', 'linear'),
        fc.constantFrom('UTC', 'Europe/London'),
        fc.constantFrom(20 * MIN, 2 * 60 * MIN, 30 * 60 * MIN),
        (raw, cutAt, crashAfter, method, timeZone, idleMs) => {
          let clock = T0;
          const readings: Reading[] = raw.map((r, i) => {
            clock += Math.max(r.gap, -10 * MIN) / 4; // partition time moves on, keys interleave
            return { key: r.key, t: clock + (r.gap < 0 ? r.gap : 0), v: r.v / 4, seq: i + 1 };
          });
          const cut = Math.min(cutAt, readings.length);
          const crash = Math.min(cut + crashAfter, readings.length);
          const settings = {
            operator: 'cov-resample' as const,
            method,
            timeZone,
            idleMs,
            windowMs: 1,
            hopMs: 1,
          };
          const refused: number[] = [];
          const feed = (op: PartitionCovResampler, r: Reading, into: PartitionBucketResult[]) => {
            const added = op.add(r.key, r.t, r.v, r.seq);
            if (added.ok) into.push(...added.results);
            else refused.push(r.seq);
          };
          const first = createPartitionOperator(settings).operator as PartitionCovResampler;
          const emitted: PartitionBucketResult[] = [];
          let checkpoint = '';
          for (const r of readings.slice(0, crash)) {
            if (r.seq === cut + 1) checkpoint = JSON.stringify(first.toJSON());
            feed(first, r, emitted);
          }
          if (checkpoint === '') checkpoint = JSON.stringify(first.toJSON());
          const second = createPartitionOperator(settings, JSON.parse(checkpoint) as PartitionCovState)
            .operator as PartitionCovResampler;
          assert.equal(second.seq, cut);
          const replayed: PartitionBucketResult[] = [];
          const refusedBefore = refused.filter((s) => s <= cut);
          refused.length = 0;
          refused.push(...refusedBefore);
          for (const r of readings.slice(cut)) feed(second, r, replayed);

          const reference = referenceIdleBuckets(readings, method, timeZone, idleMs);
          assert.deepEqual([...emitted.filter((b) => b.seq <= cut), ...replayed], reference.out);
          assert.deepEqual(refused, reference.refused);
          assert.deepEqual(
            emitted.filter((b) => b.seq > cut),
            replayed.filter((b) => b.seq <= crash),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
