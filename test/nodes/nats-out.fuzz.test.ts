/** nats-out under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { describeFuzz, finite, type Spec } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'nats-out',
    outputs: 0,
    uses: ['nats-connection'],
    config: (role) => ({ connection: `nats-${role}`, subject: '' }),
    configNodes: (role, env) => [{ id: `nats-${role}`, type: 'nats-connection', servers: env.natsUrl }],
    valid: fc.record({
      topic: fc.constantFrom('gridflow/out/fuzz/a/avg5m', 'gridflow/out/fuzz/b/avg5m'),
      payload: fc.oneof(fc.record({ time: fc.constant('2026-01-05T00:05:00.000Z'), value: finite }), finite),
    }),
    invalid: fc.record({
      topic: fc.constantFrom<unknown>(
        '',
        'gridflow/out/a b',
        'gridflow/out/*',
        'gridflow//out',
        {},
        7,
        undefined,
      ),
      payload: finite,
    }),
    numRuns: 10,
  },
];

describeFuzz('nats-out', SPECS, { nats: true });
