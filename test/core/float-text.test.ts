/**
 * floatText, influx-write's number → text fast path, and writeDigits / writeFloat, which
 * write the same text as bytes, against String (what they replace).
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { floatText, writeDigits, writeFloat } from '../../nodes/core/float-text';

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
  it('writes the digits of any integer in [0, 2^53) as String does, and nothing outside them', () => {
    const edges = [0, 9, 10, 99_999_999, 100_000_000, 1e15, 8.64e15, Number.MAX_SAFE_INTEGER];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...edges), fc.maxSafeNat()), fc.nat(8), (n, at) => {
        const bytes = Buffer.alloc(at + 20, '#');
        const end = writeDigits(bytes, at, n);
        assert.equal(bytes.toString('latin1', at, end), String(n));
        assert.equal(
          bytes.toString('latin1', 0, at) + bytes.toString('latin1', end),
          '#'.repeat(bytes.length - (end - at)),
        );
      }),
    );
  });

  it('writes any finite double as String does, or nothing where floatText falls back to String', () => {
    const written = (n: number, at: number) => {
      const bytes = Buffer.alloc(at + 32, '#');
      const end = writeFloat(bytes, at, n);
      const outside = bytes.toString('latin1', 0, at) + bytes.toString('latin1', Math.max(end, at));
      return { end, text: end < 0 ? '' : bytes.toString('latin1', at, end), outside, size: bytes.length };
    };
    const check = (n: number, at: number) => {
      const { end, text, outside, size } = written(n, at);
      if (end >= 0) assert.equal(text, String(n), `${n}`);
      assert.equal(outside, '#'.repeat(size - text.length), `${n}: nothing outside its text`);
    };
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.nat(8), check), {
      numRuns: 20_000,
    });
    const sensor = fc
      .tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.constantFrom(1, 10, 100, 1000, 1e6))
      .map(([m, scale]) => m / scale);
    // Sensor values and integers take the byte path (no string), not the fallback.
    fc.assert(
      fc.property(fc.oneof(sensor, fc.integer()), fc.nat(8), (n, at) => {
        check(n, at);
        assert.ok(written(n, at).end >= 0, `${n} took the fallback`);
      }),
      { numRuns: 20_000 },
    );
    for (const n of [
      0,
      -0,
      0.1,
      1e-6,
      1e-7,
      999_999_999.999999,
      2 ** 53 - 1,
      2 ** 53,
      -(2 ** 53),
      1e21,
      5e-324,
    ])
      check(n, 3);
  });
});
