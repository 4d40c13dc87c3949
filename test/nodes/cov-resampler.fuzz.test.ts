/** cov-resampler under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  describeFuzz,
  badNumber,
  badTime,
  eventTime,
  finite,
  type Msg,
  nearTimes,
  NODE_FILES,
  perKey,
  ROOT,
  type Spec,
  T0,
  topicOff,
  validKey,
  validNumber,
} from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'cov-resampler',
    outputs: 1,
    // 6-hour buckets: the node's own clock (aligned to the bucket) does not tick during a run.
    config: () => ({ bucketSeconds: 21_600, timeProperty: 'timestamp', method: 'locf' }),
    valid: fc.oneof(
      fc.record({ topic: validKey, payload: validNumber, timestamp: eventTime(3 * 86_400) }),
      fc.record({
        topic: validKey,
        payload: fc.array(fc.record({ time: eventTime(3 * 86_400), value: finite }), {
          minLength: 1,
          maxLength: 6,
        }),
      }),
    ),
    invalid: fc.oneof(
      // An empty array is an empty batch of readings here, not a bad value.
      fc.record({
        topic: validKey,
        payload: badNumber.filter((v) => !Array.isArray(v) || v.length > 0),
        timestamp: eventTime(86_400),
      }),
      fc.record({ topic: validKey, payload: finite, timestamp: badTime }),
      fc.record({
        topic: validKey,
        flush: fc.constant(true),
        until: fc.constantFrom<unknown>('soon', {}, '2024-99-01'),
      }),
    ),
    controls: fc.constantFrom<Msg>(
      { flush: true, topic: 'v1' },
      { flush: true, topic: 'v2', until: '2024-01-02T00:00:00Z' },
      { reset: true, topic: 'v2' },
    ),
    rekey: (m) => {
      topicOff(m);
      nearTimes(m);
    },
    dedupeKey: perKey,
    nearTimesOnly: true,
  },
];

describeFuzz('cov-resampler', SPECS, {}, () => {
  it('cov-resampler: one reading far in the future does not exhaust memory (isolated child process)', async () => {
    // Run apart, with a small heap: if the node fills every bucket up to the far reading,
    // only the child dies, not the test process.
    const script = `
      const helper = require('node-red-node-test-helper');
      helper.init(require.resolve('node-red'));
      helper.settings({ logging: { console: { level: 'off', metrics: false, audit: false } } });
      const node = require(${JSON.stringify(join(ROOT, NODE_FILES['cov-resampler']))});
      const flow = [{ id: 'r', type: 'cov-resampler', bucketSeconds: 1800, timeProperty: 'timestamp', wires: [['o']] }, { id: 'o', type: 'helper' }];
      helper.load(node, flow).then(() => {
        const r = helper.getNode('r');
        r.receive({ topic: 'k', payload: 1, timestamp: ${T0} });
        r.receive({ topic: 'k', payload: 2, timestamp: '9999-12-31T00:00:00Z' });
        r.receive({ topic: 'k', payload: 3, timestamp: '0001-01-01T00:00:00Z' });
        setTimeout(() => { console.log('survived'); process.exit(0); }, 200);
      });`;
    const { spawnSync } = await import('node:child_process');
    const child = spawnSync(process.execPath, ['--max-old-space-size=256', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.match(
      child.stdout ?? '',
      /survived/,
      `the runtime died (status ${child.status}, signal ${child.signal}): ${(child.stderr ?? '').slice(0, 600)}`,
    );
  });
});
