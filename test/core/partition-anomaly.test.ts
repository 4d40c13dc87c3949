import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StreamAnomalyDetector } from '../../nodes/core/fleet-anomaly';
import {
  PartitionAnomalyStream,
  type PartitionAnomalyResult,
  type PartitionAnomalyState,
} from '../../nodes/core/partition-anomaly';
import { createPartitionOperator, type OperatorSettings } from '../../nodes/core/partition-operator';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const SEC = 1000;

interface Sample {
  key: string;
  t: number;
  v: number;
  seq: number;
}

/** Reference: one uninterrupted StreamAnomalyDetector, fed each key's samples in stream order. */
function reference(samples: Sample[], sigmas: number, windowSize: number, minCount: number) {
  const detector = new StreamAnomalyDetector(sigmas, windowSize, minCount);
  const newest = new Map<string, number>();
  const out: PartitionAnomalyResult[] = [];
  const refused: number[] = [];
  for (const s of samples) {
    if (s.t < (newest.get(s.key) ?? -Infinity)) {
      refused.push(s.seq);
      continue;
    }
    newest.set(s.key, s.t);
    out.push({ key: s.key, timeMs: s.t, value: s.v, ...detector.check(s.key, s.v), seq: s.seq });
  }
  return { out, refused };
}

describe('PartitionAnomalyStream (anomaly-flagger stream mode per key of one partition)', () => {
  it('scores each value against its key’s earlier values once minCount are there', () => {
    const op = new PartitionAnomalyStream({ sigmas: 2, windowSize: 4, minCount: 3 });
    const values = [10, 11, 9, 10, 30];
    const results = values.map((v, i) => {
      const added = op.add('w/t1', T0 + i * SEC, v, i + 1);
      assert.ok(added.ok);
      return added.results[0];
    });
    assert.deepEqual(
      results.slice(0, 3).map((r) => [r.z, r.anomaly, r.count]),
      [
        [null, false, 0],
        [null, false, 1],
        [null, false, 2],
      ],
    );
    // 10 against [10, 11, 9]: mean 10, stdev 1 → z 0; 30 against [10, 11, 9, 10]: z ≈ 24.5.
    assert.deepEqual(
      [results[3].z, results[3].anomaly, results[3].mean, results[3].stdev],
      [0, false, 10, 1],
    );
    assert.equal(results[4].anomaly, true);
    assert.ok((results[4].z as number) > 24 && (results[4].z as number) < 25);
    assert.deepEqual(
      { key: results[4].key, timeMs: results[4].timeMs, value: results[4].value, seq: results[4].seq },
      { key: 'w/t1', timeMs: T0 + 4 * SEC, value: 30, seq: 5 },
    );
  });

  it('refuses a sample before its key’s newest (lateness 0) and a new key beyond maxKeys; the rest go on', () => {
    const op = new PartitionAnomalyStream({ sigmas: 2, windowSize: 4, minCount: 2, maxKeys: 1 });
    assert.ok(op.add('w/t1', T0 + 10 * SEC, 1, 1).ok);
    assert.ok(op.add('w/t1', T0 + 10 * SEC, 2, 2).ok, 'the same time is in order');
    const late = op.add('w/t1', T0 + 5 * SEC, 3, 3);
    assert.equal(late.ok, false);
    assert.match(late.ok ? '' : late.reason, /before the newest of key "w\/t1".*lateness 0/);
    const full = op.add('w/t2', T0, 1, 4);
    assert.equal(full.ok, false);
    assert.match(full.ok ? '' : full.reason, /maxKeys.*"w\/t2"/);
    for (const [key, time, value] of [
      ['', T0 + 20 * SEC, 1],
      ['w/t1', NaN, 1],
      ['w/t1', T0 + 20 * SEC, NaN],
    ] as const) {
      const bad = op.add(key, time, value, 4);
      assert.match(bad.ok ? '' : bad.reason, /needs a key, a time and a finite number/);
    }
    assert.equal(op.seq, 4, 'the position moves past refused samples');
    const next = op.add('w/t1', T0 + 11 * SEC, 2, 5);
    assert.ok(next.ok);
    assert.equal(next.results[0].count, 2, 'the refused sample was not added to the window');
  });

  it('checks its settings', () => {
    assert.throws(() => new PartitionAnomalyStream({ sigmas: 0, windowSize: 10, minCount: 2 }), /k 0/);
    assert.throws(() => new PartitionAnomalyStream({ sigmas: 2, windowSize: 5, minCount: 6 }), /minCount 6/);
    assert.throws(
      () => new PartitionAnomalyStream({ sigmas: 2, windowSize: 1, minCount: 2 }),
      /windowSize 1/,
    );
  });

  it('restores only a state with the same sigmas, window size and min count', () => {
    const settings: OperatorSettings = {
      operator: 'anomaly-stream',
      windowMs: 1,
      hopMs: 1,
      sigmas: 3,
      windowSize: 5,
      minCount: 2,
    };
    const first = createPartitionOperator(settings);
    assert.equal(first.kind, 'anomaly-stream');
    first.operator.add('w/t1', T0, 1, 9);
    const state = JSON.parse(JSON.stringify(first.operator.toJSON())) as PartitionAnomalyState;
    assert.equal(createPartitionOperator(settings, state).operator.seq, 9);
    assert.equal(createPartitionOperator({ ...settings, windowSize: 6 }, state).operator.seq, 0);
    assert.equal(createPartitionOperator({ ...settings, operator: 'moving-window' }, state).operator.seq, 0);
  });

  it('checkpoint at any position + replay from there == one uninterrupted detector, bit for bit', () => {
    const sample = fc.record({
      key: fc.constantFrom('w/a', 'w/b', 'x/c'),
      // Mostly forward in time, sometimes back (refused as out of order).
      step: fc.integer({ min: -3, max: 10 }),
      v: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(sample, { minLength: 1, maxLength: 250 }),
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 2, max: 9 }),
        fc.nat(250),
        fc.nat(250),
        (raw, windowSize, minCountRaw, cutAt, crashAfter) => {
          const minCount = Math.min(minCountRaw, windowSize);
          const clock = new Map<string, number>();
          const samples: Sample[] = raw.map((r, i) => {
            const t = (clock.get(r.key) ?? T0) + r.step * SEC;
            clock.set(r.key, Math.max(t, clock.get(r.key) ?? T0));
            return { key: r.key, t, v: r.v, seq: i + 1 };
          });
          const cut = Math.min(cutAt, samples.length);
          const crash = Math.min(cut + crashAfter, samples.length);
          const settings: OperatorSettings = {
            operator: 'anomaly-stream',
            windowMs: 1,
            hopMs: 1,
            sigmas: 2,
            windowSize,
            minCount,
          };
          const refused: number[] = [];
          const feed = (op: PartitionAnomalyStream, s: Sample, into: PartitionAnomalyResult[]) => {
            const added = op.add(s.key, s.t, s.v, s.seq);
            if (added.ok) into.push(...added.results);
            else refused.push(s.seq);
          };
          const first = createPartitionOperator(settings).operator as PartitionAnomalyStream;
          const emitted: PartitionAnomalyResult[] = [];
          let checkpoint = '';
          for (const s of samples.slice(0, crash)) {
            if (s.seq === cut + 1) checkpoint = JSON.stringify(first.toJSON());
            feed(first, s, emitted);
          }
          if (checkpoint === '') checkpoint = JSON.stringify(first.toJSON());

          const restored = createPartitionOperator(settings, JSON.parse(checkpoint) as PartitionAnomalyState);
          const second = restored.operator as PartitionAnomalyStream;
          assert.equal(second.seq, cut);
          refused.splice(0, refused.length, ...refused.filter((seq) => seq <= cut));
          const replayed: PartitionAnomalyResult[] = [];
          for (const s of samples.slice(cut)) feed(second, s, replayed);

          const expected = reference(samples, 2, windowSize, minCount);
          assert.deepEqual([...emitted.filter((r) => r.seq <= cut), ...replayed], expected.out);
          assert.deepEqual(refused, expected.refused);
          // What the first owner emitted after the checkpoint, the replay emits identically.
          const again = new Map(replayed.map((r) => [r.seq, r]));
          for (const r of emitted.filter((r) => r.seq > cut)) assert.deepEqual(again.get(r.seq), r);
        },
      ),
      { numRuns: 300 },
    );
  });
});
