import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LruMap, OncePerKey } from '../../nodes/core/lru-keys';

/** Reference: an array of keys, most recently used last. */
function naiveLru(maxKeys: number, ops: ReadonlyArray<{ use: boolean; key: string }>): string[] {
  let order: string[] = [];
  for (const { use, key } of ops) {
    const at = order.indexOf(key);
    if (use) {
      if (at >= 0) order = [...order.slice(0, at), ...order.slice(at + 1), key];
      continue;
    }
    if (at >= 0) order.splice(at, 1);
    else if (order.length >= maxKeys) order.shift();
    order.push(key);
  }
  return order;
}

describe('core LruMap and OncePerKey: bounded keys', () => {
  it('holds the same keys in the same order as a naive least-recently-used list', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.record({ use: fc.boolean(), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h') }),
          {
            maxLength: 60,
          },
        ),
        (maxKeys, ops) => {
          const map = new LruMap<number>(maxKeys);
          ops.forEach(({ use, key }, i) => (use ? map.use(key) : map.set(key, i)));
          assert.deepEqual([...map.keys()], naiveLru(maxKeys, ops));
          assert.ok(map.size <= maxKeys);
        },
      ),
    );
  });

  it('admit forgets the key idle the longest, shows it its value first, and counts it', () => {
    const map = new LruMap<string>(2);
    map.set('a', 'A');
    map.set('b', 'B');
    map.use('a');
    const seen: string[] = [];
    assert.equal(
      map.admit('c', (k, v) => seen.push(`${k}=${v}`)),
      'b',
    );
    assert.deepEqual(seen, ['b=B']);
    assert.equal(map.admit('a'), undefined, 'a known key needs no room');
    assert.equal(map.evicted, 1);
    assert.deepEqual([...map.keys()], ['a']);
  });

  it('reports a key once until it behaves again, and remembers at most maxKeys keys', () => {
    const once = new OncePerKey(3);
    assert.equal(once.first('x'), true);
    assert.equal(once.first('x'), false);
    once.forget('x');
    assert.equal(once.first('x'), true, 'reported anew after it behaved');
    for (let i = 0; i < 1000; i++) once.first(`k${i}`);
    assert.equal(once.size, 3);
    assert.equal(once.first('k999'), false, 'the newest are remembered');
    assert.equal(once.first('k0'), true, 'the oldest were forgotten');
  });
});
