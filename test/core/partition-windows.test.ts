import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PartitionWindows,
  type PartitionWindowResult,
  type PartitionWindowsState,
} from '../../nodes/core/partition-windows';
import { fairShare, planLeases, type LeaseView } from '../../nodes/core/partition-leases';

const MIN = 60_000;

/** Naive reference: every window (T − length, T] with T a hop multiple ≤ the key's newest sample. */
function naiveWindows(samples: { key: string; t: number; v: number }[], windowMs: number, hopMs: number) {
  const out: Omit<PartitionWindowResult, 'seq'>[] = [];
  const keys = [...new Set(samples.map((s) => s.key))];
  for (const key of keys) {
    const mine = samples.filter((s) => s.key === key);
    const newest = mine[mine.length - 1].t;
    for (let end = Math.ceil(mine[0].t / hopMs) * hopMs; end <= newest; end += hopMs) {
      const inside = mine.filter((s) => s.t > end - windowMs && s.t <= end).map((s) => s.v);
      if (inside.length === 0) continue;
      out.push({
        key,
        startMs: end - windowMs,
        endMs: end,
        count: inside.length,
        mean: inside.reduce((a, b) => a + b, 0) / inside.length,
        min: Math.min(...inside),
        max: Math.max(...inside),
      });
    }
  }
  return out;
}

const byKeyAndEnd = (a: { key: string; endMs: number }, b: { key: string; endMs: number }) =>
  a.key.localeCompare(b.key) || a.endMs - b.endMs;

describe('PartitionWindows (event-time windows of one partition)', () => {
  it('emits (T − 5 min, T] when the first sample stamped ≥ T arrives', () => {
    const w = new PartitionWindows(5 * MIN, MIN);
    assert.deepEqual(w.add('s/a', 30_000, 1, 1), { ok: true, results: [] });
    assert.deepEqual(w.add('s/a', 59_000, 3, 2), { ok: true, results: [] });
    const closed = w.add('s/a', 60_000, 5, 3);
    assert.ok(closed.ok);
    assert.deepEqual(closed.results, [
      { key: 's/a', startMs: 60_000 - 5 * MIN, endMs: 60_000, count: 3, mean: 3, min: 1, max: 5, seq: 3 },
    ]);
    const later = w.add('s/a', 3 * MIN + 1, 7, 4);
    assert.ok(later.ok);
    assert.deepEqual(
      later.results.map((r) => [r.endMs, r.count]),
      [
        [2 * MIN, 3],
        [3 * MIN, 3],
      ],
    );
  });

  it('refuses a sample not after its key’s newest, and keeps going', () => {
    const w = new PartitionWindows(5 * MIN, MIN);
    w.add('s/a', 10_000, 1, 1);
    const late = w.add('s/a', 10_000, 2, 2);
    assert.equal(late.ok, false);
    assert.equal(w.seq, 2, 'the position moves past a refused sample');
    assert.ok(w.add('s/a', 11_000, 2, 3).ok);
  });

  it('jumps over a long gap without emitting empty windows', () => {
    const w = new PartitionWindows(5 * MIN, MIN);
    w.add('s/a', 1_000, 1, 1);
    const after = w.add('s/a', 30 * 24 * 60 * MIN, 2, 2);
    assert.ok(after.ok);
    assert.deepEqual(
      after.results.map((r) => r.endMs),
      [MIN, 2 * MIN, 3 * MIN, 4 * MIN, 5 * MIN, 30 * 24 * 60 * MIN],
    );
  });

  it('restores a checkpoint of ring samples (before pane windows) into panes and goes on as the naive reference', () => {
    // Written by the ring-only build after s/a at 10 s … 400 s (value i/8) and t/c at 35 s, 65 s, … 395 s (−i/8).
    const path = join(
      __dirname,
      '..',
      '..',
      '..',
      'test',
      'fixtures',
      'partition-windows-ring-checkpoint.json',
    );
    const checkpoint = JSON.parse(readFileSync(path, 'utf8')) as PartitionWindowsState;
    const before: { key: string; t: number; v: number }[] = [];
    for (let i = 1; i <= 40; i++) {
      before.push({ key: 's/a', t: i * 10_000, v: i / 8 });
      if (i % 3 === 0) before.push({ key: 't/c', t: i * 10_000 + 5000, v: -i / 8 });
    }
    const after = [41, 50, 62, 75, 99].flatMap((i) => [
      { key: 's/a', t: i * 10_000, v: i / 8 },
      { key: 't/c', t: i * 10_000 + 5000, v: -i / 8 },
    ]);
    const w = PartitionWindows.fromJSON(checkpoint);
    const got = after.flatMap((x, i) => {
      const r = w.add(x.key, x.t, x.v, checkpoint.seq + i + 1);
      assert.ok(r.ok);
      return r.results.map(({ seq: _seq, ...rest }) => rest);
    });
    // Both keys' next window ended at 420 s when the checkpoint was taken.
    const expected = naiveWindows([...before, ...after], 5 * MIN, MIN).filter((r) => r.endMs >= 420_000);
    assert.ok(got.length > 5);
    assert.deepEqual(got.sort(byKeyAndEnd), expected.sort(byKeyAndEnd));
    assert.equal(w.toJSON().keys['s/a'].window.kind, 'panes');
  });

  it('equals a naive per-key reference, also when checkpointed and restored mid-stream', () => {
    const sample = fc.record({
      key: fc.constantFrom('s/a', 's/b', 't/c'),
      gap: fc.integer({ min: 1, max: 90_000 }),
      v: fc.integer({ min: -1000, max: 1000 }),
    });
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 200 }), fc.nat(200), (raw, cutAt) => {
        const clock = new Map<string, number>();
        const samples = raw.map((s) => {
          const t = (clock.get(s.key) ?? 0) + s.gap;
          clock.set(s.key, t);
          return { key: s.key, t, v: s.v / 8 };
        });
        let w = new PartitionWindows(5 * MIN, MIN);
        const got: PartitionWindowResult[] = [];
        samples.forEach((s, i) => {
          if (i === cutAt) w = PartitionWindows.fromJSON(JSON.parse(JSON.stringify(w.toJSON())));
          const r = w.add(s.key, s.t, s.v, i + 1);
          assert.ok(r.ok);
          got.push(...r.results);
        });
        assert.equal(w.seq, samples.length);
        const expected = naiveWindows(samples, 5 * MIN, MIN).sort(byKeyAndEnd);
        assert.deepEqual(got.map(({ seq: _seq, ...rest }) => rest).sort(byKeyAndEnd), expected);
      }),
    );
  });
});

/**
 * Naive reference with an idle watermark: a sample is late at or before its key's newest or
 * the watermark (partition newest − idle, floored to the hop, when the sample arrives);
 * every non-empty window of a key ending at or before its newest sample or the final
 * watermark is emitted.
 */
function naiveIdleWindows(samples: { key: string; t: number; v: number }[], idleMs: number) {
  let newest = -Infinity;
  let watermark = -Infinity;
  const newestByKey = new Map<string, number>();
  const accepted: typeof samples = [];
  for (const s of samples) {
    if (s.t <= watermark || s.t <= (newestByKey.get(s.key) ?? -Infinity)) continue;
    accepted.push(s);
    newestByKey.set(s.key, s.t);
    newest = Math.max(newest, s.t);
    watermark = Math.max(watermark, Math.floor((newest - idleMs) / MIN) * MIN);
  }
  const out: Omit<PartitionWindowResult, 'seq'>[] = [];
  for (const [key, keyNewest] of newestByKey) {
    const mine = accepted.filter((s) => s.key === key);
    for (let end = Math.ceil(mine[0].t / MIN) * MIN; end <= Math.max(keyNewest, watermark); end += MIN) {
      const inside = mine.filter((s) => s.t > end - 5 * MIN && s.t <= end).map((s) => s.v);
      if (inside.length === 0) continue;
      out.push({
        key,
        startMs: end - 5 * MIN,
        endMs: end,
        count: inside.length,
        mean: inside.reduce((a, b) => a + b, 0) / inside.length,
        min: Math.min(...inside),
        max: Math.max(...inside),
      });
    }
  }
  return { out, accepted: accepted.length };
}

describe('PartitionWindows idle closing and key limits', () => {
  it("closes a quiet key's windows once the partition is idle-time past them, then drops the key", () => {
    const w = new PartitionWindows(5 * MIN, MIN, { idleMs: 2 * MIN });
    assert.ok(w.add('s/quiet', 30_000, 4, 1).ok);
    assert.ok(w.add('s/busy', 30_000, 1, 2).ok);
    const before = w.add('s/busy', 2 * MIN + 59_000, 1, 3);
    assert.ok(before.ok);
    assert.deepEqual(
      before.results.map((r) => [r.key, r.endMs]),
      [
        ['s/busy', MIN],
        ['s/busy', 2 * MIN],
      ],
    );
    const crossed = w.add('s/busy', 3 * MIN, 1, 4); // watermark 3 min − 2 min = 1 min
    assert.ok(crossed.ok);
    assert.deepEqual(
      crossed.results.map((r) => [r.key, r.endMs, r.mean, r.seq]),
      [
        ['s/busy', 3 * MIN, 1, 4],
        ['s/quiet', MIN, 4, 4],
      ],
    );
    assert.equal(w.watermark, MIN);
    const late = w.add('s/quiet', 50_000, 9, 5);
    assert.equal(late.ok, false);
    assert.match(late.ok ? '' : late.reason, /idle watermark/);
    // 0:30 has left every window ending after the watermark once it reaches 5 min: key dropped.
    assert.equal(w.keyCount, 2);
    const far = w.add('s/busy', 7 * MIN, 1, 6);
    assert.ok(far.ok);
    assert.deepEqual(
      far.results.filter((r) => r.key === 's/quiet').map((r) => [r.endMs, r.count]),
      [
        [2 * MIN, 1],
        [3 * MIN, 1],
        [4 * MIN, 1],
        [5 * MIN, 1],
      ],
    );
    assert.equal(w.keyCount, 1, 'the quiet key is no longer held');
  });

  it('refuses a new key beyond maxKeys, keeps serving the keys it holds', () => {
    const w = new PartitionWindows(5 * MIN, MIN, { maxKeys: 2 });
    assert.ok(w.add('s/a', 1_000, 1, 1).ok);
    assert.ok(w.add('s/b', 1_000, 1, 2).ok);
    const refused = w.add('s/c', 1_000, 1, 3);
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.reason, /maxKeys/);
    assert.equal(w.seq, 3);
    assert.ok(w.add('s/a', 2_000, 1, 4).ok);
    assert.equal(w.keyCount, 2);
  });

  it('with keys dropped from state, equals a naive idle-watermark reference, also across checkpoints', () => {
    const sample = fc.record({
      key: fc.constantFrom('s/a', 's/b', 's/c', 't/d'),
      // Mostly forward in partition time, sometimes behind: late samples happen.
      dt: fc.integer({ min: -200_000, max: 120_000 }),
      v: fc.integer({ min: -1000, max: 1000 }),
    });
    fc.assert(
      fc.property(
        fc.array(sample, { minLength: 1, maxLength: 200 }),
        fc.nat(200),
        fc.integer({ min: 1, max: 10 }),
        (raw, cutAt, idleMinutes) => {
          let clock = 10 * MIN;
          const samples = raw.map((s) => {
            clock = Math.max(0, clock + s.dt);
            return { key: s.key, t: clock + 1, v: s.v / 8 };
          });
          const options = { idleMs: idleMinutes * MIN - 7_000 };
          let w = new PartitionWindows(5 * MIN, MIN, options);
          const got: PartitionWindowResult[] = [];
          let accepted = 0;
          samples.forEach((s, i) => {
            if (i === cutAt) w = PartitionWindows.fromJSON(JSON.parse(JSON.stringify(w.toJSON())), options);
            const r = w.add(s.key, s.t, s.v, i + 1);
            if (r.ok) {
              accepted++;
              got.push(...r.results);
            }
          });
          const reference = naiveIdleWindows(samples, options.idleMs);
          assert.equal(accepted, reference.accepted);
          assert.deepEqual(
            got.map(({ seq: _seq, ...rest }) => rest).sort(byKeyAndEnd),
            reference.out.sort(byKeyAndEnd),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('planLeases (partition ownership)', () => {
  const free = (n: number): LeaseView[] =>
    Array.from({ length: n }, (_, partition) => ({ partition, lease: null }));

  it('a lone worker claims every partition; a second one makes it hand half back', () => {
    const alone = planLeases('w1', ['w1'], free(8), new Set(), 0);
    assert.deepEqual(alone, { claim: [0, 1, 2, 3, 4, 5, 6, 7], release: [] });
    const held: LeaseView[] = free(8).map((v) => ({
      ...v,
      lease: { owner: 'w1', acquiredAtMs: 0, expiresAtMs: 10_000 },
    }));
    const shared = planLeases('w1', ['w1', 'w2'], held, new Set([0, 1, 2, 3, 4, 5, 6, 7]), 1_000);
    assert.deepEqual(shared, { claim: [], release: [1, 3, 5, 7] });
    assert.deepEqual(planLeases('w2', ['w1', 'w2'], held, new Set(), 1_000), { claim: [], release: [] });
  });

  it('claims only free or expired leases, never more than a fair share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.option(
            fc.record({
              owner: fc.constantFrom('w0', 'w1', 'w2'),
              expiresAtMs: fc.integer({ min: 0, max: 2000 }),
            }),
          ),
          { maxLength: 32 },
        ),
        (partitions, workers, raw) => {
          const members = Array.from({ length: workers }, (_, i) => `w${i}`);
          const views: LeaseView[] = Array.from({ length: partitions }, (_, partition) => {
            const l = raw[partition];
            return {
              partition,
              lease: l ? { owner: l.owner, acquiredAtMs: 0, expiresAtMs: l.expiresAtMs } : null,
            };
          });
          const owned = new Set(
            views
              .filter((v) => v.lease?.owner === 'w0' && v.lease.expiresAtMs > 1000)
              .map((v) => v.partition),
          );
          const plan = planLeases('w0', members, views, owned, 1000);
          for (const p of plan.claim) {
            const lease = views[p].lease;
            assert.ok(lease === null || lease.expiresAtMs <= 1000, `claims live partition ${p}`);
            assert.ok(!owned.has(p));
          }
          assert.ok(owned.size + plan.claim.length - plan.release.length <= fairShare(partitions, workers));
          for (const p of plan.release) assert.ok(owned.has(p));
        },
      ),
    );
  });
});
