/** Naive references for the window tests: exact recomputation from the samples, and the tolerance. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { WindowSummary } from '../../nodes/core/sliding-window';

/** Exact float sum (Shewchuk's partials, as Python's math.fsum), the reference for sums. */
export function fsum(xs: readonly number[]): number {
  const partials: number[] = [];
  for (let x of xs) {
    let i = 0;
    for (let y of partials) {
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }
  let hi = 0;
  while (partials.length > 0) {
    const x = partials.pop() as number;
    const y = hi;
    hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) {
      partials.push(lo);
      break;
    }
  }
  return hi + partials.reduce((a, b) => a + b, 0);
}

/** Recomputes every aggregate from scratch (two-pass, exact sums). */
export function naiveSummary(samples: ReadonlyArray<{ t: number; v: number }>): WindowSummary {
  const xs = samples.map((s) => s.v);
  const n = xs.length;
  if (n === 0) {
    return {
      count: 0,
      sum: 0,
      mean: null,
      min: null,
      max: null,
      stdev: null,
      first: null,
      last: null,
      firstTimeMs: null,
      lastTimeMs: null,
    };
  }
  const sum = fsum(xs);
  const m = sum / n;
  const d = xs.map((x) => x - m);
  const m2 = fsum(d.map((x) => x * x)) - fsum(d) ** 2 / n;
  return {
    count: n,
    sum,
    mean: sum / n,
    min: Math.min(...xs),
    max: Math.max(...xs),
    stdev: n > 1 ? Math.sqrt(Math.max(0, m2) / (n - 1)) : null,
    first: xs[0],
    last: xs[n - 1],
    firstTimeMs: samples[0].t,
    lastTimeMs: samples[n - 1].t,
  };
}

/**
 * Within 1e-9 relative. The floors are the rounding resolution of the inputs themselves:
 * a sum whose exact value cancels to below 1e-20 × Σ|x| is checked absolutely, and so is
 * a standard deviation below 4 ulp of the largest |value| (no double algorithm resolves
 * spread finer than the spacing of the values it is given), as is one below 1e-150.
 */
export function assertClose(got: WindowSummary, want: WindowSummary, xs: readonly number[]): void {
  // === so that -0 and 0 (JSON keeps no sign of zero) count as the same value.
  for (const k of ['count', 'min', 'max', 'first', 'last', 'firstTimeMs', 'lastTimeMs'] as const) {
    assert.ok(got[k] === want[k], `${k}: got ${got[k]}, want ${want[k]}`);
  }
  if (want.count === 0) return;
  const absSum = xs.reduce((a, x) => a + Math.abs(x), 0);
  const maxAbs = xs.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  const close = (a: number | null, b: number | null, floor: number, what: string) => {
    if (b === null) return assert.equal(a, null, what);
    assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.abs(b) + floor, `${what}: got ${a}, want ${b}`);
  };
  close(got.sum, want.sum, 1e-20 * absSum, 'sum');
  close(got.mean, want.mean, (1e-20 * absSum) / want.count, 'mean');
  // Below 1e-150 the squares underflow (in the reference too).
  close(got.stdev, want.stdev, 4 * Number.EPSILON * maxAbs + 1e-150, 'stdev');
}

export const extremeValue = fc.oneof(
  fc.constantFrom(1e12, -1e12, 1e-12, -1e-12, 1e-300, 0, 1),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -3, max: 3 }),
);
