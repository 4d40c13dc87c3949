import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { EventClock, everyPeriod, type ClosedSide } from '../../nodes/core/event-time';

const MIN = 60_000;
const bounds = (latenessMs = 0) => ({ latenessMs, maxFutureMs: 300_000 });

describe('EventClock', () => {
  it('closes the window ending T when a sample stamped exactly T arrives, with lateness 0', () => {
    const clock = new EventClock(bounds(), everyPeriod(MIN));
    assert.deepEqual(clock.advance(30_000), []);
    assert.deepEqual(clock.advance(MIN), [MIN]);
    assert.equal(clock.admit(MIN, 10 * MIN).ok, false, 'a second sample at T is late');
    assert.equal(clock.admit(MIN + 1, 10 * MIN).ok, true);
  });

  it('with [start, end) periods a sample on the boundary opens the next period and is not late', () => {
    const clock = new EventClock(bounds(), everyPeriod(MIN), 'start');
    assert.deepEqual(clock.advance(MIN), []);
    assert.deepEqual(clock.advance(2 * MIN), [2 * MIN]);
    assert.equal(clock.admit(2 * MIN, 10 * MIN).ok, true);
    assert.equal(clock.admit(2 * MIN - 1, 10 * MIN).ok, false);
  });

  it('waits for the lateness before closing, and takes samples within it', () => {
    const clock = new EventClock(bounds(10_000), everyPeriod(MIN));
    assert.deepEqual(clock.advance(MIN + 5_000), []);
    assert.equal(clock.admit(MIN - 1_000, 10 * MIN).ok, true);
    assert.deepEqual(clock.advance(MIN + 10_000), [MIN]);
  });

  it('refuses a sample further ahead of the wall clock than maxFutureMs, and it does not move the watermark', () => {
    const clock = new EventClock(bounds(), everyPeriod(MIN));
    const verdict = clock.admit(Date.UTC(2099, 0, 1), Date.UTC(2026, 0, 1));
    assert.equal(verdict.ok, false);
    assert.match(verdict.ok ? '' : verdict.reason, /ahead of the clock/);
    assert.equal(clock.newestMs, -Infinity);
  });

  it('closes nothing before the first sample, and the idle fallback closes through a time', () => {
    const clock = new EventClock(bounds(), everyPeriod(MIN));
    assert.deepEqual(clock.closeThrough(10 * MIN), []);
    clock.advance(MIN / 2);
    assert.deepEqual(clock.closeThrough(3 * MIN), [MIN, 2 * MIN, 3 * MIN]);
  });

  it('observe moves the watermark without closing, for callers that close periods themselves', () => {
    const clock = new EventClock(bounds(30_000), everyPeriod(MIN));
    clock.observe(5 * MIN);
    assert.equal(clock.watermarkMs, 5 * MIN - 30_000);
    assert.equal(clock.closedThroughMs, 4 * MIN, 'periods before the first sample are closed');
    assert.equal(clock.admit(4 * MIN + 1, 10 * MIN).ok, true);
    assert.deepEqual(clock.closeThrough(clock.watermarkMs), [], 'nothing to close yet');
    clock.observe(3 * MIN); // older: the watermark does not go back
    assert.equal(clock.newestMs, 5 * MIN);
  });

  it('skips known-empty periods and survives a restart through toJSON/restore', () => {
    const clock = new EventClock(bounds(), everyPeriod(MIN));
    clock.advance(MIN / 2);
    clock.skipTo(100 * MIN + 5);
    assert.equal(clock.closedThroughMs, 100 * MIN);
    const again = new EventClock(bounds(), everyPeriod(MIN)).restore(JSON.parse(JSON.stringify(clock)));
    assert.deepEqual(again.advance(101 * MIN), [101 * MIN]);
  });

  it('note() moves the watermark without closing periods, for callers that hold samples themselves', () => {
    const clock = new EventClock({ latenessMs: 2, maxFutureMs: 0 }, everyPeriod(10));
    clock.note(25);
    clock.note(21);
    assert.equal(clock.newestMs, 25);
    assert.equal(clock.watermarkMs, 23);
    assert.equal(clock.closedThroughMs, -Infinity);
  });

  it('closes exactly the boundaries a naive scan finds, in any arrival order within the lateness', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 * MIN }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 3 * MIN }),
        fc.constantFrom<ClosedSide>('end', 'start'),
        (times, latenessMs, side) => {
          const clock = new EventClock(bounds(latenessMs), everyPeriod(MIN), side);
          const closed: number[] = [];
          let newest = -Infinity;
          let start = -Infinity; // the first period's start: earlier periods count as closed
          for (const t of times) {
            if (!clock.admit(t, 30 * MIN).ok) {
              // naive: late means inside a period already closed
              const last = closed.length > 0 ? closed[closed.length - 1] : start;
              assert.ok(side === 'end' ? t <= last : t < last);
              continue;
            }
            if (start === -Infinity) {
              const reach = t - latenessMs;
              start = side === 'start' || reach % MIN !== 0 ? Math.floor(reach / MIN) * MIN : reach - MIN;
            }
            newest = Math.max(newest, t);
            closed.push(...clock.advance(t));
            const expected: number[] = [];
            for (let b = start + MIN; b <= newest - latenessMs; b += MIN) expected.push(b);
            assert.deepEqual(closed, expected);
          }
        },
      ),
    );
  });
});
