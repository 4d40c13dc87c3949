/**
 * The bookkeeping every partition operator shares (docs/adr/0100-scale-out-engine.md): the
 * state of each key of one stream partition, the stream position it covers, and the bound
 * `maxKeys` on the keys (a worker holds at most maxKeys × its partitions; 0: unbounded). A
 * sample of a new key beyond the bound is refused and the keys held go on. The operators
 * extend it, so that `seq`, `skip` and `keyCount` are theirs (PartitionOperator).
 * Dependency-free: partition-operator.ts imports the operators, so this cannot live there.
 */
export class PartitionKeys<V extends object> {
  protected readonly keys = new Map<string, V>();
  /** Last stream position folded in (0: none). */
  protected lastSeq = 0;
  protected readonly maxKeys: number;

  constructor(maxKeys = 0) {
    if (!(Number.isInteger(maxKeys) && maxKeys >= 0))
      throw new Error(`maxKeys ${maxKeys} must be an integer ≥ 0`);
    this.maxKeys = maxKeys;
  }

  /** Last stream position folded in (0 before any). */
  get seq(): number {
    return this.lastSeq;
  }

  get keyCount(): number {
    return this.keys.size;
  }

  /** Records that `seq` was consumed without a sample (bad input), so replay skips it. */
  skip(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  /** The key's state, created for a new key; a string is why a new key was refused (maxKeys). */
  protected getOrCreate(key: string, create: () => V): V | string {
    const held = this.keys.get(key);
    if (held) return held;
    if (this.maxKeys > 0 && this.keys.size >= this.maxKeys)
      return `the partition holds ${this.maxKeys} keys (maxKeys): new key "${key}" refused`;
    const created = create();
    this.keys.set(key, created);
    return created;
  }
}

/** Why a sample cannot be folded in (no key, no time or not a finite number), or undefined. */
export function unusableSample(key: string, timeMs: number, value: number): string | undefined {
  if (key !== '' && Number.isFinite(timeMs) && Number.isFinite(value)) return undefined;
  return `sample needs a key, a time and a finite number (key "${key}", time ${timeMs}, value ${value})`;
}
