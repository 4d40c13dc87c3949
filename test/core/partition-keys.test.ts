import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PartitionKeys, unusableSample } from '../../nodes/core/partition-keys';

/** The bookkeeping as an operator sees it: getOrCreate is the operators' own (protected). */
class CountingKeys extends PartitionKeys<{ count: number }> {
  add(key: string, seq: number): number | string {
    this.skip(seq);
    const entry = this.getOrCreate(key, () => ({ count: 0 }));
    if (typeof entry === 'string') return entry;
    return ++entry.count;
  }
}

describe('core PartitionKeys: the partition operators’ shared bookkeeping', () => {
  it('creates a key’s state once and hands the same state back after', () => {
    const keys = new CountingKeys();
    assert.equal(keys.add('a', 1), 1);
    assert.equal(keys.add('b', 2), 1);
    assert.equal(keys.add('a', 3), 2);
    assert.equal(keys.keyCount, 2);
  });

  it('refuses a new key beyond maxKeys with the reason, and keeps serving the keys it holds', () => {
    const keys = new CountingKeys(2);
    keys.add('a', 1);
    keys.add('b', 2);
    assert.equal(keys.add('c', 3), 'the partition holds 2 keys (maxKeys): new key "c" refused');
    assert.equal(keys.add('a', 4), 2);
    assert.equal(keys.keyCount, 2);
    assert.equal(keys.seq, 4, 'the position moves past the refused sample');
  });

  it('moves its position forward only: skip of an older position keeps the newer', () => {
    const keys = new PartitionKeys<object>();
    assert.equal(keys.seq, 0);
    keys.skip(7);
    keys.skip(3);
    assert.equal(keys.seq, 7);
  });

  it('checks maxKeys', () => {
    for (const bad of [-1, 1.5, NaN])
      assert.throws(
        () => new PartitionKeys<object>(bad),
        new RegExp(`maxKeys ${bad} must be an integer ≥ 0`),
      );
    assert.doesNotThrow(() => new PartitionKeys<object>(0));
  });

  it('holds the first maxKeys distinct keys and refuses exactly the others (0: unbounded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 30 }),
        (maxKeys, sampleKeys) => {
          const keys = new CountingKeys(maxKeys);
          const held = new Map<string, number>();
          sampleKeys.forEach((key, i) => {
            const full = maxKeys > 0 && held.size >= maxKeys && !held.has(key);
            const added = keys.add(key, i + 1);
            if (full) assert.equal(typeof added, 'string');
            else {
              held.set(key, (held.get(key) ?? 0) + 1);
              assert.equal(added, held.get(key));
            }
          });
          assert.equal(keys.keyCount, held.size);
          assert.equal(keys.seq, sampleKeys.length);
        },
      ),
    );
  });
});

describe('core unusableSample', () => {
  it('says why a sample with no key, no time or a non-finite value cannot be folded in', () => {
    assert.equal(unusableSample('w/t1', 1, 2), undefined);
    assert.equal(
      unusableSample('', 1, 2),
      'sample needs a key, a time and a finite number (key "", time 1, value 2)',
    );
    assert.match(unusableSample('w/t1', NaN, 2) ?? '', /time NaN/);
    assert.match(unusableSample('w/t1', 1, Infinity) ?? '', /value Infinity/);
  });
});
