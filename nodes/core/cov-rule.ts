/**
 * The change-of-value (COV) rule per key (docs/adr/0015): pass a value when it differs
 * from the last PASSED value by more than the absolute threshold or by more than the
 * percentage of that value (either threshold may be off; with both on, exceeding either
 * passes), and pass one at least every heartbeat even when unchanged. The heartbeat is
 * measured in event time: between the times stamped on the samples (docs/adr/0005).
 */
import { EventClock, everyPeriod, type EventClockState } from './event-time';
import { LruMap } from './lru-keys';
export interface CovRuleSettings {
  /** Absolute deadband; 0 = off. */
  absolute: number;
  /** Percentage of the last passed value; 0 = off. */
  percent: number;
  /** Heartbeat in ms; 0 = off. */
  heartbeatMs: number;
}

export type CovReason = 'first' | 'absolute' | 'percent' | 'change' | 'heartbeat';

export interface CovDecision {
  pass: boolean;
  /** Why it passed; undefined when blocked. */
  reason?: CovReason;
  /** The last passed value it was compared with (undefined for the first). */
  previous?: number;
}

interface KeyState {
  value: number;
  timeMs: number;
}

export interface CovRuleState {
  keys: Record<string, KeyState>;
}

/** Decides for one value against the last passed one (pure, no state). */
export function covDecide(
  settings: CovRuleSettings,
  last: KeyState | undefined,
  value: number,
  nowMs: number,
): CovDecision {
  if (last === undefined) return { pass: true, reason: 'first' };
  const previous = last.value;
  const delta = Math.abs(value - previous);
  if (settings.absolute > 0 && delta > settings.absolute) return { pass: true, reason: 'absolute', previous };
  if (settings.percent > 0 && delta > (settings.percent / 100) * Math.abs(previous)) {
    return { pass: true, reason: 'percent', previous };
  }
  // With no threshold at all, any change passes (like rbe's "block unless value changes").
  if (settings.absolute <= 0 && settings.percent <= 0 && value !== previous) {
    return { pass: true, reason: 'change', previous };
  }
  if (settings.heartbeatMs > 0 && nowMs - last.timeMs >= settings.heartbeatMs) {
    return { pass: true, reason: 'heartbeat', previous };
  }
  return { pass: false, previous };
}

/** The COV rule over many keys, remembering the last passed value and time per key. */
export class CovRule {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    readonly settings: CovRuleSettings,
    state?: CovRuleState,
  ) {
    for (const [key, s] of Object.entries(state?.keys ?? {})) this.keys.set(key, { ...s });
  }

  get size(): number {
    return this.keys.size;
  }

  offer(key: string, value: number, nowMs: number): CovDecision {
    const last = this.keys.get(key);
    const decision = covDecide(this.settings, last, value, nowMs);
    if (decision.pass) {
      if (last === undefined) this.keys.set(key, { value, timeMs: nowMs });
      else {
        last.value = value;
        last.timeMs = nowMs;
      }
    }
    return decision;
  }

  reset(key?: string): void {
    if (key === undefined) this.keys.clear();
    else this.keys.delete(key);
  }

  toJSON(): CovRuleState {
    return { keys: Object.fromEntries(this.keys) };
  }
}

export interface EventTimeCovSettings extends CovRuleSettings {
  /** How far behind the key's newest sample a sample may arrive; it waits until then. */
  latenessMs: number;
  /** Samples stamped further ahead of the wall clock are bad input. */
  maxFutureMs: number;
  /** Keys held at most; a new key beyond it makes the least recently seen key forgotten. */
  maxKeys?: number;
}

export interface EventTimeCovState extends CovRuleState {
  clocks?: Record<string, EventClockState>;
}

/** A msg (or anything) that the rule decided on, in event-time order per key. */
export interface CovDecided<M> {
  key: string;
  item: M;
  decision: CovDecision;
}

export type CovOffer<M> =
  { ok: true; decided: CovDecided<M>[] } | { ok: false; kind: 'late' | 'future'; reason: string };

interface Held<M> {
  timeMs: number;
  value: number;
  item: M;
}

interface KeyClock<M> {
  clock: EventClock;
  held: Held<M>[];
  lastSeenMs: number;
}

/** The clock of a key closes at every millisecond: it tracks the last sample decided. */
const EVERY_MS = everyPeriod(1);

/**
 * The COV rule in event time (docs/adr/0005): each key's samples are decided in the order
 * of their own times, the heartbeat measured between those times. With lateness, a sample
 * waits until the key's watermark (newest − lateness) passes it, so any arrival order
 * within the lateness gives the same decisions; a sample behind a decided one is late.
 */
export class EventTimeCov<M> {
  private readonly rule: CovRule;
  private readonly keys: LruMap<KeyClock<M>>;

  constructor(
    readonly settings: EventTimeCovSettings,
    state?: EventTimeCovState,
  ) {
    this.keys = new LruMap(settings.maxKeys ?? Infinity);
    this.rule = new CovRule(settings, state);
    for (const [key, saved] of Object.entries(state?.clocks ?? {}))
      this.keyClock(key, saved.newestMs ?? 0).clock.restore(saved);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Keys forgotten because maxKeys was reached. */
  get evictedKeys(): number {
    return this.keys.evicted;
  }

  offer(key: string, timeMs: number, value: number, item: M, nowMs: number): CovOffer<M> {
    const known = this.keys.use(key);
    const entry = known ?? this.newKeyClock(nowMs);
    const admission = entry.clock.admit(timeMs, nowMs);
    if (!admission.ok) return admission;
    const decided: CovDecided<M>[] = [];
    if (known === undefined) {
      // The key idle the longest makes room: its held samples are decided now, then it is forgotten.
      const forgotten = this.keys.admit(key, (oldKey, old) => this.release(oldKey, old, Infinity, decided));
      if (forgotten !== undefined) this.rule.reset(forgotten);
      this.keys.set(key, entry);
    }
    entry.lastSeenMs = nowMs;
    entry.clock.observe(timeMs); // decisions are made below, in time order
    const { held } = entry;
    if (held.length === 0 && timeMs <= entry.clock.watermarkMs) {
      this.decide(key, entry, { timeMs, value, item }, decided);
      return { ok: true, decided };
    }
    let i = held.length;
    while (i > 0 && held[i - 1].timeMs > timeMs) i--;
    held.splice(i, 0, { timeMs, value, item });
    this.release(key, entry, entry.clock.watermarkMs, decided);
    return { ok: true, decided };
  }

  /** Idle fallback: a key quiet for `idleMs` (wall clock) has its watermark follow the clock. */
  closeIdle(nowMs: number, idleMs: number): CovDecided<M>[] {
    const decided: CovDecided<M>[] = [];
    for (const [key, entry] of this.keys) {
      const quietMs = nowMs - entry.lastSeenMs - idleMs;
      if (entry.held.length === 0 || quietMs < 0) continue;
      this.release(key, entry, entry.clock.watermarkMs + quietMs, decided);
    }
    return decided;
  }

  /** Decides every held sample of the key (every key when undefined) now. */
  flush(key?: string): CovDecided<M>[] {
    const decided: CovDecided<M>[] = [];
    for (const [k, entry] of this.keys)
      if (key === undefined || k === key) this.release(k, entry, Infinity, decided);
    return decided;
  }

  reset(key?: string): void {
    this.rule.reset(key);
    if (key === undefined) this.keys.clear();
    else this.keys.delete(key);
  }

  toJSON(): EventTimeCovState {
    const clocks: Record<string, EventClockState> = {};
    for (const [key, entry] of this.keys) clocks[key] = entry.clock.toJSON();
    return { ...this.rule.toJSON(), clocks };
  }

  private release(key: string, entry: KeyClock<M>, throughMs: number, decided: CovDecided<M>[]): void {
    const { held } = entry;
    let k = 0;
    while (k < held.length && held[k].timeMs <= throughMs) this.decide(key, entry, held[k++], decided);
    if (k > 0) held.splice(0, k);
  }

  private decide(key: string, entry: KeyClock<M>, sample: Held<M>, decided: CovDecided<M>[]): void {
    entry.clock.skipTo(sample.timeMs);
    decided.push({ key, item: sample.item, decision: this.rule.offer(key, sample.value, sample.timeMs) });
  }

  private keyClock(key: string, nowMs: number): KeyClock<M> {
    const entry = this.newKeyClock(nowMs);
    this.keys.set(key, entry);
    return entry;
  }

  private newKeyClock(nowMs: number): KeyClock<M> {
    const { latenessMs, maxFutureMs } = this.settings;
    return {
      clock: new EventClock({ latenessMs, maxFutureMs }, EVERY_MS, 'start'),
      held: [],
      lastSeenMs: nowMs,
    };
  }
}
