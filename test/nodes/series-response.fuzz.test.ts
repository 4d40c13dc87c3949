/** series-response under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { describeFuzz, finite, oneOutput, seriesName, type Spec, T0 } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'series-response',
    outputs: 1,
    config: () => ({}),
    valid: fc
      .record({ series: seriesName, values: fc.array(finite, { maxLength: 10 }) })
      .map(({ series, values }) => ({
        seriesQuery: {
          series,
          tag: 'series',
          start: '2024-01-01T00:00:00.000Z',
          end: '2024-01-02T00:00:00.000Z',
          resolution: '1m',
          points: 1440,
        },
        payload: [
          { key: 'series', value: series },
          ...values.map((v, i) => ({ time: T0 + i * 60_000, mean: v })),
        ],
      })),
    invalid: fc.oneof(
      fc.record({ payload: fc.constant([]) }),
      fc.record({
        seriesQuery: fc.constant({ series: 's', tag: 'series' }),
        payload: fc.constantFrom<unknown>(null, {}, 'rows'),
      }),
    ),
    expectValid: oneOutput,
  },
];

describeFuzz('series-response', SPECS);
