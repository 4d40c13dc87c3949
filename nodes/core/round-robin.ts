/**
 * Fair rotation over a list of poll targets. Every target is served once per round,
 * in list order; replacing the list keeps the rotation going after the last target
 * served (when it is still there), so a list that is refreshed often starves no one.
 */

/**
 * This worker's share of a target list: positions i with i mod workerCount ===
 * workerIndex. Every worker reads the same list, so the shares are disjoint, cover the
 * list and differ in size by at most one (see the design's scale-out note).
 */
export function workerShare<T>(targets: readonly T[], workerIndex = 0, workerCount = 1): T[] {
  if (!Number.isInteger(workerCount) || workerCount < 1)
    throw new Error(`workerCount = ${workerCount} must be ≥ 1`);
  if (!Number.isInteger(workerIndex) || workerIndex < 0 || workerIndex >= workerCount)
    throw new Error(`workerIndex = ${workerIndex} must be 0 … ${workerCount - 1}`);
  return targets.filter((_t, i) => i % workerCount === workerIndex);
}

export class RoundRobin<T> {
  private targets: T[] = [];
  private position = 0; // index of the next target to serve
  private lastKey: string | undefined;

  constructor(
    targets: readonly T[],
    private readonly keyOf: (target: T) => string,
  ) {
    this.replace(targets);
  }

  get size(): number {
    return this.targets.length;
  }

  /** The next target in rotation; undefined when the list is empty. */
  next(): T | undefined {
    if (this.targets.length === 0) return undefined;
    const target = this.targets[this.position];
    this.position = (this.position + 1) % this.targets.length;
    this.lastKey = this.keyOf(target);
    return target;
  }

  /** New list; the rotation continues after the last target served if it is still listed. */
  replace(targets: readonly T[]): void {
    const previousPosition = this.position;
    this.targets = [...targets];
    if (this.targets.length === 0) {
      this.position = 0;
      return;
    }
    const at =
      this.lastKey === undefined ? -1 : this.targets.findIndex((t) => this.keyOf(t) === this.lastKey);
    this.position = at >= 0 ? (at + 1) % this.targets.length : previousPosition % this.targets.length;
  }

  list(): readonly T[] {
    return this.targets;
  }
}
