/** rain-next-hour under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { describeFuzz, oneOutput, type Spec, T0 } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'rain-next-hour',
    outputs: 1,
    config: () => ({ property: 'payload', horizonMinutes: 60, unit: 'mm/h' }),
    valid: fc
      .record({
        start: fc.integer({ min: 0, max: 1000 }),
        rates: fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { maxLength: 61 }),
      })
      .map(({ start, rates }) => {
        const dt = T0 / 1000 + start * 60;
        return {
          payload: {
            current: { dt },
            minutely: rates.map((r, i) => ({ dt: dt + i * 60, precipitation: r })),
          },
        };
      }),
    invalid: fc.record({
      payload: fc.constantFrom<unknown>(null, 3, 'x', [], {}, { minutely: 'no' }, { minutely: [] }),
    }),
    expectValid: oneOutput,
  },
];

describeFuzz('rain-next-hour', SPECS);
