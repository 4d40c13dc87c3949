/** moving-window under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import {
  describeFuzz,
  badNumber,
  badTime,
  eventTime,
  finite,
  type Msg,
  oneOutput,
  type Spec,
  topicOff,
  validKey,
  validNumber,
} from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'moving-window',
    outputs: 2,
    config: () => ({
      windowSeconds: 300,
      hopSeconds: 0,
      timeProperty: 'timestamp',
      aggregates: ['mean', 'min', 'max', 'sum', 'count', 'stdev', 'first', 'last'],
    }),
    valid: fc.record({ topic: validKey, payload: validNumber, timestamp: eventTime(3600) }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: badNumber, timestamp: eventTime(3600) }),
      fc.record({ topic: validKey, payload: finite, timestamp: badTime }),
      fc.record({
        topic: fc.constantFrom<unknown>({}, [], true, NaN),
        payload: finite,
        timestamp: eventTime(3600),
      }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, topic: 'v1' }, { reset: true }),
    rekey: topicOff,
    dedupeKey: (m) => (typeof m.topic === 'string' ? m.topic : ''),
    expectValid: oneOutput,
  },
];
// The same with one msg per emission ({payload: [{topic, payload}]}, docs/adr/0151).
SPECS.push({
  ...SPECS[0],
  name: 'batch output',
  config: (role, env) => ({ ...SPECS[0].config(role, env), output: 'batch' }),
});

describeFuzz('moving-window', SPECS);
