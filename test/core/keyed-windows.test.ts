import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { KeyedWindows, type ClosedWindow, type KeyedWindowSettings } from '../../nodes/core/keyed-windows';
import { CountWindow } from '../../nodes/core/sliding-window';

const NOW = Date.UTC(2024, 6, 5, 12); // wall clock, after every sample time below
const BASE = Date.UTC(2024, 6, 5, 10);

function settings(over: Partial<KeyedWindowSettings> = {}): KeyedWindowSettings {
  return {
    lengthMs: 300_000,
    count: 0,
    hopMs: 60_000,
    latenessMs: 0,
    maxFutureMs: 300_000,
    idleMs: 60_000,
    emitEmpty: false,
    emitWarmup: true,
    ttlMs: 86_400_000,
    maxKeys: 100_000,
    ...over,
  };
}

interface Sample {
  key: string;
  timeMs: number;
  value: number;
}

/** Feeds samples, then flushes; returns every window and the number of refused samples. */
function feed(
  s: KeyedWindowSettings,
  samples: readonly Sample[],
): { windows: ClosedWindow[]; refused: number } {
  const k = new KeyedWindows(s);
  const windows: ClosedWindow[] = [];
  let refused = 0;
  for (const x of samples) {
    const r = k.add(x.key, x.timeMs, x.value, NOW);
    if (r.ok) windows.push(...r.closed);
    else refused++;
  }
  windows.push(...k.flush());
  return { windows, refused };
}

const byKeyAndEnd = (ws: ClosedWindow[]) =>
  [...ws].sort((a, b) =>
    a.key === b.key ? (a.endMs as number) - (b.endMs as number) : a.key < b.key ? -1 : 1,
  );

/** Samples in time order (ties kept in generation order) and an arrival order with each delayed by ≤ lateness. */
const arbitraryStream = (latenessMs: number) =>
  fc
    .array(
      fc.record({
        key: fc.constantFrom('a', 'b'),
        offsetS: fc.integer({ min: 0, max: 3600 }),
        value: fc.integer({ min: -1000, max: 1000 }),
        delay: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { minLength: 1, maxLength: 120 },
    )
    .map((xs) => {
      const sorted = xs
        .map((x) => ({ key: x.key, timeMs: BASE + x.offsetS * 1000, value: x.value, delay: x.delay }))
        .sort((p, q) => p.timeMs - q.timeMs);
      const shuffled = [...sorted].sort(
        (p, q) => p.timeMs + p.delay * latenessMs - (q.timeMs + q.delay * latenessMs),
      );
      return { sorted, shuffled };
    });

describe('KeyedWindows in event time', () => {
  for (const hopMs of [60_000, 0]) {
    for (const emitEmpty of [false, true]) {
      if (hopMs === 0 && emitEmpty) continue;
      it(`gives the same windows in time order and shuffled within the lateness, each exactly its samples (hop ${hopMs / 1000} s${emitEmpty ? ', empty windows' : ''})`, () => {
        const latenessMs = 90_000;
        const s = settings({ hopMs, latenessMs, emitEmpty });
        fc.assert(
          fc.property(arbitraryStream(latenessMs), ({ sorted, shuffled }) => {
            const inOrder = feed(s, sorted);
            const jittered = feed(s, shuffled);
            assert.equal(inOrder.refused + jittered.refused, 0, 'nothing late within the lateness');
            const a = byKeyAndEnd(inOrder.windows);
            const b = byKeyAndEnd(jittered.windows);
            assert.deepEqual(
              b.map((w) => [w.key, w.endMs, w.summary.count, w.summary.sum, w.summary.min, w.summary.max]),
              a.map((w) => [w.key, w.endMs, w.summary.count, w.summary.sum, w.summary.min, w.summary.max]),
            );
            for (const w of a) {
              const mine = sorted.filter(
                (x) =>
                  x.key === w.key &&
                  x.timeMs > (w.endMs as number) - s.lengthMs &&
                  x.timeMs <= (w.endMs as number),
              );
              assert.equal(w.summary.count, mine.length);
              assert.equal(
                w.summary.sum,
                mine.reduce((t, x) => t + x.value, 0),
              );
            }
            if (hopMs > 0) {
              // Every window that holds a sample is emitted once; empty ones only with emitEmpty.
              for (const key of ['a', 'b']) {
                const times = sorted.filter((x) => x.key === key).map((x) => x.timeMs);
                const ends = new Set(
                  times.flatMap((t) => [0, 1, 2, 3, 4].map((k) => Math.ceil(t / hopMs) * hopMs + k * hopMs)),
                );
                const got = a.filter((w) => w.key === key && w.summary.count > 0).map((w) => w.endMs);
                assert.deepEqual(
                  got,
                  [...ends].sort((p, q) => p - q),
                );
                assert.equal(
                  new Set(a.filter((w) => w.key === key).map((w) => w.endMs)).size,
                  a.filter((w) => w.key === key).length,
                );
              }
            }
          }),
          { numRuns: 150 },
        );
      });
    }
  }

  it('a sample stamped on the window end closes it at once with lateness 0', () => {
    const k = new KeyedWindows(settings());
    assert.deepEqual(k.add('k', BASE + 30_000, 1, NOW), { ok: true, closed: [] });
    const r = k.add('k', BASE + 60_000, 2, NOW);
    assert.ok(r.ok);
    assert.deepEqual(
      r.closed.map((w) => [w.endMs, w.summary.count, w.summary.mean]),
      [[BASE + 60_000, 2, 1.5]],
    );
  });

  it('a sample beyond maxFutureMs is refused and does not move the watermark', () => {
    const k = new KeyedWindows(settings());
    k.add('k', BASE, 1, NOW);
    const r = k.add('k', NOW + 301_000, 9, NOW);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.kind, 'future');
    assert.equal(k.add('k', BASE + 10_000, 2, NOW).ok, true, 'the next sample is not late');
  });

  it('a key quiet for idleMs has its watermark follow the wall clock', () => {
    const k = new KeyedWindows(settings({ idleMs: 60_000 }));
    k.add('k', BASE + 30_000, 1, NOW);
    assert.equal(k.closeIdle(NOW + 59_000).length, 0);
    assert.deepEqual(
      k.closeIdle(NOW + 90_000).map((w) => w.endMs),
      [BASE + 60_000],
    );
    const late = k.add('k', BASE + 50_000, 1, NOW + 91_000);
    assert.equal(!late.ok && late.kind, 'late');
  });

  it('addCounted gives the windows add gives for per-sample count windows, refusals included', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(
          fc.record({
            key: fc.constantFrom('a', 'b', 'c'),
            timeMs: fc.oneof(fc.integer({ min: BASE, max: NOW }), fc.constant(NOW + 301_000)),
            value: fc.integer({ min: -1000, max: 1000 }),
          }),
          { maxLength: 100 },
        ),
        (emitWarmup, samples) => {
          const s = settings({ count: 4, hopMs: 0, emitWarmup, maxKeys: 2 });
          const viaAdd = new KeyedWindows(s);
          const viaCounted = new KeyedWindows(s);
          for (const x of samples) {
            const want = viaAdd.add(x.key, x.timeMs, x.value, NOW);
            const got = viaCounted.addCounted(x.key, x.timeMs, x.value, NOW);
            if (!want.ok) assert.deepEqual(got, want);
            else if (want.closed.length === 0) assert.equal(got, null);
            else {
              assert.ok(got instanceof CountWindow);
              const [w] = want.closed;
              assert.deepEqual(got.summary(), w.summary);
              assert.deepEqual([got.oldestTimeMs(), got.newestTimeMs()], [w.startMs, w.endMs]);
            }
          }
          assert.deepEqual(viaCounted.toJSON(), viaAdd.toJSON());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('jumps over a long gap without visiting every empty window', () => {
    const k = new KeyedWindows(settings({ hopMs: 1000, lengthMs: 5000 }));
    k.add('k', BASE - 30 * 86_400_000, 1, NOW); // a month earlier
    const r = k.add('k', BASE, 2, NOW);
    assert.ok(r.ok);
    assert.equal(r.closed.length, 5, 'the five windows holding the old sample');
  });
});
