/** cov-filter under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import {
  badNumber,
  finite,
  fuzzSpecs,
  type Msg,
  type Spec,
  topicOff,
  useFuzzEnv,
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

describe('cov-filter under random msgs (fast-check fuzz)', function () {
  this.timeout(120_000);
  const env = useFuzzEnv({});

  fuzzSpecs(SPECS, env);
});
