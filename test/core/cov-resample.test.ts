import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  bucketAt,
  CovResampler,
  MAX_SPAN_BUCKETS,
  resampleCov,
  type Bucket,
  type ResampleSettings,
} from '../../nodes/core/cov-resample';
import { parseIsoTime } from '../../nodes/core/timestamp';

const DAY_MS = 86_400_000;

interface Reading {
  timeMs: number;
  value: number;
}

/** Exact float sum (Shewchuk's partials), so the reference has no summation error. */
function fsum(xs: readonly number[]): number {
  const partials: number[] = [];
  for (let x of xs) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  return partials.reduce((a, b) => a + b, 0);
}

/**
 * Reference: each UTC bucket recomputed from scratch. The bucket is cut at every reading
 * time inside it; on each piece the value is found by scanning ALL readings (LOCF: the
 * last one at or before the piece; linear: the line between the readings around it).
 * Time before the first reading is uncovered (ADR 0014): mean = ∫ / covered time.
 */
function naiveBuckets(sorted: readonly Reading[], s: ResampleSettings, untilMs: number) {
  const out: Array<Bucket & { absIntegral: number }> = [];
  if (sorted.length === 0) return out;
  const b = s.bucketMs;
  for (let start = Math.floor(sorted[0].timeMs / b) * b; start + b <= untilMs; start += b) {
    const end = start + b;
    const inside = sorted.filter((r) => r.timeMs >= start && r.timeMs < end);
    const cuts = [...new Set([start, ...inside.map((r) => r.timeMs), end])].sort((x, y) => x - y);
    const terms: number[] = [];
    let covered = 0;
    let stale = false;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [x0, x1] = [cuts[i], cuts[i + 1]];
      const mid = (x0 + x1) / 2;
      const prev = [...sorted].reverse().find((r) => r.timeMs <= mid);
      if (prev === undefined) continue;
      const next = sorted.find((r) => r.timeMs > mid);
      let term: number;
      if (s.method === 'linear' && next !== undefined) {
        const at = (x: number) =>
          prev.value + ((next.value - prev.value) / (next.timeMs - prev.timeMs)) * (x - prev.timeMs);
        term = ((at(x0) + at(x1)) / 2) * (x1 - x0);
      } else term = prev.value * (x1 - x0);
      terms.push(term);
      covered += x1 - x0;
      if (s.maxCarryMs > 0 && x1 - prev.timeMs > s.maxCarryMs) stale = true;
    }
    const mean = fsum(terms) / covered;
    out.push({
      bucketId: Math.floor((start - Math.floor(start / DAY_MS) * DAY_MS) / b) + 1,
      startMs: start,
      endMs: end,
      mean,
      energy: (mean * b) / 3_600_000,
      count: inside.length,
      filled: inside.length === 0,
      stale,
      absIntegral: fsum(terms.map(Math.abs)),
    });
  }
  return out;
}

function assertBucketsClose(got: Bucket[], want: ReturnType<typeof naiveBuckets>, floorFactor: number) {
  assert.equal(got.length, want.length, 'bucket count');
  got.forEach((g, i) => {
    const w = want[i];
    const at = `bucket ${new Date(w.startMs).toISOString()}`;
    assert.deepEqual(
      [g.bucketId, g.startMs, g.endMs, g.count, g.filled, g.stale],
      [w.bucketId, w.startMs, w.endMs, w.count, w.filled, w.stale],
      at,
    );
    const covered = w.endMs - w.startMs; // the floor only needs the order of magnitude
    const tol = 1e-9 * Math.abs(w.mean) + (floorFactor * w.absIntegral) / covered;
    assert.ok(Math.abs(g.mean - w.mean) <= tol, `${at}: mean ${g.mean} vs ${w.mean}`);
    assert.ok(Math.abs(g.energy - w.energy) <= 1e-9 * Math.abs(w.energy) + tol, `${at}: energy`);
  });
}

const value = fc.oneof(
  fc.constantFrom(1e12, -1e12, 1e-12, 0, -100),
  fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true }),
);
const T0 = Date.UTC(2019, 10, 25);
const readingsArb = fc.array(
  fc.record({
    timeMs: fc
      .oneof(fc.integer({ min: 0, max: 6 * 3_600_000 }), fc.constantFrom(0, 1_800_000, 1_800_001))
      .map((t) => T0 + t),
    value,
  }),
  { minLength: 1, maxLength: 80 },
);
const settingsArb = fc.record({
  bucketMs: fc.constantFrom(60_000, 900_000, 1_800_000, 3_600_000),
  method: fc.constantFrom<'locf' | 'linear'>('locf', 'linear'),
  timeZone: fc.constant('UTC'),
  maxCarryMs: fc.constantFrom(0, 600_000, 3_600_000),
  graceMs: fc.constant(0),
});

function stableSort(readings: readonly Reading[]): Reading[] {
  return readings
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.timeMs - b.r.timeMs || a.i - b.i)
    .map((x) => x.r);
}

describe('core COV resampler', () => {
  it('equals a from-scratch integration per bucket (LOCF and linear, unsorted input, duplicates, gaps, extreme values)', () => {
    fc.assert(
      fc.property(readingsArb, settingsArb, (readings, settings) => {
        const sorted = stableSort(readings);
        const until = T0 + DAY_MS;
        const got = resampleCov(readings, settings, until);
        assertBucketsClose(
          got,
          naiveBuckets(sorted, settings, until),
          settings.method === 'linear' ? 1e-14 : 1e-20,
        );
      }),
      { numRuns: 150 },
    );
  });

  it('streamed in shuffled chunks with grace, emits the same buckets as the batch over the readings it accepted', () => {
    fc.assert(
      fc.property(
        readingsArb,
        settingsArb.map((s) => ({ ...s, method: 'locf' as const })),
        fc.constantFrom(0, 600_000, 7_200_000),
        fc.integer({ min: 1, max: 10 }),
        (readings, settings, graceMs, chunk) => {
          const r = new CovResampler({ ...settings, graceMs });
          const accepted: Reading[] = [];
          const got: Bucket[] = [];
          for (let i = 0; i < readings.length; i += chunk) {
            for (const x of readings.slice(i, i + chunk))
              if (r.add(x.timeMs, x.value) === undefined) accepted.push(x);
            got.push(...r.closeByData());
          }
          got.push(...r.flush(T0 + DAY_MS));
          assertBucketsClose(got, naiveBuckets(stableSort(accepted), settings, T0 + DAY_MS), 1e-20);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('carries the last value through empty buckets, marks them filled, and stale past maxCarrySeconds', () => {
    const s: ResampleSettings = {
      bucketMs: 1_800_000,
      method: 'locf',
      timeZone: 'UTC',
      maxCarryMs: 3_600_000,
      graceMs: 0,
    };
    const got = resampleCov([{ timeMs: T0 + 900_000, value: 10 }], s, T0 + 4 * 1_800_000);
    assert.deepEqual(
      got.map((b) => [b.bucketId, b.mean, b.energy, b.count, b.filled, b.stale]),
      [
        [1, 10, 5, 1, false, false], // covered from the first reading only (ADR 0014)
        [2, 10, 5, 0, true, false],
        [3, 10, 5, 0, true, true], // 00:15 → 01:30 is 75 min carried
        [4, 10, 5, 0, true, true],
      ],
    );
  });

  it('closes the bucket of a live key when the clock passes its end plus grace (idle fallback), and refuses a reading for it afterwards', () => {
    const r = new CovResampler({
      bucketMs: 1_800_000,
      method: 'locf',
      timeZone: 'UTC',
      maxCarryMs: 0,
      graceMs: 60_000,
    });
    r.add(T0 + 60_000, 5);
    assert.deepEqual(r.closeLive(T0 + 1_800_000 + 59_999), []);
    assert.deepEqual(
      r.closeLive(T0 + 1_800_000 + 60_000).map((b) => [b.bucketId, b.mean]),
      [[1, 5]],
    );
    assert.match(r.add(T0 + 1_700_000, 7)?.reason ?? '', /already emitted/);
    const state = JSON.parse(JSON.stringify(r.toJSON()));
    const restored = new CovResampler(r.settings, state);
    assert.deepEqual(
      restored.closeLive(T0 + 3_600_000 + 60_000).map((b) => [b.bucketId, b.mean, b.filled]),
      [[2, 5, true]],
    );
  });

  it('refuses a reading stamped more than maxFutureMs ahead of the clock; it does not move the watermark', () => {
    const r = new CovResampler({
      bucketMs: 1_800_000,
      method: 'locf',
      timeZone: 'UTC',
      maxCarryMs: 0,
      graceMs: 0,
    });
    const now = T0 + 600_000;
    assert.equal(r.add(T0, 1, now), undefined);
    assert.deepEqual(r.add(Date.UTC(2099, 0, 1), 2, now)?.kind, 'future');
    assert.equal(r.add(now + 300_000, 3, now), undefined, 'within 300 s is accepted');
    assert.equal(r.closeByData().length, 0);
    assert.equal(r.add(T0 + 1_800_000, 4, now + 1_800_000), undefined);
    assert.deepEqual(
      r.closeByData().map((b) => [b.bucketId, b.count]),
      [[1, 2]],
    );
  });

  it('gives the same buckets for in-order, replayed in batches and shuffled-within-grace input (determinism)', () => {
    const settings = {
      bucketMs: 600_000,
      method: 'locf' as const,
      timeZone: 'Europe/Zurich',
      maxCarryMs: 0,
      graceMs: 120_000,
    };
    const readings = Array.from({ length: 400 }, (_, i) => ({
      timeMs: T0 + i * 37_000 + ((i * 7919) % 30_000),
      value: (i * 31) % 17,
    }));
    const run = (batches: Array<typeof readings>) => {
      const r = new CovResampler(settings);
      const out: Bucket[] = [];
      for (const batch of batches) {
        for (const x of batch) assert.equal(r.add(x.timeMs, x.value), undefined);
        out.push(...r.closeByData());
      }
      out.push(...r.flush());
      return out;
    };
    const inOrder = run(readings.map((x) => [x]));
    const batched = run([readings.slice(0, 150), readings.slice(150)]);
    // Swap neighbours three apart: each reading is at most ~2 min behind the newest before it.
    const shuffled = [...readings];
    for (let i = 0; i + 2 < shuffled.length; i += 3)
      [shuffled[i], shuffled[i + 2]] = [shuffled[i + 2], shuffled[i]];
    const jittered = run(shuffled.map((x) => [x]));
    assert.ok(inOrder.length > 20);
    assert.deepEqual(batched, inOrder);
    assert.deepEqual(jittered, inOrder);
  });

  it('refuses a reading so far from the others that filling the gap would exhaust memory', () => {
    const r = new CovResampler({
      bucketMs: 1_800_000,
      method: 'locf',
      timeZone: 'UTC',
      maxCarryMs: 0,
      graceMs: 0,
    });
    assert.equal(r.add(T0, 1), undefined);
    const far = T0 + (MAX_SPAN_BUCKETS + 1) * 1_800_000;
    assert.match(r.add(far, 2)?.reason ?? '', /buckets away .* msg\.reset/);
    assert.match(r.add(Date.UTC(1, 0, 1), 3)?.reason ?? '', /buckets away/);
    assert.equal(
      r.add(T0 + (MAX_SPAN_BUCKETS - 2) * 1_800_000, 4),
      undefined,
      'within the limit is accepted',
    );
    assert.equal(r.closeByData().length, MAX_SPAN_BUCKETS - 2);
  });

  it('numbers buckets in the local day of the time zone, 50 half hours on a 25-hour DST day', () => {
    const london = Date.UTC(2019, 9, 26, 23); // 2019-10-27 00:00 BST
    const b = bucketAt(london + 60_000, 1_800_000, 'Europe/London');
    assert.deepEqual(b, { bucketId: 1, startMs: london, endMs: london + 1_800_000 });
    const last = bucketAt(Date.UTC(2019, 9, 27, 23, 45), 1_800_000, 'Europe/London');
    assert.equal(last.bucketId, 50);
    const zurich = bucketAt(Date.UTC(2019, 10, 25, 12, 10), 1_800_000, 'Europe/Zurich'); // 13:10 CET
    assert.equal(zurich.bucketId, 27);
  });

  describe('the real COV file data/carbon/power_measurements_2019-11-25.csv at 30 min', () => {
    const csv = readFileSync(
      join(__dirname, '../../../data/carbon/power_measurements_2019-11-25.csv'),
      'utf8',
    );
    const readings: Reading[] = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [time, , , v] = line.split(',');
        return { timeMs: parseIsoTime(time) as number, value: Number(v) };
      });
    const settings: ResampleSettings = {
      bucketMs: 1_800_000,
      method: 'locf',
      timeZone: 'UTC',
      maxCarryMs: 0,
      graceMs: 0,
    };
    const buckets = resampleCov(readings, settings);

    // HalfHourId 1–48, mean kW (LOCF, time-weighted). Bucket 1 starts 1.647 s before the
    // first reading of the day; that time is not covered (ADR 0014), so its mean is over
    // 00:00:01.647–00:30.
    // (Counting that 1.647 s as 0 kW instead would give −99.9085 for bucket 1.)
    // prettier-ignore
    const EXPECTED_MEAN_KW = [
      -100.0, -100.0, -100.0, -90.265, 0.0, 0.0,
      0.0, 0.0, 0.0, 0.0, 1559.454234, 1392.171883,
      0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
      0.0, 0.0, 0.0, 0.0, -431.776065, -424.809141,
      -440.26319, -423.585859, -428.634739, -432.42813, -0.106014, 0.0,
      751.962554, 752.304016, -443.749262, -450.956897, -445.64128, -434.004125,
      -439.611626, -455.368781, -451.056136, -451.338106, -0.216028, -0.009,
      -0.009, -0.002072, 1.333627, 0.029913, 714.7943, 715.471985,
    ];

    it('reads all 4,916 rows (unsorted in the file) and emits HalfHourId 1–48', () => {
      assert.equal(readings.length, 4916);
      assert.deepEqual(
        buckets.map((b) => b.bucketId),
        Array.from({ length: 48 }, (_, i) => i + 1),
      );
      assert.equal(buckets[0].startMs, Date.UTC(2019, 10, 25));
      assert.equal(
        buckets.reduce((n, b) => n + b.count, 0),
        4916,
      );
    });

    it('matches an independent exact integration per half hour', () => {
      // A second, plain integration: walk the sorted readings once per half hour.
      const sorted = [...readings].sort((a, b) => a.timeMs - b.timeMs);
      buckets.forEach((b, i) => {
        const start = Date.UTC(2019, 10, 25) + i * 1_800_000;
        const end = start + 1_800_000;
        const terms: number[] = [];
        let covered = 0;
        for (let k = 0; k < sorted.length; k++) {
          const from = Math.max(sorted[k].timeMs, start);
          const to = Math.min(k + 1 < sorted.length ? sorted[k + 1].timeMs : Infinity, end);
          if (to > from) {
            terms.push(sorted[k].value * (to - from));
            covered += to - from;
          }
        }
        const mean = fsum(terms) / covered;
        assert.ok(
          Math.abs(b.mean - mean) <= 1e-9 * Math.abs(mean) + 1e-9,
          `HalfHourId ${i + 1}: ${b.mean} vs ${mean}`,
        );
        assert.ok(Math.abs(b.energy - mean / 2) <= 1e-9 * Math.abs(mean) + 1e-9);
      });
    });

    it('gives the stated mean kW for HalfHourId 1–48', () => {
      assert.equal(EXPECTED_MEAN_KW.length, 48);
      buckets.forEach((b, i) => {
        assert.ok(
          Math.abs(b.mean - EXPECTED_MEAN_KW[i]) <= 5e-7,
          `HalfHourId ${i + 1}: ${b.mean} vs ${EXPECTED_MEAN_KW[i]}`,
        );
      });
    });
  });
});
