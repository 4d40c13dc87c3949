/**
 * Bounded per-key state (issue 15): a Map of at most `maxKeys` entries in least-recently-used
 * order. `use` reads a key and makes it the newest; `admit` makes room for a new key by
 * forgetting the key idle the longest, so memory stays bounded whatever keys arrive.
 */
export class LruMap<V> extends Map<string, V> {
  /** Keys forgotten to make room since the map was made. */
  evicted = 0;

  constructor(readonly maxKeys: number) {
    super();
  }

  /** The value of `key`, marked as the most recently used. */
  use(key: string): V | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  /** The least recently used key (the one `admit` forgets next). */
  oldestKey(): string | undefined {
    return this.keys().next().value as string | undefined;
  }

  /**
   * Makes room for `key` if it is new and the map is full: forgets the least recently used
   * key and returns it (after `beforeForget` saw its value), else undefined.
   */
  admit(key: string, beforeForget?: (oldKey: string, oldValue: V) => void): string | undefined {
    if (this.size < this.maxKeys || this.has(key)) return undefined;
    const oldest = this.oldestKey() as string;
    beforeForget?.(oldest, super.get(oldest) as V);
    this.delete(oldest);
    this.evicted++;
    return oldest;
  }

  /** Adds or replaces `key` as the newest entry, forgetting the oldest one when full. */
  override set(key: string, value: V): this {
    if (super.has(key)) super.delete(key);
    else this.admit(key);
    return super.set(key, value);
  }
}

/** Default `maxKeys` of the keyed nodes (as moving-window's). */
export const DEFAULT_MAX_KEYS = 100_000;

/** The one warning a keyed node gives when its key cap first bites. */
export const KEY_CAP_WARNING = (maxKeys: number): string =>
  `${maxKeys} keys held (maxKeys): the key idle the longest is forgotten for each new key (raise maxKeys if that many keys are live)`;

/** Default bound of the keys a node remembers having reported. */
export const REPORTED_KEYS_MAX = 10_000;

/**
 * "Report bad input once per key", bounded: remembers at most `maxKeys` reported keys
 * (the least recently reported are forgotten and may be reported again).
 */
export class OncePerKey {
  private readonly reported: LruMap<true>;

  constructor(maxKeys = REPORTED_KEYS_MAX) {
    this.reported = new LruMap<true>(maxKeys);
  }

  /** True the first time `key` is reported (until it is forgotten), false after. */
  first(key: string): boolean {
    if (this.reported.has(key)) return false;
    this.reported.set(key, true);
    return true;
  }

  /** The key behaved again: its next bad input is reported anew. */
  forget(key: string): void {
    if (this.reported.size > 0) this.reported.delete(key);
  }

  get size(): number {
    return this.reported.size;
  }
}
