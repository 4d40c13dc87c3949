/**
 * The small numerical kit the forecast models need: a symmetric linear solve (Cholesky,
 * with a pivoting Gauss fallback) and a deterministic bounded Nelder–Mead minimiser.
 * Plain arrays, no dependency.
 */

/**
 * Solves A·x = b for a symmetric matrix A (row-major, n×n). Cholesky first (A is
 * positive definite whenever ridge λ > 0); if it is not, Gaussian elimination with
 * partial pivoting, where a zero pivot leaves that unknown at 0 (a least-norm-ish answer
 * for a singular system instead of NaN).
 */
export function solveSymmetric(a: readonly number[][], b: readonly number[]): number[] {
  return cholesky(a, b) ?? gauss(a, b);
}

function cholesky(a: readonly number[][], b: readonly number[]): number[] | undefined {
  const n = b.length;
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i][j];
      for (let k = 0; k < j; k++) sum -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(sum > 1e-300)) return undefined;
        l[i][i] = Math.sqrt(sum);
      } else {
        l[i][j] = sum / l[j][j];
      }
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i][k] * y[k];
    y[i] = sum / l[i][i];
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k][i] * x[k];
    x[i] = sum / l[i][i];
  }
  return x;
}

function gauss(a: readonly number[][], b: readonly number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  const scale = Math.max(1e-300, ...a.map((row) => Math.max(...row.map(Math.abs))));
  const pivotRow: number[] = new Array<number>(n).fill(-1);
  let row = 0;
  for (let col = 0; col < n && row < n; col++) {
    let best = row;
    for (let r = row + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[best][col])) best = r;
    if (Math.abs(m[best][col]) <= scale * 1e-12) continue;
    [m[row], m[best]] = [m[best], m[row]];
    for (let r = 0; r < n; r++) {
      if (r === row) continue;
      const f = m[r][col] / m[row][col];
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r][c] -= f * m[row][c];
    }
    pivotRow[col] = row;
    row++;
  }
  return pivotRow.map((r, col) => (r < 0 ? 0 : m[r][n] / m[r][col]));
}

export interface MinimiseOptions {
  /** Lower and upper bound of every coordinate; points outside are clamped before evaluation. */
  lower: readonly number[];
  upper: readonly number[];
  /** Initial simplex edge per coordinate. */
  step: readonly number[];
  maxEvaluations: number;
  /** Stops when the simplex's spread of values falls below this. */
  tolerance: number;
}

/**
 * Nelder–Mead (reflection 1, expansion 2, contraction ½, shrink ½) in a box. Deterministic:
 * the same function and start give the same answer. Returns the best clamped point.
 */
export function minimiseNelderMead(
  f: (x: number[]) => number,
  start: readonly number[],
  options: MinimiseOptions,
): { x: number[]; value: number; evaluations: number } {
  const { lower, upper, step, maxEvaluations, tolerance } = options;
  const dim = start.length;
  const clamp = (x: number[]) => x.map((v, i) => Math.min(upper[i], Math.max(lower[i], v)));
  let evaluations = 0;
  const evaluate = (x: number[]) => {
    evaluations++;
    const v = f(clamp(x));
    return Number.isFinite(v) ? v : Infinity;
  };
  const simplex: { x: number[]; v: number }[] = [];
  const x0 = clamp([...start]);
  simplex.push({ x: x0, v: evaluate(x0) });
  for (let i = 0; i < dim; i++) {
    const x = [...x0];
    // Step inwards when the start sits on the upper bound, so the simplex is not flat.
    x[i] = x[i] + step[i] <= upper[i] ? x[i] + step[i] : x[i] - step[i];
    simplex.push({ x, v: evaluate(x) });
  }
  while (evaluations < maxEvaluations) {
    simplex.sort((p, q) => p.v - q.v);
    const best = simplex[0];
    const worst = simplex[dim];
    if (Math.abs(worst.v - best.v) <= tolerance * (Math.abs(best.v) + tolerance)) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j] += simplex[i].x[j] / dim;
    const along = (t: number) => centroid.map((c, j) => c + t * (worst.x[j] - c));
    const reflected = along(-1);
    const vr = evaluate(reflected);
    if (vr < best.v) {
      const expanded = along(-2);
      const ve = evaluate(expanded);
      simplex[dim] = ve < vr ? { x: expanded, v: ve } : { x: reflected, v: vr };
    } else if (vr < simplex[dim - 1].v) {
      simplex[dim] = { x: reflected, v: vr };
    } else {
      const contracted = vr < worst.v ? along(-0.5) : along(0.5);
      const vc = evaluate(contracted);
      if (vc < Math.min(vr, worst.v)) {
        simplex[dim] = { x: contracted, v: vc };
      } else {
        for (let i = 1; i <= dim; i++) {
          const x = simplex[i].x.map((v, j) => best.x[j] + 0.5 * (v - best.x[j]));
          simplex[i] = { x, v: evaluate(x) };
        }
      }
    }
  }
  simplex.sort((p, q) => p.v - q.v);
  return { x: clamp(simplex[0].x), value: simplex[0].v, evaluations };
}
