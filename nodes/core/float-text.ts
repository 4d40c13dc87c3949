/**
 * `String(n)` of a finite number, faster for the values sensors and CSV files give (a few
 * decimals, below 10^9): String runs the shortest-round-trip algorithm on every double
 * (≈ 110 ns, 3 of them were 15 % of a turbine CSV row written to InfluxDB); this finds the
 * decimal from an integer and a power of ten (≈ 25 ns) and falls back to String otherwise.
 *
 * Why it is the same text: if m / 10^6 === n for an integer m below 10^15, the decimal
 * m·10^-6 reads as n. Two decimals of at most 15 significant digits never read as the same
 * double (DBL_DIG = 15), so no other decimal of at most 15 digits reads as n: the digits of
 * m without its trailing zeros are the shortest decimal, the one String prints. At
 * 10^-6 ≤ |n| < 10^21 String prints it without an exponent, as here. (n · 10^6 is within
 * 0.25 of m for such n, so rounding it finds m when there is one.)
 *
 * writeFloat writes the same text as bytes, straight into influx-write's batch: no string
 * per number, which the batch's byte copy would first flatten (the pieces make a rope).
 */
const MILLION = 1e6;
const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];
/** Integer part below 10^9 and six decimals: m stays below 10^15. */
const MAX_MAGNITUDE = 1e9;
const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/** floatText's split of a short decimal (see splitDecimal), kept here so none is allocated per number. */
const split = { whole: 0, fraction: 0, decimals: 0 };

/**
 * Whether `magnitude` (≥ 0, not an integer) is below 10^9 with at most six decimals; if so,
 * `split` holds its whole part, its decimals as an integer and how many decimals it has.
 */
function splitDecimal(magnitude: number): boolean {
  if (!(magnitude < MAX_MAGNITUDE)) return false;
  let m = Math.round(magnitude * MILLION);
  if (m / MILLION !== magnitude) return false; // more than six decimals
  let decimals = 6;
  while (m % 10 === 0) {
    m /= 10;
    decimals--;
  }
  split.whole = Math.floor(magnitude);
  split.fraction = m - split.whole * POWERS_OF_TEN[decimals];
  split.decimals = decimals;
  return true;
}

export function floatText(n: number): string {
  const magnitude = n < 0 ? -n : n;
  if (Number.isInteger(magnitude) || !splitDecimal(magnitude)) return String(n);
  const fraction = String(split.fraction);
  const text = String(split.whole) + '.' + ZEROS[split.decimals - fraction.length] + fraction;
  return n < 0 ? '-' + text : text;
}

/** How many decimal digits `n`, an integer in [0, 2^53), has. */
function digitCount(n: number): number {
  let count = 1;
  for (let p = 10; p <= n; p *= 10) count++;
  return count;
}

/**
 * Writes the decimal digits of `n`, an integer in [0, 2^53), into `bytes` from `at`; returns
 * the end. The caller makes room for 16 bytes. Two parts below 10^8, so the digit loops run
 * on 32-bit integers.
 */
export function writeDigits(bytes: Uint8Array, at: number, n: number): number {
  const high = Math.floor(n / 1e8);
  let low = n - high * 1e8;
  const end = at + digitCount(n);
  let i = end;
  if (high > 0) {
    for (let d = 0; d < 8; d++) {
      const q = Math.floor(low / 10);
      bytes[--i] = 48 + low - q * 10;
      low = q;
    }
    low = high;
  }
  do {
    const q = Math.floor(low / 10);
    bytes[--i] = 48 + low - q * 10;
    low = q;
  } while (low > 0);
  return end;
}

const MINUS = 0x2d;
const POINT = 0x2e;
const ZERO = 0x30;
const MAX_SAFE = 2 ** 53;

/**
 * Writes floatText(n) of a finite `n` as ASCII into `bytes` from `at` (the caller makes room
 * for 32 bytes) without a string: integers below 2^53 and floatText's short decimals.
 * Returns the end, or -1 where floatText falls back to String (nothing is written then).
 */
export function writeFloat(bytes: Uint8Array, at: number, n: number): number {
  const magnitude = n < 0 ? -n : n;
  if (Number.isInteger(magnitude)) {
    if (magnitude >= MAX_SAFE) return -1;
    if (n < 0) bytes[at++] = MINUS;
    return writeDigits(bytes, at, magnitude);
  }
  if (!splitDecimal(magnitude)) return -1;
  if (n < 0) bytes[at++] = MINUS;
  at = writeDigits(bytes, at, split.whole);
  bytes[at++] = POINT;
  for (let zeros = split.decimals - digitCount(split.fraction); zeros > 0; zeros--) bytes[at++] = ZERO;
  return writeDigits(bytes, at, split.fraction);
}
