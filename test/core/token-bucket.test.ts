import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { TokenBucket } from '../../nodes/core/token-bucket';

/** Most requests in any half-open window [t, t + periodMs) over sorted times. */
function maxInWindow(times: number[], periodMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] >= periodMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

describe('TokenBucket', () => {
  it('spreads 60 per minute evenly: one request per second, no burst at start', () => {
    let now = 0;
    const bucket = new TokenBucket({ requests: 60, periodMs: 60_000, now: () => now });
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false, 'a second request at the same instant is a burst');
    assert.equal(bucket.waitMs(), 1000);
    now = 999;
    assert.equal(bucket.tryTake(), false);
    now = 1000;
    assert.equal(bucket.tryTake(), true);
  });

  it('never lets a late caller catch up with a burst', () => {
    let now = 0;
    const bucket = new TokenBucket({ requests: 60, periodMs: 60_000, now: () => now });
    bucket.tryTake();
    now = 10_000; // idle for 10 s
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false);
    assert.equal(bucket.waitMs(), 1000);
  });

  it('paces 10,000 targets per 167 minutes at one request every ~1 s', () => {
    const bucket = new TokenBucket({ requests: 60, periodMs: 60_000 });
    assert.equal(bucket.intervalMs, 1000);
    assert.ok(Math.abs((10_000 * bucket.intervalMs) / 60_000 - 166.7) < 0.1);
  });

  it('holdUntil (Retry-After) blocks every taker until then', () => {
    let now = 0;
    const bucket = new TokenBucket({ requests: 10, periodMs: 1000, now: () => now });
    bucket.holdUntil(5000);
    assert.equal(bucket.waitMs(), 5000);
    now = 5000;
    assert.equal(bucket.tryTake(), true);
  });

  it('rejects a nonsense configuration with the setting named', () => {
    assert.throws(() => new TokenBucket({ requests: 0, periodMs: 1000 }), /requests/);
    assert.throws(() => new TokenBucket({ requests: 1, periodMs: -1 }), /periodMs/);
    assert.throws(() => new TokenBucket({ requests: 1, periodMs: 1, burst: 0.5 }), /burst/);
  });

  it('never exceeds N + burst - 1 requests in any sliding period, whatever the callers do (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 100, max: 120_000 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 400 }),
        (requests, periodMs, burst, gaps) => {
          let now = 0;
          const bucket = new TokenBucket({ requests, periodMs, burst, now: () => now });
          const taken: number[] = [];
          for (const gap of gaps) {
            now += gap;
            // A greedy caller: takes as many as it is given at this instant.
            while (bucket.tryTake()) taken.push(now);
            // A caller that sleeps exactly the advised wait.
            const wait = bucket.waitMs();
            if (wait > 0 && wait < gap) {
              now += wait;
              if (bucket.tryTake()) taken.push(now);
            }
          }
          return maxInWindow(taken, periodMs) <= requests + burst - 1;
        },
      ),
    );
  });

  it('serves a caller that sleeps the advised wait at the full rate (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1000, max: 60_000 }),
        (requests, periodMs) => {
          let now = 0;
          const bucket = new TokenBucket({ requests, periodMs, now: () => now });
          let count = 0;
          while (now < periodMs * 3) {
            if (bucket.tryTake()) count++;
            else now += bucket.waitMs();
          }
          // Waits are whole milliseconds rounded up (never early), so the spacing is ceil(interval).
          return (
            count >= Math.floor((periodMs * 3) / Math.ceil(bucket.intervalMs)) && count <= requests * 3 + 1
          );
        },
      ),
    );
  });
});
