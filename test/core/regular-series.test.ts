import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RegularSeries } from '../../nodes/core/regular-series';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

describe('regular series', () => {
  it('puts a sample on the nearest step, so a little early or late lands on the hour', () => {
    const s = new RegularSeries(H, 10);
    const first = s.add(T0 + 10 * 60_000, 1);
    assert.equal(first.kind, 'step');
    assert.equal(s.timeOf((first as { step: number }).step), T0);
    const next = s.add(T0 + H - 20_000, 2);
    assert.equal(s.timeOf((next as { step: number }).step), T0 + H);
  });

  it('fills missing steps with the last value and counts them', () => {
    const s = new RegularSeries(H, 10);
    s.add(T0, 5);
    const r = s.add(T0 + 4 * H, 9);
    assert.deepEqual(r, { kind: 'step', step: T0 / H + 4, filled: 3, appended: [5, 5, 5, 9] });
    assert.deepEqual(s.values(), [5, 5, 5, 5, 9]);
    assert.equal(s.filledTotal, 3);
  });

  it('drops and counts a sample for a step already seen', () => {
    const s = new RegularSeries(H, 10);
    s.add(T0, 1);
    s.add(T0 + H, 2);
    assert.equal(s.add(T0 + H + 60_000, 3).kind, 'dropped');
    assert.equal(s.add(T0, 4).kind, 'dropped');
    assert.deepEqual(s.values(), [1, 2]);
    assert.equal(s.droppedTotal, 2);
  });

  it('restarts after a gap longer than it would fill', () => {
    const s = new RegularSeries(H, 10, 3);
    s.add(T0, 1);
    assert.equal(s.add(T0 + 4 * H, 2).kind, 'step');
    const r = s.add(T0 + 9 * H, 3);
    assert.deepEqual(r, { kind: 'restart', step: T0 / H + 9, missed: 4 });
    assert.deepEqual(s.values(), [3]);
    assert.equal(s.restartsTotal, 1);
  });

  it('keeps the last `capacity` values of any stream, like a naive reference', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -50, max: 50 })), {
          maxLength: 60,
        }),
        (capacity, steps) => {
          const s = new RegularSeries(1000, capacity, 100);
          const all: number[] = [];
          let t = 0;
          for (const [gap, value] of steps) {
            t += gap * 1000;
            const r = s.add(t, value);
            if (r.kind === 'dropped') continue;
            if (all.length > 0) for (let i = 0; i < gap - 1; i++) all.push(all[all.length - 1]);
            all.push(value);
          }
          assert.deepEqual(s.values(), all.slice(-capacity));
          const restored = RegularSeries.fromJSON(JSON.parse(JSON.stringify(s.toJSON())), capacity, 100);
          assert.deepEqual(restored.values(), s.values());
          assert.equal(restored.lastStep, s.lastStep);
          assert.equal(restored.filledTotal, s.filledTotal);
        },
      ),
      { numRuns: 200, seed: 9 },
    );
  });

  it('keeps the newest values when restored with a smaller capacity', () => {
    const s = new RegularSeries(H, 5);
    for (let i = 0; i < 5; i++) s.add(T0 + i * H, i);
    const r = RegularSeries.fromJSON(s.toJSON(), 2);
    assert.deepEqual(r.values(), [3, 4]);
    assert.equal(r.add(T0 + 5 * H, 5).kind, 'step');
    assert.deepEqual(r.values(), [4, 5]);
  });
});
