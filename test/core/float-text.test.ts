/** floatText, influx-write's number → text fast path, against String (what it replaces). */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { floatText } from '../../nodes/core/float-text';

const same = (n: number) => assert.equal(floatText(n), String(n), `${n}`);

describe('floatText', () => {
  it('prints any double as String does', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), same), { numRuns: 20_000 });
  });

  it('prints decimals of up to 17 digits and 9 decimals (the fast path and its edges) as String does', () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }), fc.integer({ min: 0, max: 9 }))
      .map(([digits, decimals]) => Number(`${digits}e-${decimals}`));
    fc.assert(fc.property(decimal, same), { numRuns: 20_000 });
    const sensor = fc
      .tuple(fc.integer({ min: -99_999, max: 99_999 }), fc.constantFrom(1, 10, 100, 1000))
      .map(([m, scale]) => m / scale);
    fc.assert(fc.property(sensor, same), { numRuns: 20_000 });
  });

  it('prints the corners as String does', () => {
    for (const n of [
      0.1,
      0.2,
      0.1 + 0.2,
      1.5,
      1.05,
      9.95,
      49.99,
      50.01,
      -12.5,
      1e-6,
      1.5e-6,
      9.99e-7,
      1e-7,
      0.000001,
      0.0000015,
      999_999_999.999999,
      999_999_999.9999999,
      1e9,
      1e9 + 0.5,
      123_456_789.123456,
      2 ** 53,
      1e21,
      5e-324,
      Number.MAX_VALUE,
      -Number.MIN_VALUE,
      4.35,
      4.345,
      0.3,
      1 / 3,
      -1 / 3,
      2 / 3,
    ])
      same(n);
  });
});
