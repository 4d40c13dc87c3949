import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AGGREGATES, CountWindow, SlidingWindow, type WindowSummary } from '../../nodes/core/sliding-window';
import { KeyedWindows } from '../../nodes/core/keyed-windows';
import { assertClose, extremeValue, naiveSummary } from './window-reference';

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
