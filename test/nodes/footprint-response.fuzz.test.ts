/** footprint-response under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import fc from 'fast-check';
import { describeFuzz, halfHour, oneOutput, seriesName, type Spec } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'footprint-response',
    outputs: 1,
    config: () => ({}),
    valid: fc
      .record({
        asset: seriesName,
        n: fc.integer({ min: 0, max: 6 }),
        format: fc.constantFrom('json', 'svg'),
      })
      .map(({ asset, n, format }) => ({
        footprintQuery: { assetId: asset, date: '2024-01-01', from: 1, to: 48, format },
        payload: Array.from({ length: n }, (_, i) => ({
          time: halfHour(i),
          half_hour_id: i + 1,
          mean_kw: i,
          energy_kwh: i / 2,
          intensity: 100,
          footprint_g: i * 50,
        })),
      })),
    invalid: fc.oneof(
      fc.record({ payload: fc.constant([]) }),
      fc.record({
        footprintQuery: fc.constant({ assetId: 'a' }),
        payload: fc.constantFrom<unknown>(null, {}, 'rows'),
      }),
    ),
    expectValid: oneOutput,
  },
];

describeFuzz('footprint-response', SPECS);
