import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeyedWindows, type ClosedWindow, type KeyedWindowSettings } from '../../nodes/core/keyed-windows';
import { PaneWindow, paneMsFor, MAX_PANES_PER_WINDOW } from '../../nodes/core/pane-window';
import { SlidingWindow, type WindowSummary } from '../../nodes/core/sliding-window';
import { assertClose, extremeValue, naiveSummary } from './window-reference';

const BASE = Date.UTC(2024, 6, 5, 10);
const NOW = Date.UTC(2024, 6, 5, 12); // wall clock at the first sample, after every sample time

interface Accepted {
  key: string;
  t: number;
  v: number;
  order: number;
}

/** The naive window (end − length, end] of a key: its accepted samples, by time then arrival. */
function naiveWindow(accepted: readonly Accepted[], key: string, endMs: number, lengthMs: number) {
  const mine = accepted
    .filter((s) => s.key === key && s.t > endMs - lengthMs && s.t <= endMs)
    .sort((a, b) => a.t - b.t || a.order - b.order);
  return { summary: naiveSummary(mine), values: mine.map((s) => s.v) };
}

/** Everything but the rounding of sum, mean and stdev, which assertClose bounds. */
const exactPart = (w: ClosedWindow) => {
  const s: WindowSummary = w.summary;
  return [w.key, w.startMs, w.endMs, s.count, s.min, s.max, s.first, s.last, s.firstTimeMs, s.lastTimeMs];
};

describe('pane windows (hop windows by pane aggregation)', () => {
  it('pane length is gcd(length, hop), within the pane bound, whole ms only', () => {
    assert.equal(paneMsFor(300_000, 60_000), 60_000);
    assert.equal(paneMsFor(300_000, 120_000), 60_000);
    assert.equal(paneMsFor(90_000, 60_000), 30_000);
    assert.equal(paneMsFor(3_600_000, 1000), undefined, '3,600 panes: the ring');
    assert.equal(paneMsFor(MAX_PANES_PER_WINDOW * 1000, 1000), 1000);
    assert.equal(paneMsFor(1.5, 1), undefined);
    assert.equal(paneMsFor(300_000, 0), undefined);
  });

  it('equals a from-scratch recomputation and the ring at every closed window, with late and out-of-order samples', () => {
    const op = fc.record({
      advanceMs: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 5000, max: 90_000 }),
      ),
      behindMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })),
      value: extremeValue,
      query: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(1000, 5000, 10_000),
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0, 3000, 15_000),
        fc.array(op, { maxLength: 250 }),
        (paneMs, panesPerWindow, latenessMs, ops) => {
          const lengthMs = paneMs * panesPerWindow;
          const panes = new PaneWindow(lengthMs, paneMs, latenessMs);
          const ring = new SlidingWindow(lengthMs, latenessMs);
          const accepted: Accepted[] = [];
          let now = BASE;
          let closedThrough = -Infinity;
          ops.forEach((o, order) => {
            now += o.advanceMs;
            const t = now - o.behindMs;
            const refused = panes.add(t, o.value, closedThrough);
            assert.equal(refused, ring.add(t, o.value, closedThrough), `refusal of t=${t}`);
            if (refused === undefined) accepted.push({ key: '', t, v: o.value, order });
            // Close what no accepted sample can still reach: ends before newest − lateness.
            const endMs = Math.floor((panes.newestTimeMs - latenessMs - 1) / paneMs) * paneMs;
            if (!o.query || !(endMs > closedThrough)) return;
            closedThrough = endMs;
            assert.equal(panes.oldestAfter(endMs - lengthMs), ring.oldestAfter(endMs - lengthMs));
            const want = naiveWindow(accepted, '', endMs, lengthMs);
            assertClose(panes.sealedSummary(endMs), want.summary, want.values);
            assertClose(ring.sealedSummary(endMs), want.summary, want.values);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  const settings = (over: Partial<KeyedWindowSettings>): KeyedWindowSettings => ({
    lengthMs: 300_000,
    count: 0,
    hopMs: 60_000,
    latenessMs: 0,
    maxFutureMs: 86_400_000,
    idleMs: 60_000,
    emitEmpty: false,
    emitWarmup: true,
    ttlMs: 86_400_000,
    maxKeys: 100_000,
    ...over,
  });

  type Step =
    | { kind: 'sample'; key: string; offsetMs: number; delayMs: number; value: number }
    | { kind: 'idle'; wallMs: number }
    | { kind: 'restore' };

  /** Runs the steps; `restoreAs` builds the windows that go on from a JSON round trip of the state. */
  function run(
    s: KeyedWindowSettings,
    steps: readonly Step[],
    restoreAs: KeyedWindowSettings,
  ): { windows: ClosedWindow[]; accepted: Accepted[] } {
    let k = new KeyedWindows(s);
    const windows: ClosedWindow[] = [];
    const accepted: Accepted[] = [];
    let wall = NOW;
    steps.forEach((step, order) => {
      if (step.kind === 'restore') k = new KeyedWindows(restoreAs, JSON.parse(JSON.stringify(k.toJSON())));
      else if (step.kind === 'idle') windows.push(...k.closeIdle((wall += step.wallMs)));
      else {
        const t = BASE + step.offsetMs;
        const r = k.add(step.key, t, step.value, wall);
        if (r.ok) {
          windows.push(...r.closed);
          accepted.push({ key: step.key, t, v: step.value, order });
        }
      }
    });
    windows.push(...k.flush());
    return { windows, accepted };
  }

  /** Samples in arrival order: stamped on a rising time line, each delayed by up to `jitterMs`. */
  const arbitrarySteps = (jitterMs: number) =>
    fc
      .array(
        fc.oneof(
          {
            weight: 12,
            arbitrary: fc.record({
              kind: fc.constant('sample' as const),
              key: fc.constantFrom('a', 'b'),
              stepMs: fc.oneof(
                fc.constant(0), // samples stamped alike: first and last keep arrival order
                fc.integer({ min: 0, max: 20_000 }),
                fc.integer({ min: 60_000, max: 900_000 }),
              ),
              delay: fc.double({ min: 0, max: 1, noNaN: true }),
              value: extremeValue,
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant('idle' as const),
              wallMs: fc.integer({ min: 0, max: 400_000 }),
            }),
          },
          { weight: 1, arbitrary: fc.constant({ kind: 'restore' as const }) },
        ),
        { maxLength: 150 },
      )
      .map((raw) => {
        let offsetMs = 0;
        const steps: (Step & { arriveMs: number; seq: number })[] = raw.map((r, seq) => {
          if (r.kind !== 'sample') return { ...r, arriveMs: offsetMs, seq };
          offsetMs += r.stepMs;
          const delayMs = Math.floor(r.delay * jitterMs);
          return {
            kind: 'sample',
            key: r.key,
            offsetMs,
            delayMs,
            value: r.value,
            arriveMs: offsetMs + delayMs,
            seq,
          };
        });
        return steps.sort((p, q) => p.arriveMs - q.arriveMs || p.seq - q.seq) as Step[];
      });

  for (const [emitEmpty, emitWarmup, latenessMs] of [
    [false, true, 0],
    [true, true, 30_000],
    [false, false, 30_000],
    [true, false, 0],
  ] as const) {
    it(`keyed: panes give the ring's windows, each equal to its samples recomputed (lateness ${latenessMs / 1000} s${emitEmpty ? ', empty windows' : ''}${emitWarmup ? '' : ', no warm-up'}, idle, restore)`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom([300_000, 60_000], [120_000, 120_000], [90_000, 60_000]),
          arbitrarySteps(latenessMs),
          ([lengthMs, hopMs], steps) => {
            const s = settings({ lengthMs, hopMs, latenessMs, emitEmpty, emitWarmup });
            const ring = { ...s, paneWindows: false };
            const byPanes = run(s, steps, s);
            const byRing = run(ring, steps, ring);
            assert.deepEqual(byPanes.windows.map(exactPart), byRing.windows.map(exactPart));
            assert.deepEqual(byPanes.accepted, byRing.accepted, 'same samples accepted');
            for (const w of byPanes.windows) {
              const want = naiveWindow(byPanes.accepted, w.key, w.endMs as number, lengthMs);
              assertClose(w.summary, want.summary, want.values);
            }
          },
        ),
        { numRuns: 120 },
      );
    });
  }

  it('a ring state (moving-window state version 1) restores into panes and goes on as the ring would', () => {
    fc.assert(
      fc.property(arbitrarySteps(30_000), (steps) => {
        const s = settings({ latenessMs: 30_000 });
        const ring = { ...s, paneWindows: false };
        // Every 'restore' step hands the ring's saved samples to pane windows.
        const upgraded = run(ring, steps, s);
        const ringOnly = run(ring, steps, ring);
        assert.deepEqual(upgraded.windows.map(exactPart), ringOnly.windows.map(exactPart));
        for (const w of upgraded.windows) {
          const want = naiveWindow(upgraded.accepted, w.key, w.endMs as number, s.lengthMs);
          assertClose(w.summary, want.summary, want.values);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('saves a few panes per key, not the samples', () => {
    const k = new KeyedWindows(settings({}));
    for (let i = 0; i < 600; i++) k.add('k', BASE + i * 1000, i, NOW);
    const { window } = k.toJSON().keys.k;
    assert.equal(window.kind, 'panes');
    assert.ok(window.kind === 'panes' && window.panes.length <= 6, `${JSON.stringify(window).length} bytes`);
  });

  it('a pane state is dropped when the pane length changes (a new hop), as samples are on a new length', () => {
    const k = new KeyedWindows(settings({}));
    k.add('k', BASE + 1000, 1, NOW);
    assert.equal(new KeyedWindows(settings({ hopMs: 120_000 }), k.toJSON()).size, 1, 'same pane (60 s)');
    assert.equal(new KeyedWindows(settings({ hopMs: 30_000 }), k.toJSON()).size, 0);
    assert.equal(new KeyedWindows(settings({ hopMs: 0 }), k.toJSON()).size, 0);
  });
});
