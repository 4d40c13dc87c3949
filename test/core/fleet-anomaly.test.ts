import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fleetZScores, StreamAnomalyDetector } from '../../nodes/core/fleet-anomaly';

const ROOT = join(__dirname, '..', '..', '..');
const ANOMALOUS = join(
  ROOT,
  'test',
  'fixtures',
  'windmill',
  'will-wright113_colibri-coding-challenge_testfixtures',
  'anomalous_data.csv',
);

function naiveMeanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, sd: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) };
}

/** Daily means of the clean set for one day, by plain splitting. */
function fleetMeans(day: string): number[] {
  const sums = new Map<string, number[]>();
  for (const i of [1, 2, 3]) {
    const lines = readFileSync(join(ROOT, 'data', 'windmill', `data_group_${i}.csv`), 'utf8')
      .trim()
      .split('\n');
    for (const line of lines.slice(1)) {
      const [t, turbine, , , power] = line.split(',');
      if (t.startsWith(day)) sums.set(turbine, [...(sums.get(turbine) ?? []), Number(power)]);
    }
  }
  return [...sums.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
}

describe('fleet-anomaly (core)', () => {
  it('scores each member against the mean and sample stdev of the batch', () => {
    const values = [1, 2, 3, 4, 100];
    const { mean, sd } = naiveMeanSd(values);
    const scores = fleetZScores(values, 1.5);
    scores.forEach((s, i) => {
      assert.ok(Math.abs((s.z as number) - (values[i] - mean) / sd) < 1e-12);
      assert.equal(s.mean, mean);
      assert.ok(Math.abs((s.stdev as number) - sd) < 1e-12);
    });
    assert.deepEqual(
      scores.map((s) => s.anomaly),
      [false, false, false, false, true],
    );
  });

  it('leaves members without a number out, with z null; a flat fleet has z 0', () => {
    const scores = fleetZScores([1, null, 3], 2);
    assert.equal(scores[1].z, null);
    assert.equal(scores[0].mean, 2);
    assert.deepEqual(
      fleetZScores([2, 2, 2], 2).map((s) => s.z),
      [0, 0, 0],
    );
    assert.equal(fleetZScores([5], 2)[0].z, null, 'one member has no spread');
  });

  it('cannot flag either turbine of the two-row anomalous fixture: |z| of 2 members is 1/√2', () => {
    const lines = readFileSync(ANOMALOUS, 'utf8').trim().split('\n').slice(1);
    const powers = lines.map((l) => Number(l.split(',')[4]));
    assert.deepEqual(powers, [13.1, 0.01]);
    const scores = fleetZScores(powers, 2);
    for (const s of scores) assert.ok(Math.abs(Math.abs(s.z as number) - Math.SQRT1_2) < 1e-12);
    assert.ok(scores.every((s) => !s.anomaly));
  });

  it('flags the fixture turbine reading 13.1 MW among the 15 turbines of a real day', () => {
    const means = fleetMeans('2022-03-31');
    assert.equal(means.length, 15);
    const fleet = [...means.slice(1), 13.1];
    const scores = fleetZScores(fleet, 2);
    assert.equal(scores[14].anomaly, true);
    assert.ok((scores[14].z as number) > 3);
    assert.equal(scores.filter((s) => s.anomaly).length, 1);
  });

  it('keeps |z| within (n − 1)/√n for tiny and for nearly equal values (fast-check counterexamples)', () => {
    const bound = 1 / Math.sqrt(2);
    for (const pair of [
      [6.77e-161, 0],
      [0, -5e-324],
      [-999999.9981407895, -999999.9981407891],
    ])
      for (const s of fleetZScores(pair, 2)) assert.ok(Math.abs(s.z as number) <= bound + 1e-9, String(pair));
  });

  it('never gives |z| above (n − 1)/√n (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 50 }),
        (values) => {
          const bound = (values.length - 1) / Math.sqrt(values.length);
          for (const s of fleetZScores(values, 2)) assert.ok(Math.abs(s.z as number) <= bound + 1e-9);
        },
      ),
    );
  });

  it('stream mode scores each value against the window of earlier values, never itself (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 2, max: 20 }),
        fc.integer({ min: 2, max: 20 }),
        (values, windowSize, rawMin) => {
          const minCount = Math.min(rawMin, windowSize);
          const detector = new StreamAnomalyDetector(2, windowSize, minCount);
          values.forEach((v, i) => {
            const got = detector.check('k', v);
            const earlier = values.slice(Math.max(0, i - windowSize), i);
            assert.equal(got.count, earlier.length);
            if (earlier.length < minCount) {
              assert.equal(got.z, null);
              assert.equal(got.anomaly, false);
              return;
            }
            const { mean, sd } = naiveMeanSd(earlier);
            assert.ok(Math.abs((got.mean as number) - mean) < 1e-6);
            if (sd > 1e-6) {
              const z = (v - mean) / sd;
              assert.ok(Math.abs((got.z as number) - z) < 1e-6 * Math.max(1, Math.abs(z)));
              if (Math.abs(Math.abs(z) - 2) > 1e-6) assert.equal(got.anomaly, Math.abs(z) > 2);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stream mode keeps one window per key and restores it from JSON', () => {
    const detector = new StreamAnomalyDetector(2, 10, 3);
    for (const v of [10, 11, 9, 10]) detector.check('a', v);
    for (const v of [100, 101]) detector.check('b', v);
    const restored = new StreamAnomalyDetector(2, 10, 3, JSON.parse(JSON.stringify(detector.toJSON())));
    const spike = restored.check('a', 50);
    assert.equal(spike.anomaly, true);
    assert.equal(spike.count, 4);
    assert.equal(restored.check('b', 50).z, null, 'b has only 2 earlier values');
    assert.throws(() => new StreamAnomalyDetector(2, 5, 6), /minCount 6 is above windowSize 5/);
  });
});
