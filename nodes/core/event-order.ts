/**
 * Event-time order for per-sample nodes (anomaly-flagger stream mode): samples of a key
 * are released in the order of their own time once the key's watermark (newest −
 * lateness) reaches them, so the same samples give the same results in any arrival order
 * within the lateness (docs/adr/0005-event-time.md). A sample older than one already
 * released is late; one stamped too far ahead of the wall clock is refused and does not
 * move the watermark.
 */
import { EventClock, everyPeriod, type EventTimeBounds } from './event-time';

export type OrderResult<T> =
  { ok: true; released: T[] } | { ok: false; kind: 'late' | 'future'; reason: string };

interface KeyOrder<T> {
  clock: EventClock;
  /** Held samples, oldest first; equal times keep their arrival order. */
  held: Array<{ timeMs: number; item: T }>;
  releasedThroughMs: number;
}

export class EventOrderBuffer<T> {
  private readonly keys = new Map<string, KeyOrder<T>>();

  constructor(readonly bounds: EventTimeBounds) {}

  add(key: string, timeMs: number, item: T, nowMs: number): OrderResult<T> {
    let order = this.keys.get(key);
    if (!order) {
      // The clock only tracks the watermark and the future bound: no periods are closed.
      order = { clock: new EventClock(this.bounds, everyPeriod(1)), held: [], releasedThroughMs: -Infinity };
      this.keys.set(key, order);
    }
    const verdict = order.clock.admit(timeMs, nowMs);
    if (!verdict.ok && verdict.kind === 'future') return verdict;
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
    return { ok: true, released: this.release(order, order.clock.watermarkMs) };
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
