/** anomaly-flagger under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  describeFuzz,
  badNumber,
  finite,
  type Msg,
  type Spec,
  VALID_KEYS,
  validKey,
  validNumber,
} from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'anomaly-flagger',
    name: 'anomaly-flagger (stream)',
    outputs: 2,
    config: () => ({
      mode: 'stream',
      k: 2,
      property: 'payload.value',
      keyProperty: 'payload.key',
      windowSize: 20,
      minCount: 3,
    }),
    valid: fc.record({ payload: fc.record({ key: validKey, value: validNumber }) }),
    invalid: fc.oneof(
      fc.record({ payload: fc.record({ key: validKey, value: badNumber }) }),
      fc.record({ payload: fc.constantFrom<unknown>(null, 3, 'x', [], undefined) }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, payload: { key: 'v1' } }),
    rekey: (m) => {
      const p = m.payload as Record<string, unknown> | null;
      if (p && typeof p === 'object' && VALID_KEYS.includes(p.key as string)) p.key = 'chaos';
    },
    expectValid: (outs) => assert.ok(outs.some((o) => o.port === 0)),
  },
  {
    type: 'anomaly-flagger',
    name: 'anomaly-flagger (fleet)',
    outputs: 2,
    config: () => ({ mode: 'fleet', k: 2, property: 'payload.value', keyProperty: 'payload.key' }),
    valid: fc.record({
      payload: fc.array(fc.record({ id: fc.constantFrom('a', 'b', 'c'), value: finite }), { maxLength: 12 }),
    }),
    invalid: fc.record({ payload: fc.constantFrom<unknown>(null, 3, 'x', {}, undefined, true) }),
    expectValid: (outs) => assert.ok(outs.some((o) => o.port === 0)),
  },
];

describeFuzz('anomaly-flagger', SPECS);
