/**
 * One window per key (msg.topic by default) with idle-key eviction, so memory stays
 * bounded with many keys: a key that received no sample for `ttlMs` is dropped.
 */
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
  latenessMs: number;
  /** Idle time after which a key is forgotten (wall clock). */
  ttlMs: number;
}

export interface KeyedWindowsState {
  keys: Record<string, { lastSeenMs: number; window: AnyWindowState }>;
}

interface Entry {
  window: SlidingWindow | CountWindow;
  lastSeenMs: number;
}

export class KeyedWindows {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly settings: KeyedWindowSettings,
    state?: KeyedWindowsState,
  ) {
    if (state?.keys) {
      for (const [key, saved] of Object.entries(state.keys)) {
        const window = windowFromJSON(saved.window);
        // A changed length or kind in the editor makes old samples meaningless.
        if (this.matches(window)) this.entries.set(key, { window, lastSeenMs: saved.lastSeenMs });
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Adds a sample; returns why it was refused (late), or undefined. */
  add(key: string, timeMs: number, value: number, nowMs: number): string | undefined {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const { count, lengthMs, latenessMs } = this.settings;
      entry = {
        window: count > 0 ? new CountWindow(count) : new SlidingWindow(lengthMs, latenessMs),
        lastSeenMs: nowMs,
      };
      this.entries.set(key, entry);
    }
    entry.lastSeenMs = nowMs;
    const w = entry.window;
    if (w instanceof CountWindow) {
      w.add(timeMs, value);
      return undefined;
    }
    return w.add(timeMs, value, nowMs);
  }

  /** Summary of one key's window ending at `endMs` (time windows) or of its last samples. */
  summary(key: string, endMs: number): WindowSummary | undefined {
    const w = this.entries.get(key)?.window;
    if (w === undefined) return undefined;
    return w instanceof CountWindow ? w.summary() : w.summary(endMs);
  }

  /** Summary of the window ending at the key's newest sample (per-sample emission). */
  latestSummary(key: string): WindowSummary | undefined {
    const w = this.entries.get(key)?.window;
    if (w === undefined) return undefined;
    return w instanceof CountWindow ? w.summary() : w.summary(w.newestTimeMs);
  }

  /** Drops keys idle for longer than the TTL; returns how many were dropped. */
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
    for (const [key, entry] of this.entries)
      keys[key] = { lastSeenMs: entry.lastSeenMs, window: entry.window.toJSON() };
    return { keys };
  }

  private matches(window: SlidingWindow | CountWindow): boolean {
    const { count, lengthMs, latenessMs } = this.settings;
    if (window instanceof CountWindow) return count > 0 && window.length === count;
    return count === 0 && window.lengthMs === lengthMs && window.latenessMs === latenessMs;
  }
}
