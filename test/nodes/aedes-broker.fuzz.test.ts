/** aedes-broker's input (msgs it publishes itself) under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { freePort } from '../../app/free-port';
import { describeFuzz, finite, type Spec } from '../harness/fuzz';

const ports = { ref: 0, sut: 0 };
before(async () => {
  ports.ref = await freePort();
  ports.sut = await freePort();
});

const topic = fc.constantFrom('gridflow/fuzz/a/avg5m', 'gridflow/fuzz/b/avg5m');
const payload = fc.oneof(
  finite,
  fc.string(),
  fc.record({ time: fc.constant('2026-01-05T00:05:00.000Z'), value: finite }),
);
const badTopic = fc.constantFrom<unknown>('', 'gridflow/+/x', 'gridflow/#', '$SYS/x', {}, 7, null);

const SPECS: Spec[] = [
  {
    type: 'aedes-broker',
    outputs: 1,
    config: (role) => ({
      port: String(ports[role]),
      bind: '127.0.0.1',
      anonymous: 'loopback',
      accessRules: '',
    }),
    valid: fc.oneof(
      fc.record({ topic, payload, retain: fc.boolean() }),
      fc.record({ payload: fc.array(fc.record({ topic, payload }), { minLength: 1, maxLength: 5 }) }),
    ),
    invalid: fc.oneof(
      fc.record({ topic: badTopic, payload: finite }),
      fc.record({ topic, payload: finite, qos: fc.constantFrom<unknown>(1, 2, 3, 'x', -1) }),
      fc.record({
        payload: fc.array(fc.record({ topic: badTopic, payload: finite }), { minLength: 1, maxLength: 3 }),
      }),
    ),
    numRuns: 10,
  },
];

describeFuzz('aedes-broker', SPECS);
