/**
 * One window per key (msg.topic by default), emitted in event time (docs/adr/0005):
 * each key has an EventClock; the window (T − length, T] is closed when the key's
 * watermark (newest sample time − lateness) reaches T, so the same samples give the same
 * windows however fast or in what order (within the lateness) they arrive. The wall clock
 * only bounds samples from the future, moves the watermark of a key that went quiet
 * (`closeIdle`), and forgets keys idle past the TTL or beyond `maxKeys`.
 */
import { EventClock, everyPeriod, type Boundaries, type EventClockState } from './event-time';
import { PaneWindow, paneMsFor, type PaneWindowState } from './pane-window';
import {
  CountWindow,
  SlidingWindow,
  windowFromJSON,
  type AnyWindowState,
  type WindowSummary,
} from './sliding-window';

export interface KeyedWindowSettings {
  /** Time window length; ignored when `count` > 0. */
  lengthMs: number;
  /** Count window of this many samples; 0 = time window. */
  count: number;
  /** Emit at multiples of this; 0 = the window ending at every sample. */
  hopMs: number;
  latenessMs: number;
  /** Samples stamped further ahead of the wall clock are bad input. */
  maxFutureMs: number;
  /** Wall-clock quiet time after which a key's watermark follows the clock. */
  idleMs: number;
  emitEmpty: boolean;
  /**
   * Emit the windows that begin before the key's first sample (after a start or reset,
   * they hold only part of their span); false = from the first full window on.
   */
  emitWarmup: boolean;
  /** Wall-clock idle time after which a key is forgotten. */
  ttlMs: number;
  /** At most this many keys; a new key beyond it is refused. */
  maxKeys: number;
  /** false = hop windows keep samples in the ring instead of panes (comparisons, tests). */
  paneWindows?: boolean;
}

/** A closed window of one key. */
export interface ClosedWindow {
  key: string;
  startMs: number | null;
  endMs: number | null;
  summary: WindowSummary;
}

/** Why a sample was not taken. */
export interface Refusal {
  ok: false;
  kind: 'late' | 'future' | 'full';
  reason: string;
}

export type AddResult = { ok: true; closed: ClosedWindow[] } | Refusal;

interface SavedKey {
  lastSeenMs: number;
  firstMs?: number;
  window: AnyWindowState | PaneWindowState;
  clock?: EventClockState;
  due?: number[];
}

export interface KeyedWindowsState {
  keys: Record<string, SavedKey>;
}

/** A time window: the ring of samples, or panes when the window has a hop (docs/adr/0150). */
type TimeWindow = SlidingWindow | PaneWindow;

interface Entry {
  window: TimeWindow | CountWindow;
  clock: EventClock;
  /** Wall-clock time of the last sample: idle fallback and TTL. */
  lastSeenMs: number;
  /** The earliest sample time taken: windows starting before it are warm-up windows. */
  firstMs: number;
  /** Per-sample emission with lateness: sample times waiting for the watermark, sorted. */
  due: number[];
}

/** Per-sample emission closes at every millisecond: the clock then tracks the last sample emitted. */
const EVERY_MS = everyPeriod(1);

export class KeyedWindows {
  private readonly entries = new Map<string, Entry>();
  private readonly boundaries: Boundaries;
  /** Pane length of hop windows aggregated by panes; undefined = the ring. */
  private readonly paneMs: number | undefined;

  constructor(
    readonly settings: KeyedWindowSettings,
    state?: KeyedWindowsState,
  ) {
    this.boundaries = settings.hopMs > 0 ? everyPeriod(settings.hopMs) : EVERY_MS;
    const panes = settings.count === 0 && settings.paneWindows !== false;
    this.paneMs = panes ? paneMsFor(settings.lengthMs, settings.hopMs) : undefined;
    for (const [key, saved] of Object.entries(state?.keys ?? {})) {
      const window = this.restoreWindow(saved.window);
      if (window === undefined) continue; // a changed length or kind makes old samples meaningless
      const entry = this.newEntry(window, saved.lastSeenMs);
      entry.clock.restore(saved.clock);
      entry.due = [...(saved.due ?? [])];
      entry.firstMs = saved.firstMs ?? -Infinity;
      this.entries.set(key, entry);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Adds a sample; returns the windows its watermark closed, or why it was refused. */
  add(key: string, timeMs: number, value: number, nowMs: number): AddResult {
    if (this.settings.count > 0 && this.settings.hopMs === 0)
      return this.addCountedResult(key, timeMs, value, nowMs);
    const found = this.entries.get(key);
    const entry = found ?? this.addKey(key, nowMs);
    if (entry === undefined) return this.full();
    const { clock, window } = entry;
    const admission = clock.admit(timeMs, nowMs);
    if (!admission.ok) {
      if (found === undefined) this.entries.delete(key); // a refused first sample leaves no key behind
      return admission;
    }
    if (window instanceof CountWindow) {
      entry.lastSeenMs = nowMs;
      const closed: ClosedWindow[] = [];
      this.addToCount(key, entry, window, timeMs, value, closed);
      return { ok: true, closed };
    }
    const closed: ClosedWindow[] = [];
    // Samples up to the last closed boundary may join the ring; later ones wait in its
    // reorder buffer until their window closes (sealedSummary).
    const refused = window.add(timeMs, value, clock.closedThroughMs);
    if (refused !== undefined) return { ok: false, kind: 'late', reason: refused };
    entry.lastSeenMs = nowMs;
    if (timeMs < entry.firstMs) entry.firstMs = timeMs;
    clock.observe(timeMs); // moves the watermark; the windows are closed below, skipping empty ones
    if (this.settings.hopMs > 0) this.closeWindows(key, entry, window, clock.watermarkMs, closed);
    else this.closeSamples(key, entry, window, timeMs, clock.watermarkMs, closed);
    return { ok: true, closed };
  }

  /**
   * Count windows emitted per sample (count > 0, hopMs 0), the hot path: adds the sample
   * and returns the key's window, from which the caller reads the window that ends at it
   * (no result, array or summary object per sample); null while warm-up windows are left
   * out; or why the sample was refused. Arrival order decides: nothing is late here.
   */
  addCounted(key: string, timeMs: number, value: number, nowMs: number): CountWindow | null | Refusal {
    const found = this.entries.get(key);
    const entry = found ?? this.addKey(key, nowMs);
    if (entry === undefined) return this.full();
    const admission = entry.clock.admit(timeMs, nowMs);
    if (!admission.ok && admission.kind === 'future') {
      if (found === undefined) this.entries.delete(key); // a refused first sample leaves no key behind
      return admission;
    }
    const window = entry.window as CountWindow;
    entry.lastSeenMs = nowMs;
    entry.clock.observe(timeMs);
    window.add(timeMs, value);
    return this.settings.emitWarmup || window.size === this.settings.count ? window : null;
  }

  /** addCounted as `add` returns it: the window ending at the sample (a one-element array literal), or none. */
  private addCountedResult(key: string, timeMs: number, value: number, nowMs: number): AddResult {
    const window = this.addCounted(key, timeMs, value, nowMs);
    if (window === null) return { ok: true, closed: [] };
    if (!(window instanceof CountWindow)) return window;
    return { ok: true, closed: [countWindow(key, window.summary())] };
  }

  /**
   * Idle fallback: a key with no sample for `idleMs` of wall-clock time has its watermark
   * follow the clock from then on, as if its event time kept running.
   */
  closeIdle(nowMs: number): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    const { idleMs, latenessMs } = this.settings;
    for (const [key, entry] of this.entries) {
      const quietMs = nowMs - entry.lastSeenMs - idleMs;
      if (quietMs < 0 || !Number.isFinite(entry.clock.newestMs)) continue;
      this.closeEntryThrough(key, entry, entry.clock.newestMs - latenessMs + quietMs, closed);
    }
    return closed;
  }

  /** Emits every window of the key (every key when undefined) that still holds a sample. */
  flush(key?: string): ClosedWindow[] {
    const closed: ClosedWindow[] = [];
    for (const [k, entry] of this.entries) {
      if (key !== undefined && k !== key) continue;
      const newest = entry.clock.newestMs;
      if (!Number.isFinite(newest)) continue;
      // Time windows with a hop: every window that holds the newest sample ends before newest + length.
      const timeWithHop = !(entry.window instanceof CountWindow) && this.settings.hopMs > 0;
      const throughMs = timeWithHop ? newest + this.settings.lengthMs - 1 : this.atOrAfter(newest);
      this.closeEntryThrough(k, entry, throughMs, closed);
    }
    return closed;
  }

  /** Drops keys idle (wall clock) for longer than the TTL; returns how many were dropped. */
  evictIdle(nowMs: number): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (nowMs - entry.lastSeenMs > this.settings.ttlMs) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  reset(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  toJSON(): KeyedWindowsState {
    const keys: KeyedWindowsState['keys'] = {};
    for (const [key, entry] of this.entries) {
      keys[key] = {
        lastSeenMs: entry.lastSeenMs,
        ...(Number.isFinite(entry.firstMs) ? { firstMs: entry.firstMs } : {}),
        window: entry.window.toJSON(),
        clock: entry.clock.toJSON(),
        ...(entry.due.length > 0 ? { due: [...entry.due] } : {}),
      };
    }
    return { keys };
  }

  private closeEntryThrough(key: string, entry: Entry, throughMs: number, closed: ClosedWindow[]): void {
    const { window } = entry;
    if (window instanceof CountWindow) this.closeCount(key, entry, window, throughMs, closed);
    else if (this.settings.hopMs > 0) this.closeWindows(key, entry, window, throughMs, closed);
    else this.closeSamples(key, entry, window, NaN, throughMs, closed);
  }

  /** Time windows with a hop: closes every boundary through `throughMs`, skipping empty windows. */
  private closeWindows(
    key: string,
    entry: Entry,
    window: TimeWindow,
    throughMs: number,
    closed: ClosedWindow[],
  ): void {
    const { clock } = entry;
    const { lengthMs, emitEmpty } = this.settings;
    if (!Number.isFinite(clock.closedThroughMs)) return;
    // Nothing ends before the first sample (empty windows there would depend on arrival
    // order); without warm-up windows the first one emitted starts at or after it.
    const warmupMs = this.settings.emitWarmup ? 0 : lengthMs;
    const firstFullEndMs = this.atOrAfter(entry.firstMs + warmupMs);
    for (;;) {
      let endMs = this.boundaries.after(clock.closedThroughMs);
      if (endMs > throughMs) return;
      if (endMs < firstFullEndMs) {
        if (firstFullEndMs > throughMs) return clock.skipTo(throughMs);
        clock.skipTo(firstFullEndMs - 1);
        endMs = firstFullEndMs;
      }
      if (!emitEmpty) {
        const oldestMs = window.oldestAfter(endMs - lengthMs);
        const firstEndMs = Number.isNaN(oldestMs) ? Infinity : this.atOrAfter(Math.max(oldestMs, endMs));
        if (firstEndMs > throughMs) {
          clock.skipTo(throughMs);
          return;
        }
        if (firstEndMs > endMs) clock.skipTo(firstEndMs - 1);
        endMs = firstEndMs;
      }
      clock.closeThrough(endMs);
      closed.push({ key, startMs: endMs - lengthMs, endMs, summary: window.sealedSummary(endMs) });
    }
  }

  /** Per-sample emission: the window ending at each sample once the watermark passes it. */
  private closeSamples(
    key: string,
    entry: Entry,
    window: TimeWindow,
    timeMs: number,
    throughMs: number,
    closed: ClosedWindow[],
  ): void {
    const { due } = entry;
    if (!Number.isNaN(timeMs)) {
      if (due.length === 0 && timeMs <= throughMs)
        return this.closeSample(key, entry, window, timeMs, closed);
      let i = due.length;
      while (i > 0 && due[i - 1] > timeMs) i--;
      due.splice(i, 0, timeMs);
    }
    let k = 0;
    while (k < due.length && due[k] <= throughMs) this.closeSample(key, entry, window, due[k++], closed);
    if (k > 0) due.splice(0, k);
  }

  private closeSample(key: string, entry: Entry, window: TimeWindow, timeMs: number, closed: ClosedWindow[]) {
    entry.clock.skipTo(timeMs);
    const { lengthMs } = this.settings;
    const summary = window.sealedSummary(timeMs);
    if (!this.settings.emitWarmup && timeMs - lengthMs < entry.firstMs) return;
    closed.push({ key, startMs: timeMs - lengthMs, endMs: timeMs, summary });
  }

  /** Count windows with a hop: the last N samples in arrival order, emitted at the last boundary reached. */
  private addToCount(
    key: string,
    entry: Entry,
    window: CountWindow,
    timeMs: number,
    value: number,
    closed: ClosedWindow[],
  ): void {
    const { clock } = entry;
    clock.observe(timeMs);
    const endMs = this.closeLastBoundary(clock, clock.watermarkMs);
    // A sample stamped on the boundary belongs to the window ending there.
    if (endMs < timeMs) this.pushCount(key, window, closed);
    window.add(timeMs, value);
    if (endMs >= timeMs) this.pushCount(key, window, closed);
  }

  private closeCount(
    key: string,
    entry: Entry,
    window: CountWindow,
    throughMs: number,
    closed: ClosedWindow[],
  ) {
    if (this.settings.hopMs === 0) return; // every sample was emitted on arrival
    if (this.closeLastBoundary(entry.clock, throughMs) > -Infinity) this.pushCount(key, window, closed);
  }

  /** Closes through the last boundary at or before `throughMs`; returns it, or −Infinity when none was open. */
  private closeLastBoundary(clock: EventClock, throughMs: number): number {
    const endMs = this.boundaries.atOrBefore(throughMs);
    if (!(endMs > clock.closedThroughMs)) return -Infinity;
    clock.skipTo(endMs);
    return endMs;
  }

  private pushCount(key: string, window: CountWindow, closed: ClosedWindow[]): void {
    const summary = window.summary();
    if (!this.settings.emitWarmup && summary.count < this.settings.count) return;
    if (summary.count > 0 || this.settings.emitEmpty) closed.push(countWindow(key, summary));
  }

  /** A new key's entry, or undefined when `maxKeys` are held and none is idle past the TTL. */
  private addKey(key: string, nowMs: number): Entry | undefined {
    if (this.entries.size >= this.settings.maxKeys && this.evictIdle(nowMs) === 0) return undefined;
    const entry = this.newEntry(this.newWindow(), nowMs);
    this.entries.set(key, entry);
    return entry;
  }

  private full(): Refusal {
    return { ok: false, kind: 'full', reason: `${this.settings.maxKeys} keys held (maxKeys)` };
  }

  /** The first boundary at or after `timeMs`. */
  private atOrAfter(timeMs: number): number {
    const b = this.boundaries.atOrBefore(timeMs);
    return b === timeMs ? b : this.boundaries.after(timeMs);
  }

  private newEntry(window: TimeWindow | CountWindow, nowMs: number): Entry {
    const { latenessMs, maxFutureMs, hopMs } = this.settings;
    const side = hopMs > 0 ? 'end' : 'start';
    return {
      window,
      clock: new EventClock({ latenessMs, maxFutureMs }, this.boundaries, side),
      lastSeenMs: nowMs,
      firstMs: Infinity,
      due: [],
    };
  }

  /** The ring's own lateness check must never be stricter than the event clock's. */
  private windowLatenessMs(): number {
    return this.settings.latenessMs + this.settings.hopMs;
  }

  private newWindow(): TimeWindow | CountWindow {
    const { count, lengthMs } = this.settings;
    if (count > 0) return new CountWindow(count);
    const { paneMs } = this;
    const latenessMs = this.windowLatenessMs();
    return paneMs === undefined
      ? new SlidingWindow(lengthMs, latenessMs)
      : new PaneWindow(lengthMs, paneMs, latenessMs);
  }

  /** A saved window, if it fits the settings; a ring's samples (state version 1) fold into panes. */
  private restoreWindow(state: AnyWindowState | PaneWindowState): TimeWindow | CountWindow | undefined {
    const { count, lengthMs } = this.settings;
    if (state.kind === 'count')
      return count > 0 && state.length === count ? windowFromJSON(state) : undefined;
    if (count > 0 || state.lengthMs !== lengthMs) return undefined;
    const { paneMs } = this;
    const latenessMs = this.windowLatenessMs();
    if (state.kind === 'panes')
      return state.paneMs === paneMs ? PaneWindow.fromJSON(state, latenessMs) : undefined;
    if (paneMs !== undefined) return PaneWindow.fromSlidingState(state, paneMs, latenessMs);
    return windowFromJSON({ ...state, latenessMs });
  }
}

function countWindow(key: string, summary: WindowSummary): ClosedWindow {
  return { key, startMs: summary.firstTimeMs, endMs: summary.lastTimeMs, summary };
}
