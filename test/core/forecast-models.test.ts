import assert from 'node:assert/strict';
import fc from 'fast-check';
import { minimiseNelderMead, solveSymmetric } from '../../nodes/core/forecast-linear';
import {
  createModel,
  HoltWinters,
  MODEL_NAMES,
  modelFromJSON,
  type ForecastModel,
  type ModelName,
} from '../../nodes/core/forecast-models';

const sine = (t: number) => 10 + 5 * Math.sin((2 * Math.PI * t) / 24 + 0.3);
const series = (n: number, f: (t: number) => number, from = 0) =>
  Array.from({ length: n }, (_, i) => f(from + i));

/** Fits on the first `train` values, then forecasts each later one from the values before it. */
function walkForward(model: ForecastModel, f: (t: number) => number, train: number, ahead: number) {
  model.fit(series(train, f));
  let worst = 0;
  for (let t = train; t < train + ahead; t++) {
    worst = Math.max(worst, Math.abs(model.predictNext() - f(t)));
    model.update(f(t));
  }
  return worst;
}

/** Textbook additive Holt-Winters with the same initialisation, for reference. */
function referenceHoltWinters(y: number[], m: number, alpha: number, beta: number, gamma: number) {
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const m1 = mean(y.slice(0, m));
  const m2 = mean(y.slice(m, 2 * m));
  let b = (m2 - m1) / m;
  const c = (m - 1) / 2;
  const s: number[] = [];
  for (let i = 0; i < m; i++) s.push((y[i] - m1 - b * (i - c) + (y[m + i] - m2 - b * (i - c))) / 2);
  let l = m1 - b * (c + 1);
  let sse = 0;
  for (let t = 0; t < y.length; t++) {
    const f = l + b + s[t % m];
    sse += (y[t] - f) ** 2;
    const lNew = alpha * (y[t] - s[t % m]) + (1 - alpha) * (l + b);
    b = beta * (lNew - l) + (1 - beta) * b;
    s[t % m] = gamma * (y[t] - lNew) + (1 - gamma) * s[t % m];
    l = lNew;
  }
  return { sse, next: l + b + s[y.length % m] };
}

/** A deterministic noisy daily series (xorshift noise) so the fitted parameters matter. */
function noisyDaily(n: number, seed: number): number[] {
  let x = seed || 1;
  const noise = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32 - 0.5) * 2;
  };
  let walk = 0;
  return series(n, (t) => {
    walk += 0.05 * noise();
    return sine(t) + 0.02 * t + walk + 0.3 * noise();
  });
}

describe('forecast models', () => {
  describe('persistence', () => {
    it('forecasts the last value seen', () => {
      const m = createModel('persistence');
      m.fit([1, 2, 3]);
      assert.equal(m.predictNext(), 3);
      m.update(7.5);
      assert.equal(m.predictNext(), 7.5);
    });
  });

  describe('seasonal naive', () => {
    it('forecasts a pure 24-step sine exactly from one season back', () => {
      assert.ok(walkForward(createModel('seasonal-naive', { season: 24 }), sine, 24, 100) < 1e-12);
    });

    it('needs one season of history', () => {
      const m = createModel('seasonal-naive', { season: 24 });
      assert.equal(m.minHistory, 24);
      assert.throws(() => m.fit(series(23, sine)), /needs 24 values/);
    });
  });

  describe('Holt-Winters (additive)', () => {
    it('forecasts a pure 24-step sine near-exactly', () => {
      assert.ok(walkForward(createModel('holt-winters', { season: 24 }), sine, 120, 200) < 1e-9);
    });

    it('forecasts a sine on a linear trend near-exactly', () => {
      const f = (t: number) => sine(t) + 0.25 * t - 3;
      assert.ok(walkForward(createModel('holt-winters', { season: 24 }), f, 48, 200) < 1e-9);
    });

    it('matches the textbook recursions at the fitted parameters', () => {
      const y = noisyDaily(120, 7);
      const m = createModel('holt-winters', { season: 24 }) as HoltWinters;
      m.fit(y);
      const { alpha, beta, gamma } = m.params;
      const ref = referenceHoltWinters(y, 24, alpha, beta, gamma);
      assert.ok(Math.abs(m.predictNext() - ref.next) < 1e-9);
      assert.ok(Math.abs((m.fitRmse as number) - Math.sqrt(ref.sse / y.length)) < 1e-9);
    });

    it('fits α, β, γ no worse than any hand-set choice on a grid', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
          const y = noisyDaily(96, seed);
          const m = createModel('holt-winters', { season: 24 }) as HoltWinters;
          m.fit(y);
          const fitted = referenceHoltWinters(y, 24, m.params.alpha, m.params.beta, m.params.gamma).sse;
          for (const alpha of [0.1, 0.3, 0.6, 0.9]) {
            for (const beta of [0, 0.05, 0.3]) {
              for (const gamma of [0, 0.2, 0.6]) {
                const handSet = referenceHoltWinters(y, 24, alpha, beta, gamma).sse;
                assert.ok(
                  fitted <= handSet * (1 + 1e-9),
                  `fitted ${fitted} > ${handSet} at ${alpha},${beta},${gamma}`,
                );
              }
            }
          }
          for (const p of [m.params.alpha, m.params.beta, m.params.gamma]) assert.ok(p >= 0 && p <= 1);
        }),
        { numRuns: 20, seed: 42 },
      );
    });

    it('fits deterministically', () => {
      const y = noisyDaily(120, 99);
      const a = createModel('holt-winters') as HoltWinters;
      const b = createModel('holt-winters') as HoltWinters;
      a.fit(y);
      b.fit(y);
      assert.deepEqual(a.toJSON(), b.toJSON());
    });
  });

  describe('ridge on lags and smoothed values', () => {
    it('forecasts a linear trend exactly', () => {
      const f = (t: number) => 3 + 0.5 * t;
      const worst = walkForward(
        createModel('ridge', { lags: [0, 1, 2, 23, 24], alphas: [0.3, 0.1] }),
        f,
        120,
        100,
      );
      assert.ok(worst < 1e-6, `worst error ${worst}`);
    });

    it('recovers an undamped second-order autoregression (a sinusoid of any period) with a tiny penalty', () => {
      // y[t+1] = 2cos(ω)·y[t] − y[t−1] + const for y = 4 + 3 sin(ωt): linear in lags 0 and 1.
      const f = (t: number) => 4 + 3 * Math.sin((2 * Math.PI * t) / 10.7);
      const m = createModel('ridge', { lags: [0, 1], alphas: [], ridgeLambda: 1e-12 });
      assert.ok(walkForward(m, f, 60, 200) < 1e-6);
    });

    it('shrinks towards persistence plus drift as the penalty grows', () => {
      const f = (t: number) => 4 + 3 * Math.sin((2 * Math.PI * t) / 10.7);
      const m = createModel('ridge', { lags: [0, 1], alphas: [], ridgeLambda: 1e9 });
      const history = series(60, f);
      m.fit(history);
      const meanChange = (history[59] - history[1]) / 58; // training rows start at the largest lag
      assert.ok(Math.abs(m.predictNext() - (history[59] + meanChange)) < 1e-6);
    });

    it('ignores a constant series feature instead of dividing by zero', () => {
      const m = createModel('ridge', { lags: [0, 1], alphas: [0.5] });
      m.fit(new Array(40).fill(4));
      assert.equal(m.predictNext(), 4);
    });

    it('rejects bad lags and alphas with a clear error', () => {
      assert.throws(() => createModel('ridge', { lags: [] }), /at least one lag/);
      assert.throws(() => createModel('ridge', { lags: [1.5] }), /lag 1.5/);
      assert.throws(() => createModel('ridge', { alphas: [0] }), /alpha 0/);
    });
  });

  describe('every model', () => {
    const options = { season: 6, lags: [0, 1, 5], alphas: [0.3], ridgeLambda: 1e-4 };

    it('forecasts the last value before it is fitted', () => {
      for (const name of MODEL_NAMES) {
        const m = createModel(name, options);
        m.update(3);
        m.update(5);
        assert.equal(m.fitted, false);
        assert.equal(m.predictNext(), 5, name);
      }
    });

    it('restores from JSON and then forecasts exactly as the original', () => {
      fc.assert(
        fc.property(
          fc.constantFrom<ModelName>(...MODEL_NAMES),
          fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 40, maxLength: 80 }),
          fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 20 }),
          (name, history, later) => {
            const original = createModel(name, options);
            original.fit(history);
            const restored = modelFromJSON(JSON.parse(JSON.stringify(original.toJSON())));
            assert.equal(restored.name, name);
            assert.equal(restored.fitted, true);
            for (const v of later) {
              assert.equal(restored.predictNext(), original.predictNext());
              original.update(v);
              restored.update(v);
            }
            assert.equal(restored.predictNext(), original.predictNext());
          },
        ),
        { numRuns: 60, seed: 7 },
      );
    });

    it('gives finite forecasts on any finite history', () => {
      fc.assert(
        fc.property(
          fc.constantFrom<ModelName>(...MODEL_NAMES),
          fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 40, maxLength: 80 }),
          (name, history) => {
            const m = createModel(name, options);
            m.fit(history);
            assert.ok(Number.isFinite(m.predictNext()));
          },
        ),
        { numRuns: 60, seed: 11 },
      );
    });

    it('rejects an unknown model name or saved state', () => {
      assert.throws(() => createModel('arima' as ModelName), /not one of/);
      assert.throws(() => modelFromJSON({ model: 'arima' } as never), /unknown/);
    });
  });
});

describe('forecast numerics', () => {
  it('solves symmetric positive definite systems', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.tuple(
            fc.array(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n }), {
              minLength: n,
              maxLength: n,
            }),
            fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n, maxLength: n }),
          ),
        ),
        ([g, b]) => {
          const n = b.length;
          // A = GᵀG + I is symmetric positive definite.
          const a = g.map((_, i) =>
            g.map((__, j) => g.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 1 : 0)),
          );
          const x = solveSymmetric(a, b);
          for (let i = 0; i < n; i++) {
            const ax = a[i].reduce((s, v, j) => s + v * x[j], 0);
            assert.ok(Math.abs(ax - b[i]) < 1e-8 * (1 + Math.abs(b[i])), `row ${i}: ${ax} vs ${b[i]}`);
          }
        },
      ),
      { numRuns: 100, seed: 3 },
    );
  });

  it('gives a finite answer for a singular system', () => {
    const x = solveSymmetric(
      [
        [1, 1],
        [1, 1],
      ],
      [2, 2],
    );
    assert.ok(x.every(Number.isFinite));
    assert.ok(Math.abs(x[0] + x[1] - 2) < 1e-12);
  });

  it('minimises a quadratic inside the box and stops at a bound', () => {
    const inside = minimiseNelderMead((x) => (x[0] - 0.3) ** 2 + (x[1] - 0.7) ** 2, [0.5, 0.5], {
      lower: [0, 0],
      upper: [1, 1],
      step: [0.1, 0.1],
      maxEvaluations: 300,
      tolerance: 1e-14,
    });
    assert.ok(Math.abs(inside.x[0] - 0.3) < 1e-4 && Math.abs(inside.x[1] - 0.7) < 1e-4, String(inside.x));
    const bound = minimiseNelderMead((x) => (x[0] - 2) ** 2, [0.5], {
      lower: [0],
      upper: [1],
      step: [0.1],
      maxEvaluations: 200,
      tolerance: 1e-14,
    });
    assert.ok(bound.x[0] <= 1 && bound.x[0] > 1 - 1e-9, String(bound.x));
  });
});
