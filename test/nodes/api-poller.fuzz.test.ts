/** api-poller under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { describeFuzz, type Msg, type Spec } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'api-poller',
    outputs: 1,
    uses: ['api-endpoint'],
    config: (role) => ({
      endpoint: `ep-${role}`,
      url: '/records?q={{q}}',
      targetsFrom: 'msg',
      schedule: 'msg',
      pollOnStart: false,
      recordsPath: 'data',
      timeField: 'time',
      timeUnit: 'ms',
      output: 'record',
      maxRetries: 0,
      backoffBaseSeconds: 0.01,
      backoffMaxSeconds: 0.05,
    }),
    configNodes: (role, env) => [
      {
        id: `ep-${role}`,
        type: 'api-endpoint',
        name: '',
        baseUrl: env.apiUrl,
        authIn: 'none',
        keyRequired: false,
        rateRequests: 10_000,
        ratePeriodSeconds: 1,
        timeoutSeconds: 2,
      },
    ],
    valid: fc
      .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 3 })
      .map((qs) => ({ payload: qs.map((q) => ({ q, name: `${q}` })) })),
    invalid: fc.record({
      payload: fc.constantFrom<unknown>(
        42,
        true,
        null,
        {},
        'not json',
        '{"a":1}',
        [null],
        [{ q: {} }],
        [{ other: 'x' }],
      ),
    }),
    // Polls happen after done: wait until the fake API has answered before the next msg.
    afterFeed: (env, _msg, kind) => env.apiIdle(kind === 'valid' ? 1000 : 30),
    // A random target list may be valid: keep it off the valid targets' dedupe keys.
    rekey: (m) => {
      if (Array.isArray(m.payload))
        for (const t of m.payload as Msg[])
          if (t && typeof t === 'object' && (typeof t.q === 'string' || typeof t.q === 'number'))
            t.q = `chaos-${t.q}`;
    },
    compareAsSet: true,
    numRuns: 20,
  },
];

describeFuzz('api-poller', SPECS);
