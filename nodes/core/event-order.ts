/**
 * Event-time order for per-sample nodes (anomaly-flagger stream mode): samples of a key
 * are released in the order of their own time once the key's watermark (newest −
 * lateness) reaches them, so the same samples give the same results in any arrival order
 * within the lateness (docs/adr/0005-event-time.md). A sample older than one already
 * released is late; one stamped too far ahead of the wall clock is refused and does not
 * move the watermark. At most `maxKeys` keys are held: a new key beyond that makes room by
 * forgetting the key idle the longest, whose held samples are released then (`forgotten`),
 * so none is lost; a later sample of that key starts it afresh.
 */
import { EventClock, everyPeriod, type EventTimeBounds } from './event-time';
import { LruMap } from './lru-keys';

export type OrderResult<T> =
  | { ok: true; released: T[]; forgotten?: [string, T[]] }
  | { ok: false; kind: 'late' | 'future'; reason: string };

interface KeyOrder<T> {
  clock: EventClock;
  /** Held samples, oldest first; equal times keep their arrival order. */
  held: Array<{ timeMs: number; item: T }>;
  releasedThroughMs: number;
}

export class EventOrderBuffer<T> {
  private readonly keys: LruMap<KeyOrder<T>>;

  constructor(
    readonly bounds: EventTimeBounds,
    maxKeys = Infinity,
  ) {
    this.keys = new LruMap(maxKeys);
  }

  /** Keys forgotten to make room since the buffer was made. */
  get evictedKeys(): number {
    return this.keys.evicted;
  }

  add(key: string, timeMs: number, item: T, nowMs: number): OrderResult<T> {
    const known = this.keys.use(key);
    // The clock only tracks the watermark and the future bound: no periods are closed.
    const order = known ?? {
      clock: new EventClock(this.bounds, everyPeriod(1)),
      held: [],
      releasedThroughMs: -Infinity,
    };
    const verdict = order.clock.admit(timeMs, nowMs);
    if (!verdict.ok && verdict.kind === 'future') return verdict;
    let forgotten: [string, T[]] | undefined;
    if (!known) {
      this.keys.admit(key, (oldKey, old) => (forgotten = [oldKey, this.release(old, Infinity)]));
      this.keys.set(key, order);
    }
    if (timeMs < order.releasedThroughMs) {
      const through = new Date(order.releasedThroughMs).toISOString();
      return {
        ok: false,
        kind: 'late',
        reason: `time ${new Date(timeMs).toISOString()} is late: samples through ${through} were already scored`,
      };
    }
    let i = order.held.length;
    while (i > 0 && order.held[i - 1].timeMs > timeMs) i--;
    order.held.splice(i, 0, { timeMs, item });
    order.clock.note(timeMs);
    const released = this.release(order, order.clock.watermarkMs);
    return forgotten && forgotten[1].length > 0 ? { ok: true, released, forgotten } : { ok: true, released };
  }

  /** Releases every held sample of `key` (every key when undefined), oldest first per key. */
  flush(key?: string): Array<[string, T[]]> {
    const out: Array<[string, T[]]> = [];
    for (const [k, order] of this.keys) {
      if (key !== undefined && k !== key) continue;
      const released = this.release(order, Infinity);
      if (released.length > 0) out.push([k, released]);
    }
    return out;
  }

  /** Samples held for the lateness, over all keys. */
  get heldCount(): number {
    let n = 0;
    for (const order of this.keys.values()) n += order.held.length;
    return n;
  }

  reset(key?: string): void {
    if (key === undefined) this.keys.clear();
    else this.keys.delete(key);
  }

  private release(order: KeyOrder<T>, throughMs: number): T[] {
    let n = 0;
    while (n < order.held.length && order.held[n].timeMs <= throughMs) n++;
    if (n === 0) return [];
    const released = order.held.splice(0, n);
    order.releasedThroughMs = released[released.length - 1].timeMs;
    return released.map((h) => h.item);
  }
}
