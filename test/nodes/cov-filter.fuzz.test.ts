/** cov-filter under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import {
  describeFuzz,
  badNumber,
  finite,
  type Msg,
  type Spec,
  topicOff,
  validKey,
  validNumber,
} from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'cov-filter',
    outputs: 1,
    config: () => ({ absolute: 0.5, percent: 1, heartbeatSeconds: 0 }),
    valid: fc.record({ topic: validKey, payload: validNumber }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: badNumber }),
      fc.record({ topic: fc.constantFrom<unknown>({}, [], true), payload: finite }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, topic: 'v2' }, { reset: true }),
    rekey: topicOff,
    dedupeKey: (m) => (typeof m.topic === 'string' ? m.topic : ''),
  },
];

describeFuzz('cov-filter', SPECS);
