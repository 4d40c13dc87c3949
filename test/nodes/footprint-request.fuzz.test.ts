/** footprint-request under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { describeFuzz, seriesName, type Spec } from '../harness/fuzz';

const SPECS: Spec[] = [
  {
    type: 'footprint-request',
    outputs: 2,
    config: () => ({ measurement: 'carbon_footprint', tag: 'asset_id' }),
    valid: fc
      .record({
        asset: seriesName,
        from: fc.integer({ min: 1, max: 48 }),
        len: fc.integer({ min: 0, max: 10 }),
        format: fc.constantFrom('json', 'svg'),
      })
      .map(({ asset, from, len, format }) => ({
        req: {
          params: { asset },
          query: { date: '2019-11-25', from: String(from), to: String(Math.min(48, from + len)), format },
        },
      })),
    invalid: fc.record({
      req: fc.record({
        params: fc.record({ asset: fc.constantFrom<unknown>('a1', "a'; DROP", '') }),
        query: fc.constantFrom<unknown>(
          { date: '2019-02-30', from: '1', to: '2' },
          { date: "2019-11-25' OR 1=1 --", from: '1', to: '2' },
          { date: '2019-11-25', from: '20', to: '14' },
          { date: '2019-11-25', from: 'x', to: '2' },
          { date: '2019-11-25', format: 'xml' },
        ),
      }),
    }),
    reportedBy: ['reply4xx'],
    expectValid: (outs) => assert.ok(outs.length === 1 && outs[0].port === 0, 'a query on output 1'),
  },
];

describeFuzz('footprint-request', SPECS);
