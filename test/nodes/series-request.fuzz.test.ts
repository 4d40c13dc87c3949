/** series-request under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { describeFuzz, seriesName, type Spec, T0 } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'series-request',
    outputs: 2,
    config: () => ({
      measurement: 'grid_frequency',
      field: 'hz',
      tag: 'series',
      maxPoints: 10_000,
      rollupLevels: '1m,15m,1h,1d',
      rollupRetentionPolicy: 'rollup_{level}',
    }),
    valid: fc
      .record({
        series: seriesName,
        s: fc.integer({ min: 0, max: 86_400 }),
        span: fc.integer({ min: 1, max: 3600 }),
      })
      .map(({ series, s, span }) => ({
        req: {
          params: { series },
          query: {
            start: new Date(T0 + s * 1000).toISOString(),
            end: new Date(T0 + (s + span) * 1000).toISOString(),
            resolution: '1m',
          },
        },
      })),
    invalid: fc.record({
      req: fc.record({
        params: fc.record({
          series: fc.constantFrom<unknown>("x'; DROP DATABASE gridflow", '', 'a b', '../x', 7, null, ['a']),
        }),
        query: fc.constant({ start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z', resolution: '1m' }),
      }),
    }),
    reportedBy: ['reply4xx'],
    expectValid: (outs) => assert.ok(outs.length === 1 && outs[0].port === 0, 'a query on output 1'),
  },
];

describeFuzz('series-request', SPECS);
