import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CovRule, type CovRuleSettings } from '../../nodes/core/cov-rule';

/** Reference: for every value, looks back through the whole history for the key's last passed value. */
function naiveCov(
  settings: CovRuleSettings,
  items: ReadonlyArray<{ key: string; value: number; timeMs: number }>,
) {
  const passed: boolean[] = [];
  return items.map((item, i) => {
    let last: { value: number; timeMs: number } | undefined;
    for (let j = i - 1; j >= 0; j--) {
      if (items[j].key === item.key && passed[j]) {
        last = items[j];
        break;
      }
    }
    let pass: boolean;
    if (last === undefined) pass = true;
    else {
      const delta = Math.abs(item.value - last.value);
      const byAbs = settings.absolute > 0 && delta > settings.absolute;
      const byPct = settings.percent > 0 && delta > (settings.percent / 100) * Math.abs(last.value);
      const byChange = settings.absolute <= 0 && settings.percent <= 0 && item.value !== last.value;
      const byHeartbeat = settings.heartbeatMs > 0 && item.timeMs - last.timeMs >= settings.heartbeatMs;
      pass = byAbs || byPct || byChange || byHeartbeat;
    }
    passed.push(pass);
    return pass;
  });
}

describe('core COV rule', () => {
  it('passes exactly what a from-scratch look-back passes (absolute, percent, both, none, heartbeat)', () => {
    fc.assert(
      fc.property(
        fc.record({
          absolute: fc.constantFrom(0, 0.5, 10),
          percent: fc.constantFrom(0, 1, 5),
          heartbeatMs: fc.constantFrom(0, 5000),
        }),
        fc.array(
          fc.record({
            key: fc.constantFrom('a', 'b', 'c'),
            value: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constantFrom(1e12, -1e12, 1e-12, 0)),
            advanceMs: fc.integer({ min: 0, max: 3000 }),
          }),
          { maxLength: 200 },
        ),
        (settings, raw) => {
          let now = 0;
          const items = raw.map((r) => ({ key: r.key, value: r.value, timeMs: (now += r.advanceMs) }));
          const rule = new CovRule(settings);
          const got = items.map((it) => rule.offer(it.key, it.value, it.timeMs).pass);
          assert.deepEqual(got, naiveCov(settings, items));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('says why a value passed and compares with the last passed value, not the last seen', () => {
    const rule = new CovRule({ absolute: 1, percent: 0, heartbeatMs: 60_000 });
    assert.deepEqual(rule.offer('k', 10, 0), { pass: true, reason: 'first' });
    assert.equal(rule.offer('k', 10.6, 1000).pass, false);
    assert.equal(rule.offer('k', 10.9, 2000).pass, false);
    assert.deepEqual(rule.offer('k', 11.2, 3000), { pass: true, reason: 'absolute', previous: 10 });
    assert.deepEqual(rule.offer('k', 11.2, 63_000), { pass: true, reason: 'heartbeat', previous: 11.2 });
    const pct = new CovRule({ absolute: 0, percent: 5, heartbeatMs: 0 });
    pct.offer('p', 200, 0);
    assert.equal(pct.offer('p', 209, 1).pass, false);
    assert.deepEqual(pct.offer('p', 211, 2), { pass: true, reason: 'percent', previous: 200 });
    const restored = new CovRule(pct.settings, JSON.parse(JSON.stringify(pct.toJSON())));
    assert.equal(restored.offer('p', 212, 3).pass, false);
  });
});
