import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_ROLLUP_LEVELS,
  parseLevels,
  SeriesRollup,
  type RollupBucket,
} from '../../nodes/core/series-rollup';
import { combineBucketRows, planPieces, type RollupSource } from '../../nodes/core/series-query';

const MIN = 60_000;
const DAY = 86_400_000;

/** Naive buckets of sorted rows: per level, per bucket start, the rows in it. */
function naiveBuckets(rows: [number, number][], levelMs: number) {
  const out = new Map<number, number[]>();
  for (const [t, v] of rows) {
    const start = Math.floor(t / levelMs) * levelMs;
    out.set(start, [...(out.get(start) ?? []), v]);
  }
  return out;
}

function byLevel(buckets: RollupBucket[], level: string) {
  return new Map(buckets.filter((b) => b.level === level).map((b) => [b.startMs, b]));
}

const rowsArbitrary = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 3 * DAY }), fc.double({ min: 49, max: 51, noNaN: true })), {
    maxLength: 300,
  })
  .map((rows) => {
    // distinct times, as InfluxDB keeps one point per time
    const seen = new Map<number, number>();
    for (const [t, v] of rows) seen.set(t, v);
    return [...seen.entries()].sort((a, b) => a[0] - b[0]);
  });

describe('series-rollup (core)', () => {
  it('gives every level exactly the count, sum, min and max of a naive grouping', () => {
    fc.assert(
      fc.property(rowsArbitrary, (rows) => {
        const rollup = new SeriesRollup();
        const closed: RollupBucket[] = [];
        for (const [t, v] of rows) rollup.add('s', t, v, closed);
        closed.push(...rollup.flush());
        for (const level of DEFAULT_ROLLUP_LEVELS) {
          const expected = naiveBuckets(rows, level.ms);
          const actual = byLevel(closed, level.name);
          assert.equal(actual.size, expected.size, level.name);
          for (const [start, values] of expected) {
            const b = actual.get(start)!;
            assert.equal(b.count, values.length);
            assert.ok(Math.abs(b.sum - values.reduce((a, v) => a + v, 0)) < 1e-9);
            assert.equal(b.min, Math.min(...values));
            assert.equal(b.max, Math.max(...values));
          }
        }
      }),
    );
  });

  it('closes a bucket once the watermark passes its end, and not before', () => {
    const rollup = new SeriesRollup(DEFAULT_ROLLUP_LEVELS, 10_000);
    assert.deepEqual(rollup.add('s', 0, 50), []);
    assert.deepEqual(rollup.add('s', MIN + 9_000, 50), [], 'watermark 59 s: the first minute stays open');
    const closed = rollup.add('s', MIN + 10_000, 51);
    assert.deepEqual(
      closed.map((b) => [b.level, b.startMs, b.count]),
      [['1m', 0, 1]],
    );
  });

  it('lets rows within the lateness update their bucket and leaves later ones out of every level', () => {
    const rollup = new SeriesRollup(DEFAULT_ROLLUP_LEVELS, 30_000);
    rollup.add('s', 50_000, 50);
    rollup.add('s', 80_000, 50); // watermark 50 s
    rollup.add('s', 40_000, 52); // late but within the bound: counts
    const closed = rollup.add('s', 130_000, 50); // watermark 100 s closes minute 0
    assert.equal(closed[0].count, 2);
    assert.equal(closed[0].max, 52);
    rollup.add('s', 10_000, 60); // its minute is closed: late
    assert.equal(rollup.lateRows, 1);
    const rest = rollup.flush();
    const day = rest.find((b) => b.level === '1d')!;
    assert.equal(day.count, 4, 'the late row is left out of the coarser levels too');
    assert.equal(day.max, 52);
  });

  it('emits the same buckets whatever the order within the lateness bound, and again after a flush', () => {
    fc.assert(
      fc.property(rowsArbitrary, fc.integer({ min: 0, max: 1000 }), (rows, seed) => {
        const latenessMs = 120_000;
        const jittered = rows
          .map(([t, v], i) => ({ t, v, key: t + ((i * 7919 + seed) % 100_000) }))
          .sort((a, b) => a.key - b.key);
        const run = (input: { t: number; v: number }[]) => {
          const rollup = new SeriesRollup(DEFAULT_ROLLUP_LEVELS, latenessMs);
          const closed: RollupBucket[] = [];
          for (const { t, v } of input) rollup.add('s', t, v, closed);
          closed.push(...rollup.flush());
          return closed.map((b) => `${b.level}@${b.startMs}:${b.count}:${b.min}:${b.max}`).sort();
        };
        const sorted = run(rows.map(([t, v]) => ({ t, v })));
        assert.deepEqual(run(jittered), sorted);
      }),
    );
  });

  it('records the smallest step between rows', () => {
    const rollup = new SeriesRollup();
    for (let t = 0; t < 5000; t += 1000) rollup.add('s', t, 50);
    const day = rollup.flush().find((b) => b.level === '1d')!;
    assert.equal(day.stepMs, 1000);
    assert.equal(day.firstMs, 0);
    assert.equal(day.lastMs, 4000);
  });

  it('reads levels and refuses ones that do not nest', () => {
    assert.deepEqual(
      parseLevels('1h, 1m,15m,1d').map((l) => l.name),
      ['1m', '15m', '1h', '1d'],
    );
    assert.throws(() => parseLevels('2m,5m'), /not a multiple of 2m/);
    assert.throws(() => parseLevels('7m'), /divide a day/);
    assert.throws(() => parseLevels('1x'), /like 1m/);
  });
});

describe('planPieces + combineBucketRows (exact answers from rollups)', () => {
  const rollups: RollupSource[] = DEFAULT_ROLLUP_LEVELS.map((l) => ({ level: l.name, ms: l.ms }));

  it('covers the range exactly once, each piece whole buckets of its source', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 * DAY }),
        fc.integer({ min: 1, max: 3 * DAY }),
        fc.constantFrom(1000, 30_000, MIN, 7 * MIN, 15 * MIN, 3_600_000, 6 * 3_600_000, DAY),
        (start, length, resolutionMs) => {
          const pieces = planPieces(start, start + length, resolutionMs, rollups);
          let at = start;
          for (const p of [...pieces].sort((a, b) => a.startMs - b.startMs)) {
            assert.equal(p.startMs, at);
            at = p.endMs;
            if (p.source !== 'raw') {
              assert.equal(resolutionMs % p.source.ms, 0);
              assert.equal(p.startMs % p.source.ms, 0);
              assert.equal(p.endMs % p.source.ms, 0);
            } else if (resolutionMs >= MIN && resolutionMs % MIN === 0) {
              assert.ok(p.endMs - p.startMs < MIN, 'raw only for the partial minutes at the edges');
            }
          }
          assert.equal(at, start + length);
        },
      ),
    );
  });

  it('reads rollups only up to the watermark of a series still being ingested, the rest from finer sources', () => {
    const H = 3_600_000;
    const watermark = 5 * H + 17 * MIN + 30_000;
    const pieces = planPieces(0, DAY, H, rollups, watermark).map((p) => [
      p.source === 'raw' ? 'raw' : p.source.level,
      p.startMs,
      p.endMs,
    ]);
    assert.deepEqual(pieces, [
      ['1h', 0, 5 * H],
      ['15m', 5 * H, 5 * H + 15 * MIN],
      ['1m', 5 * H + 15 * MIN, 5 * H + 17 * MIN],
      ['raw', 5 * H + 17 * MIN, DAY],
    ]);
  });

  it('gives the mean of a naive grouping at 7 min from 1-minute buckets', () => {
    fc.assert(
      fc.property(rowsArbitrary, (rows) => {
        const rollup = new SeriesRollup();
        const closed: RollupBucket[] = [];
        for (const [t, v] of rows) rollup.add('s', t, v, closed);
        closed.push(...rollup.flush());
        const res = 7 * MIN;
        const bucketRows = closed
          .filter((b) => b.level === '1m')
          .map((b) => ({ time: Math.floor(b.startMs / res) * res, sum: b.sum, count: b.count }));
        const actual = combineBucketRows(bucketRows).get('') ?? [];
        const expected = [...naiveBuckets(rows, res).entries()].sort((a, b) => a[0] - b[0]);
        assert.equal(actual.length, expected.length);
        actual.forEach((a, i) => {
          assert.equal(a.time, new Date(expected[i][0]).toISOString());
          const mean = expected[i][1].reduce((s, v) => s + v, 0) / expected[i][1].length;
          assert.ok(Math.abs(a.value - mean) < 1e-9);
        });
      }),
    );
  });
});
