import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ModelName } from '../../nodes/core/forecast-models';
import { ForecastStream, type ForecastSettings } from '../../nodes/core/forecast-stream';
import {
  PartitionForecaster,
  type PartitionForecastResult,
  type PartitionForecasterState,
} from '../../nodes/core/partition-forecaster';
import { createPartitionOperator, type OperatorSettings } from '../../nodes/core/partition-operator';
import { parseStreamSample } from '../../nodes/nats-in/stream-sample';

const H = 3_600_000;
const T0 = Date.UTC(2026, 2, 28, 20);

interface Reading {
  key: string;
  t: number;
  v: number;
  seq: number;
}

function settingsFor(model: ModelName, latenessMs: number): ForecastSettings {
  return {
    model,
    stepMs: H,
    season: 4,
    historySteps: 16,
    lags: [0, 1, 2],
    alphas: [0.5],
    ridgeLambda: 1e-4,
    accuracyWindow: 6,
    retrainAt: { hour: 0, minute: 15 },
    timeZone: 'Europe/London',
    latenessMs,
  };
}

/** Naive reference: one uninterrupted ForecastStream per key, fed that key's readings in stream order. */
function reference(readings: Reading[], settings: ForecastSettings) {
  const perKey = new Map<string, ForecastStream>();
  const out: PartitionForecastResult[] = [];
  const refused: number[] = [];
  for (const r of readings) {
    let stream = perKey.get(r.key);
    if (!stream) perKey.set(r.key, (stream = new ForecastStream(settings)));
    for (const o of stream.add(r.t, r.v)) {
      if (o.kind === 'dropped') {
        refused.push(r.seq);
        continue;
      }
      out.push({ key: r.key, seq: r.seq, kind: 'forecast', forecast: o.forecast, filled: o.filled });
      if (o.accuracy) out.push({ key: r.key, seq: r.seq, kind: 'accuracy', accuracy: o.accuracy });
    }
  }
  return { out, refused };
}

const operatorSettings = (forecast: ForecastSettings): OperatorSettings => ({
  operator: 'forecaster',
  forecast,
  windowMs: 1,
  hopMs: 1,
});

describe('PartitionForecaster (the forecaster per key of one partition, checkpointed with its position)', () => {
  it('forecasts each key with persistence until its history is full, then with the model; scores each forecast', () => {
    const op = new PartitionForecaster(settingsFor('seasonal-naive', 0));
    const first = op.add('t/a', T0, 10, 1);
    assert.deepEqual(first, {
      ok: true,
      results: [
        {
          key: 't/a',
          seq: 1,
          kind: 'forecast',
          forecast: { timeMs: T0, targetTimeMs: T0 + H, value: 10, model: 'persistence' },
          filled: 0,
        },
      ],
    });
    const second = op.add('t/a', T0 + H + 60_000, 12, 2); // 1 min past the step: still that step
    assert.ok(second.ok);
    assert.deepEqual(
      second.results.map((r) => r.kind),
      ['forecast', 'accuracy'],
    );
    const scored = second.results[1];
    assert.ok(scored.kind === 'accuracy');
    assert.deepEqual(
      { forecast: scored.accuracy.forecast, actual: scored.accuracy.actual, error: scored.accuracy.error },
      { forecast: 10, actual: 12, error: 2 },
    );
    // A season of 4 steps after 16 steps of history: seasonal naive = the value 4 steps back.
    let last: PartitionForecastResult[] = [];
    for (let i = 2; i < 16; i++) {
      const added = op.add('t/a', T0 + i * H, 10 + (i % 4), i + 1);
      assert.ok(added.ok);
      last = added.results;
    }
    const forecast = last.find((r) => r.kind === 'forecast');
    assert.ok(forecast?.kind === 'forecast');
    assert.deepEqual(forecast.forecast, {
      timeMs: T0 + 15 * H,
      targetTimeMs: T0 + 16 * H,
      value: 10, // the value at step 12 (12 % 4 = 0)
      model: 'seasonal-naive',
    });
    assert.equal(op.keyCount, 1);
  });

  it('refuses bad input with a reason and keeps the partition going', () => {
    const op = new PartitionForecaster(settingsFor('persistence', 0), 2);
    assert.ok(op.add('t/a', T0 + 2 * H, 1, 1).ok);
    const old = op.add('t/a', T0 + H, 1, 2);
    assert.equal(old.ok, false);
    assert.match(
      (old as { reason: string }).reason,
      /key "t\/a": sample at 2026-03-28T21:00:00.000Z is for the step at 2026-03-28T21:00:00.000Z, not after the key's last step \(2026-03-28T22:00:00.000Z\)/,
    );
    assert.match((op.add('t/a', T0 + 3 * H, NaN, 3) as { reason: string }).reason, /must be finite numbers/);
    assert.match((op.add('t/b', NaN, 1, 4) as { reason: string }).reason, /must be finite numbers/);
    assert.ok(op.add('t/b', T0, 1, 5).ok);
    assert.match(
      (op.add('t/c', T0, 1, 6) as { reason: string }).reason,
      /holds 2 keys \(maxKeys\): new key "t\/c"/,
    );
    assert.equal(op.seq, 6, 'the position moves past every refused sample');
    const next = op.add('t/a', T0 + 3 * H, 2, 7);
    assert.ok(next.ok && next.results.length === 2, 'the key goes on after its refused samples');
    // No key, no time, a non-number: refused by the sample parser before any operator.
    const enc = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));
    assert.match(
      (parseStreamSample('gridflow.part.1.t', enc({ time: 1, value: 1 }), 8) as { reason: string }).reason,
      /has no key/,
    );
    assert.match(
      (parseStreamSample('gridflow.part.1.t.a', enc({ value: 1 }), 9) as { reason: string }).reason,
      /no "time"/,
    );
    assert.match(
      (parseStreamSample('gridflow.part.1.t.a', enc({ time: 1, value: 'x' }), 10) as { reason: string })
        .reason,
      /not a finite number/,
    );
  });

  it('cannot be built without the forecaster settings', () => {
    assert.throws(
      () => createPartitionOperator({ operator: 'forecaster', windowMs: 1, hopMs: 1 }),
      /forecaster settings/,
    );
  });

  it('restores only a checkpoint written under the same forecaster settings', () => {
    const settings = settingsFor('ridge', 0);
    const op = new PartitionForecaster(settings);
    for (let i = 0; i < 20; i++) op.add('t/a', T0 + i * H, i % 5, i + 1);
    const state = JSON.parse(JSON.stringify(op.toJSON())) as PartitionForecasterState;
    const same = createPartitionOperator(operatorSettings(settings), state);
    assert.equal(same.kind, 'forecaster');
    assert.equal(same.operator.seq, 20);
    assert.deepEqual(same.operator.toJSON(), op.toJSON());
    for (const other of [
      { season: 5 },
      { retrainAt: undefined },
      { latenessMs: H },
      { model: 'holt-winters' as const },
    ])
      assert.equal(
        createPartitionOperator(operatorSettings({ ...settings, ...other }), state).operator.seq,
        0,
      );
    assert.equal(createPartitionOperator({ windowMs: 60_000, hopMs: 60_000 }, state).operator.seq, 0);
    assert.equal(
      createPartitionOperator({ operator: 'cov-resample', windowMs: 1, hopMs: 1 }, state).operator.seq,
      0,
    );
  });

  it('checkpoint at any position + replay from its seq gives exactly one uninterrupted ForecastStream per key', () => {
    const reading = fc.record({
      key: fc.constantFrom('t/a', 't/b', 'u/c'),
      // Mostly the next hour with jitter; sometimes a gap (filled, or a restart past the history), or back.
      gap: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 40, max: 80 }) },
        { weight: 1, arbitrary: fc.integer({ min: -150, max: 20 }) },
        { weight: 1, arbitrary: fc.integer({ min: 80, max: 1500 }) },
      ),
      v: fc.integer({ min: -400, max: 400 }),
    });
    fc.assert(
      fc.property(
        fc.array(reading, { minLength: 1, maxLength: 120 }),
        fc.nat(120),
        fc.nat(120),
        fc.constantFrom<ModelName>('holt-winters', 'ridge', 'seasonal-naive', 'persistence'),
        fc.constantFrom(0, 90 * 60_000),
        (raw, cutAt, crashAfter, model, latenessMs) => {
          const clock = new Map<string, number>();
          const readings: Reading[] = raw.map((r, i) => {
            const t = (clock.get(r.key) ?? T0) + r.gap * 60_000;
            clock.set(r.key, Math.max(t, clock.get(r.key) ?? T0));
            return { key: r.key, t, v: r.v / 7 + (i % 6) / 3, seq: i + 1 };
          });
          const settings = settingsFor(model, latenessMs);
          const cut = Math.min(cutAt, readings.length);
          const crash = Math.min(cut + crashAfter, readings.length);
          const refused: number[] = [];
          const feed = (op: PartitionForecaster, r: Reading, into: PartitionForecastResult[]) => {
            const added = op.add(r.key, r.t, r.v, r.seq);
            if (added.ok) into.push(...added.results);
            else refused.push(r.seq);
          };

          // The first owner runs past the checkpoint and dies at `crash`.
          const first = createPartitionOperator(operatorSettings(settings)).operator as PartitionForecaster;
          const emitted: PartitionForecastResult[] = [];
          let checkpoint = '';
          for (const r of readings.slice(0, crash)) {
            if (r.seq === cut + 1) checkpoint = JSON.stringify(first.toJSON());
            feed(first, r, emitted);
          }
          if (checkpoint === '') checkpoint = JSON.stringify(first.toJSON());

          // The next owner restores the checkpoint and replays the stream after its position.
          const restored = createPartitionOperator(
            operatorSettings(settings),
            JSON.parse(checkpoint) as PartitionForecasterState,
          );
          const second = restored.operator as PartitionForecaster;
          assert.equal(second.seq, cut);
          const replayed: PartitionForecastResult[] = [];
          const refusedBefore = refused.filter((s) => s <= cut);
          refused.length = 0;
          refused.push(...refusedBefore);
          for (const r of readings.slice(cut)) feed(second, r, replayed);

          const expected = reference(readings, settings);
          assert.deepEqual([...emitted.filter((r) => r.seq <= cut), ...replayed], expected.out);
          assert.deepEqual(refused, expected.refused);
          // What the first owner emitted after the checkpoint, the replay emits identically.
          assert.deepEqual(
            emitted.filter((r) => r.seq > cut),
            replayed.filter((r) => r.seq <= crash),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
