import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RoundRobin, workerShare } from '../../nodes/core/round-robin';

describe('RoundRobin', () => {
  it('serves every target once per round, in list order', () => {
    const rr = new RoundRobin(['a', 'b', 'c'], (t) => t);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map(() => rr.next()),
      ['a', 'b', 'c', 'a', 'b', 'c', 'a'],
    );
  });

  it('continues after the last target served when the list is replaced', () => {
    const rr = new RoundRobin(['a', 'b', 'c', 'd'], (t) => t);
    rr.next();
    rr.next(); // b served
    rr.replace(['x', 'b', 'd', 'a']);
    assert.deepEqual([rr.next(), rr.next(), rr.next()], ['d', 'a', 'x']);
  });

  it('keeps its position when the last target served was removed', () => {
    const rr = new RoundRobin(['a', 'b', 'c', 'd'], (t) => t);
    rr.next(); // a; position 1
    rr.replace(['b', 'c', 'd']);
    assert.equal(rr.next(), 'c');
  });

  it('returns undefined for an empty list', () => {
    assert.equal(new RoundRobin<string>([], (t) => t).next(), undefined);
  });

  it('is fair: in any k·n consecutive picks each target appears exactly k times (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 4 }),
        (targets, skip, k) => {
          const rr = new RoundRobin(targets, (t) => t);
          for (let i = 0; i < skip; i++) rr.next();
          const counts = new Map<string, number>();
          for (let i = 0; i < k * targets.length; i++) {
            const t = rr.next()!;
            counts.set(t, (counts.get(t) ?? 0) + 1);
          }
          return targets.every((t) => counts.get(t) === k);
        },
      ),
    );
  });

  it('keeps the exact rotation when the same list is loaded again after every pick (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 40 }),
        fc.nat(100),
        (targets, picks) => {
          const steady = new RoundRobin(targets, String);
          const refreshed = new RoundRobin(targets, String);
          for (let i = 0; i < picks; i++) {
            if (steady.next() !== refreshed.next()) return false;
            refreshed.replace([...targets]);
          }
          return true;
        },
      ),
    );
  });

  it('serves every target within one round after new targets are appended (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 1001, max: 2000 }), { maxLength: 10 }),
        fc.nat(100),
        (targets, added, skip) => {
          const rr = new RoundRobin(targets, String);
          for (let i = 0; i < skip; i++) rr.next();
          rr.replace([...targets, ...added]);
          const served = new Set(Array.from({ length: targets.length + added.length }, () => rr.next()));
          return [...targets, ...added].every((t) => served.has(t));
        },
      ),
    );
  });
});

describe('workerShare', () => {
  it('splits a list into disjoint shares that cover it and differ in size by at most one (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 200 }),
        fc.integer({ min: 1, max: 9 }),
        (list, count) => {
          const shares = Array.from({ length: count }, (_x, i) =>
            workerShare(
              list.map((v, j) => ({ v, j })),
              i,
              count,
            ),
          );
          const all = shares
            .flat()
            .map((x) => x.j)
            .sort((a, b) => a - b);
          const sizes = shares.map((s) => s.length);
          return (
            all.length === list.length &&
            all.every((j, i) => j === i) &&
            Math.max(...sizes) - Math.min(...sizes) <= 1
          );
        },
      ),
    );
  });

  it('rejects an index outside the worker count', () => {
    assert.throws(() => workerShare([1], 2, 2), /workerIndex/);
    assert.throws(() => workerShare([1], 0, 0), /workerCount/);
  });
});
