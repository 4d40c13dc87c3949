/** forecaster under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import {
  describeFuzz,
  badNumber,
  badTime,
  finite,
  type Msg,
  type Spec,
  T0,
  topicOff,
  validKey,
  validNumber,
} from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'forecaster',
    outputs: 2,
    config: () => ({
      model: 'holt-winters',
      stepSeconds: 3600,
      season: 4,
      historySteps: 24,
      timeProperty: 'timestamp',
      retrainAt: '',
    }),
    valid: fc.record({
      topic: validKey,
      payload: validNumber,
      timestamp: fc.integer({ min: 0, max: 60 }).map((h) => T0 + h * 3_600_000),
    }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: badNumber, timestamp: fc.constant(T0) }),
      fc.record({ topic: validKey, payload: finite, timestamp: badTime }),
      fc.record({
        topic: fc.constantFrom<unknown>({}, [], true),
        payload: finite,
        timestamp: fc.constant(T0),
      }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, topic: 'v1' }, { retrain: true }),
    rekey: topicOff,
  },
];

describeFuzz('forecaster', SPECS);
