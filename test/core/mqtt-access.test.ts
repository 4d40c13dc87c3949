import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  filterWithin,
  isAllowed,
  isLoopbackAddress,
  parseAccessRules,
  topicMatches,
} from '../../nodes/core/mqtt-access';

/** Naive reference: a topic matches a filter when a regex built from the filter matches it. */
function referenceMatch(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && /^[+#]/.test(filter)) return false;
  const pattern = filter
    .split('/')
    .map((level) =>
      level === '+' ? '[^/]*' : level === '#' ? '.*' : level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
    .replace(/\/\.\*$/, '(/.*)?');
  return new RegExp(`^${pattern === '.*' ? '.*' : pattern}$`).test(topic);
}

describe('core: MQTT access rules', () => {
  it('matches topics against filters with + and # like a regex reference', () => {
    const level = fc.constantFrom('a', 'b', 'grid', '');
    const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
    const filter = fc
      .tuple(
        fc.array(fc.constantFrom('a', 'b', 'grid', '', '+'), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
      )
      .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'));
    fc.assert(fc.property(filter, topic, (f, t) => topicMatches(f, t) === referenceMatch(f, t)));
  });

  it('keeps $SYS topics away from wildcard filters', () => {
    assert.equal(topicMatches('#', '$SYS/broker/uptime'), false);
    assert.equal(topicMatches('$SYS/#', '$SYS/broker/uptime'), true);
  });

  it('allows a subscription only inside an allowed filter', () => {
    assert.equal(filterWithin('gridflow/#', 'gridflow/wind/+'), true);
    assert.equal(filterWithin('gridflow/+/stats', 'gridflow/wind/stats'), true);
    assert.equal(filterWithin('gridflow/+/stats', 'gridflow/#'), false);
    assert.equal(filterWithin('gridflow/wind', 'gridflow/+'), false);
  });

  it('parses rules, denies what no rule allows, and explains a bad rule', () => {
    const rules = parseAccessRules(
      '# comment\nallow sensor publish site/+/power\nallow * subscribe gridflow/#',
    );
    assert.equal(isAllowed(rules, 'sensor', 'publish', 'site/a/power'), true);
    assert.equal(isAllowed(rules, 'other', 'publish', 'site/a/power'), false);
    assert.equal(isAllowed(rules, undefined, 'subscribe', 'gridflow/wind/#'), true);
    assert.equal(isAllowed(rules, undefined, 'subscribe', '#'), false);
    assert.equal(isAllowed([], undefined, 'publish', 'anything'), true);
    assert.throws(() => parseAccessRules('deny * publish x'), /rule 1 .* must read: allow/);
    assert.throws(() => parseAccessRules('allow * publish a/#/b'), /not a valid MQTT topic filter/);
  });

  it('recognises loopback addresses only', () => {
    for (const a of ['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackAddress(a), true, a);
    for (const a of ['10.0.0.1', '192.168.1.2', '::ffff:10.1.1.1', '', undefined])
      assert.equal(isLoopbackAddress(a), false, String(a));
  });
});
