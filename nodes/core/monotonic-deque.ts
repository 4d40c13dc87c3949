/**
 * Monotonic deque for sliding-window minimum or maximum: O(1) amortized per sample.
 * Entries are (sequence number, value) pairs kept in growable ring buffers (typed arrays
 * with a head index), so removing from the front never shifts an array.
 */
export class MonotonicDeque {
  private seqs: Float64Array;
  private values: Float64Array;
  private mask: number;
  private head = 0;
  private length = 0;
  // A min deque is a max deque of −value: one loop, no branch per sample.
  private readonly sign: number;

  /** `kind` 'max' keeps the largest value at the front, 'min' the smallest. */
  constructor(
    readonly kind: 'min' | 'max',
    initialCapacity = 16,
  ) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.seqs = new Float64Array(cap);
    this.values = new Float64Array(cap);
    this.mask = cap - 1;
    this.sign = kind === 'max' ? 1 : -1;
  }

  get size(): number {
    return this.length;
  }

  /** Adds the sample with sequence number `seq` (strictly increasing across calls). */
  push(seq: number, value: number): void {
    const x = this.sign * value;
    const { values, mask, head } = this;
    // Drop entries that can never again be the extreme: they are older and not better.
    let length = this.length;
    while (length > 0 && values[(head + length - 1) & mask] <= x) length--;
    this.length = length;
    if (length === mask + 1) this.grow();
    const p = (this.head + length) & this.mask;
    this.seqs[p] = seq;
    this.values[p] = x;
    this.length = length + 1;
  }

  /** Forgets the sample `seq` once it leaves the window (a no-op when it was dropped already). */
  evict(seq: number): void {
    if (this.length > 0 && this.seqs[this.head] === seq) {
      this.head = (this.head + 1) & this.mask;
      this.length--;
    }
  }

  /** The window extreme, or NaN when empty. */
  peek(): number {
    return this.length > 0 ? this.sign * this.values[this.head] : NaN;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const seqs = new Float64Array(cap);
    const values = new Float64Array(cap);
    for (let i = 0; i < this.length; i++) {
      const p = (this.head + i) & this.mask;
      seqs[i] = this.seqs[p];
      values[i] = this.values[p];
    }
    this.seqs = seqs;
    this.values = values;
    this.mask = cap - 1;
    this.head = 0;
  }
}
