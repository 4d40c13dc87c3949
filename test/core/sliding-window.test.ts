import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AGGREGATES, CountWindow, SlidingWindow, type WindowSummary } from '../../nodes/core/sliding-window';
import { KeyedWindows } from '../../nodes/core/keyed-windows';

/** Exact float sum (Shewchuk's partials, as Python's math.fsum), the reference for sums. */
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
  let hi = 0;
  while (partials.length > 0) {
    const x = partials.pop() as number;
    const y = hi;
    hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) {
      partials.push(lo);
      break;
    }
  }
  return hi + partials.reduce((a, b) => a + b, 0);
}

/** Recomputes every aggregate from scratch (two-pass, exact sums). */
function naiveSummary(samples: ReadonlyArray<{ t: number; v: number }>): WindowSummary {
  const xs = samples.map((s) => s.v);
  const n = xs.length;
  if (n === 0) {
    return {
      count: 0,
      sum: 0,
      mean: null,
      min: null,
      max: null,
      stdev: null,
      first: null,
      last: null,
      firstTimeMs: null,
      lastTimeMs: null,
    };
  }
  const sum = fsum(xs);
  const m = sum / n;
  const d = xs.map((x) => x - m);
  const m2 = fsum(d.map((x) => x * x)) - fsum(d) ** 2 / n;
  return {
    count: n,
    sum,
    mean: sum / n,
    min: Math.min(...xs),
    max: Math.max(...xs),
    stdev: n > 1 ? Math.sqrt(Math.max(0, m2) / (n - 1)) : null,
    first: xs[0],
    last: xs[n - 1],
    firstTimeMs: samples[0].t,
    lastTimeMs: samples[n - 1].t,
  };
}

/**
 * Within 1e-9 relative. The floors are the rounding resolution of the inputs themselves:
 * a sum whose exact value cancels to below 1e-20 × Σ|x| is checked absolutely, and so is
 * a standard deviation below 4 ulp of the largest |value| (no double algorithm resolves
 * spread finer than the spacing of the values it is given), as is one below 1e-150.
 */
function assertClose(got: WindowSummary, want: WindowSummary, xs: readonly number[]): void {
  // === so that -0 and 0 (JSON keeps no sign of zero) count as the same value.
  for (const k of ['count', 'min', 'max', 'first', 'last', 'firstTimeMs', 'lastTimeMs'] as const) {
    assert.ok(got[k] === want[k], `${k}: got ${got[k]}, want ${want[k]}`);
  }
  if (want.count === 0) return;
  const absSum = xs.reduce((a, x) => a + Math.abs(x), 0);
  const maxAbs = xs.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  const close = (a: number | null, b: number | null, floor: number, what: string) => {
    if (b === null) return assert.equal(a, null, what);
    assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.abs(b) + floor, `${what}: got ${a}, want ${b}`);
  };
  close(got.sum, want.sum, 1e-20 * absSum, 'sum');
  close(got.mean, want.mean, (1e-20 * absSum) / want.count, 'mean');
  // Below 1e-150 the squares underflow (in the reference too).
  close(got.stdev, want.stdev, 4 * Number.EPSILON * maxAbs + 1e-150, 'stdev');
}

const extremeValue = fc.oneof(
  fc.constantFrom(1e12, -1e12, 1e-12, -1e-12, 1e-300, 0, 1),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -3, max: 3 }),
);

describe('core sliding windows', () => {
  it('count window equals a from-scratch recomputation after every sample (extreme values, duplicates)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(extremeValue, { maxLength: 300 }),
        (length, values) => {
          const w = new CountWindow(length);
          values.forEach((v, i) => {
            w.add(i, v);
            const inWindow = values
              .slice(Math.max(0, i + 1 - length), i + 1)
              .map((x, j) => ({ t: Math.max(0, i + 1 - length) + j, v: x }));
            assertClose(
              w.summary(),
              naiveSummary(inWindow),
              inWindow.map((s) => s.v),
            );
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('time window (t − length, t] equals a from-scratch recomputation with gaps, duplicates, out-of-order and late samples', () => {
    const op = fc.record({
      advanceMs: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 5000, max: 60_000 }),
      ),
      behindMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })),
      value: extremeValue,
      query: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).map((s) => s * 1000),
        fc.constantFrom(0, 3000, 15_000),
        fc.array(op, { maxLength: 250 }),
        (lengthMs, latenessMs, ops) => {
          const w = new SlidingWindow(lengthMs, latenessMs);
          const accepted: Array<{ t: number; v: number; order: number }> = [];
          let now = 1_700_000_000_000;
          let maxTime = -Infinity;
          let maxEnd = -Infinity;
          ops.forEach((o, order) => {
            now += o.advanceMs;
            const t = now - o.behindMs;
            const late = t < maxTime - latenessMs || t <= maxEnd - lengthMs;
            const reason = w.add(t, o.value, now);
            assert.equal(reason !== undefined, late, `late decision for t=${t}`);
            if (!late) {
              accepted.push({ t, v: o.value, order });
              maxTime = Math.max(maxTime, t);
            }
            if (o.query) {
              maxEnd = now;
              const inWindow = accepted
                .filter((s) => s.t > now - lengthMs && s.t <= now)
                .sort((a, b) => a.t - b.t || a.order - b.order);
              assertClose(
                w.summary(now),
                naiveSummary(inWindow),
                inWindow.map((s) => s.v),
              );
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('restores from toJSON and goes on as the original', () => {
    fc.assert(
      fc.property(fc.array(extremeValue, { minLength: 1, maxLength: 200 }), fc.nat(199), (values, cutAt) => {
        const a = new SlidingWindow(30_000, 5000);
        let b: SlidingWindow | undefined;
        values.forEach((v, i) => {
          const t = 1000 * i - (i % 3) * 1500;
          a.add(t, v, 1000 * i);
          b?.add(t, v, 1000 * i);
          if (i === cutAt % values.length) b = SlidingWindow.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
        });
        const end = 1000 * values.length;
        // Same samples, same decisions; the stacks may split differently, so within 1e-9.
        assertClose(b?.summary(end) as WindowSummary, a.summary(end), values);
        const c = new CountWindow(7);
        values.forEach((v, i) => c.add(i, v));
        assertClose(
          CountWindow.fromJSON(JSON.parse(JSON.stringify(c.toJSON()))).summary(),
          c.summary(),
          values,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('count window aggregate(a) is bit for bit summary()[a], whichever aggregates are read when', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(extremeValue, fc.subarray([...AGGREGATES])), { maxLength: 300 }),
        (length, steps) => {
          const summarised = new CountWindow(length);
          const read = new CountWindow(length); // Welford folded only when stdev is read
          assert.equal(read.aggregate('sum'), 0);
          assert.equal(read.aggregate('mean'), null);
          steps.forEach(([v, asked], i) => {
            summarised.add(i, v);
            read.add(i, v);
            const want = summarised.summary();
            for (const a of asked) assert.equal(read.aggregate(a), want[a], `${a} after sample ${i}`);
            assert.equal(read.oldestTimeMs(), want.firstTimeMs);
            assert.equal(read.newestTimeMs(), want.lastTimeMs);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a long run of huge values leaves no residue in the sum and stdev of the small values after them', () => {
    const w = new CountWindow(3);
    for (let i = 0; i < 10_000; i++) w.add(i, i % 2 ? 1e12 : -1e12 + 0.5);
    for (const v of [1e-12, 2e-12, 3e-12]) w.add(0, v);
    const s = w.summary();
    assert.equal(s.sum, 6e-12);
    assert.equal(s.mean, 2e-12);
    assert.ok(Math.abs((s.stdev as number) - 1e-12) < 1e-24, `stdev ${s.stdev}`);
  });

  it('keyed windows forget a key idle longer than the TTL and survive a JSON round trip', () => {
    const k = new KeyedWindows({
      lengthMs: 60_000,
      count: 0,
      hopMs: 60_000,
      latenessMs: 0,
      maxFutureMs: 300_000,
      idleMs: 0,
      emitEmpty: false,
      emitWarmup: true,
      ttlMs: 120_000,
      maxKeys: 100_000,
    });
    k.add('a', 1000, 1, 1000);
    k.add('b', 1000, 2, 1000);
    k.add('b', 100_000, 4, 100_000);
    assert.equal(k.evictIdle(125_000), 1);
    assert.deepEqual([...k.keys()], ['b']);
    const restored = new KeyedWindows(k.settings, JSON.parse(JSON.stringify(k.toJSON())));
    const [last] = restored.flush('b');
    assert.deepEqual([last.endMs, last.summary.mean, last.summary.count], [120_000, 4, 1]);
    // A different window length in the editor makes the saved samples meaningless.
    assert.equal(new KeyedWindows({ ...k.settings, lengthMs: 30_000 }, k.toJSON()).size, 0);
  });
});
