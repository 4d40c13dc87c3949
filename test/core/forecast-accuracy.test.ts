import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RollingAccuracy } from '../../nodes/core/forecast-accuracy';

/** Naive reference: recompute everything from the last `window` triples. */
function reference(triples: [number, number, number][], window: number) {
  const last = triples.slice(-window);
  const e = last.map(([f, a]) => a - f);
  const p = last.map(([, a, pf]) => a - pf);
  const rmse = Math.sqrt(e.reduce((s, v) => s + v * v, 0) / e.length);
  const rmseP = Math.sqrt(p.reduce((s, v) => s + v * v, 0) / p.length);
  return {
    mae: e.reduce((s, v) => s + Math.abs(v), 0) / e.length,
    rmse,
    skill: rmseP > 0 ? 1 - rmse / rmseP : null,
    n: e.length,
  };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(b));

describe('rolling forecast accuracy', () => {
  it('reports error = actual − forecast, MAE, RMSE and skill vs persistence', () => {
    const acc = new RollingAccuracy(10);
    const r1 = acc.add(10, 12, 11); // model error 2, persistence error 1
    assert.equal(r1.error, 2);
    assert.equal(r1.absError, 2);
    assert.equal(r1.n, 1);
    const r2 = acc.add(12, 11, 14); // model error −1, persistence error −3
    assert.equal(r2.error, -1);
    assert.equal(r2.mae, 1.5);
    assert.ok(close(r2.rmse, Math.sqrt(2.5)));
    assert.ok(close(r2.skill as number, 1 - Math.sqrt(2.5) / Math.sqrt(5)));
    assert.equal(r2.n, 2);
  });

  it('forgets pairs older than the window', () => {
    const acc = new RollingAccuracy(2);
    acc.add(0, 100, 0);
    acc.add(0, 1, 0);
    const r = acc.add(0, 3, 0);
    assert.equal(r.n, 2);
    assert.equal(r.mae, 2);
    assert.equal(r.skill, 0);
  });

  it('has skill 1 for a perfect forecast and null while persistence makes no error', () => {
    const acc = new RollingAccuracy(5);
    assert.equal(acc.add(5, 5, 5).skill, null);
    assert.equal(acc.add(6, 6, 5).skill, 1);
  });

  it('matches a recomputation from scratch over any stream and window', () => {
    const value = fc.double({ min: -1e3, max: 1e3, noNaN: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(value, value, value), { minLength: 1, maxLength: 60 }),
        (window, triples) => {
          const acc = new RollingAccuracy(window);
          triples.forEach(([f, a, p], i) => {
            const got = acc.add(f, a, p);
            const want = reference(triples.slice(0, i + 1), window);
            assert.equal(got.n, want.n);
            assert.ok(close(got.mae, want.mae), `mae ${got.mae} vs ${want.mae}`);
            assert.ok(close(got.rmse, want.rmse), `rmse ${got.rmse} vs ${want.rmse}`);
            if (want.skill === null) assert.equal(got.skill, null);
            else
              assert.ok(
                Math.abs((got.skill as number) - want.skill) < 1e-6,
                `skill ${got.skill} vs ${want.skill}`,
              );
          });
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });

  it('restores from JSON with the same figures, keeping the newest pairs for a smaller window', () => {
    const acc = new RollingAccuracy(4);
    const triples: [number, number, number][] = [
      [1, 2, 0],
      [3, 1, 2],
      [5, 9, 4],
      [2, 2, 1],
      [7, 3, 6],
      [0, 1, 3],
    ];
    for (const [f, a, p] of triples) acc.add(f, a, p);
    const saved = JSON.parse(JSON.stringify(acc.toJSON()));
    const same = RollingAccuracy.fromJSON(saved);
    assert.deepEqual(same.summary(), acc.summary());
    const smaller = RollingAccuracy.fromJSON(saved, 2);
    const want = reference(triples, 2);
    assert.equal(smaller.summary().n, 2);
    assert.ok(close(smaller.summary().rmse, want.rmse));
    // A restored window keeps rolling like the original.
    assert.deepEqual(same.add(4, 4, 1), acc.add(4, 4, 1));
  });

  it('rejects a window below 1', () => {
    assert.throws(() => new RollingAccuracy(0), /window 0/);
  });
  it('restored at any point, reports the same numbers bit for bit as the uninterrupted one (nats-in replays)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: -999, max: 999 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(40),
        (pairs, window, cutAt) => {
          const cut = Math.min(cutAt, pairs.length);
          const uninterrupted = new RollingAccuracy(window);
          let restored = new RollingAccuracy(window);
          pairs.forEach(([f, p], i) => {
            if (i === cut) restored = RollingAccuracy.fromJSON(JSON.parse(JSON.stringify(restored.toJSON())));
            const actual = (i % 7) / 3;
            assert.deepEqual(restored.add(f / 7, actual, p / 11), uninterrupted.add(f / 7, actual, p / 11));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
