/** The reference the frequency e2e tests check the series API against. */
import assert from 'node:assert/strict';

export interface TimedValue {
  time: string;
  value: number;
}

/** Naive mean per epoch-aligned bucket over [start, end], both inclusive, empty buckets left out. */
export function naiveBucketMeans(
  points: readonly (readonly [timeMs: number, value: number])[],
  startMs: number,
  endMs: number,
  resolutionMs: number,
): TimedValue[] {
  const sums = new Map<number, { sum: number; n: number }>();
  for (const [t, v] of points) {
    if (t < startMs || t > endMs) continue;
    const bucket = Math.floor(t / resolutionMs) * resolutionMs;
    const s = sums.get(bucket) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n++;
    sums.set(bucket, s);
  }
  return [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, s]) => ({ time: new Date(t).toISOString(), value: s.sum / s.n }));
}

/** Same buckets at the same times, means equal to 1e-9. */
export function assertSameBuckets(actual: TimedValue[], expected: TimedValue[], what: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} buckets, expected ${expected.length}`,
  );
  actual.forEach((a, i) => {
    assert.equal(a.time, expected[i].time, what);
    assert.ok(
      Math.abs(a.value - expected[i].value) < 1e-9,
      `${what} ${a.time}: ${a.value} vs ${expected[i].value}`,
    );
  });
}
