/**
 * Event-time sliding windows for every key of one stream partition, with the stream
 * position they cover, so the pair can be checkpointed and restored as one value
 * (docs/adr/0100-scale-out-engine.md). Window `(T − length, T]` for T on multiples of
 * the hop; lateness 0: the first sample stamped ≥ T closes every window ending at or
 * before it. Samples at or before the newest one of their key are late.
 */
import { SlidingWindow, type SlidingWindowState } from './sliding-window';

export interface PartitionWindowResult {
  key: string;
  startMs: number;
  endMs: number;
  count: number;
  mean: number;
  min: number;
  max: number;
  /** Stream position of the sample that closed the window. */
  seq: number;
}

export interface PartitionWindowsState {
  windowMs: number;
  hopMs: number;
  /** Last stream position folded in (0: none). */
  seq: number;
  keys: Record<string, { nextEndMs: number; window: SlidingWindowState }>;
}

export type AddOutcome = { ok: true; results: PartitionWindowResult[] } | { ok: false; reason: string };

interface KeyState {
  nextEndMs: number;
  window: SlidingWindow;
}

export class PartitionWindows {
  private readonly keys = new Map<string, KeyState>();
  private lastSeq = 0;

  constructor(
    readonly windowMs: number,
    readonly hopMs: number,
  ) {
    if (!(windowMs > 0 && hopMs > 0))
      throw new Error(`window ${windowMs} ms and hop ${hopMs} ms must be > 0`);
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

  /** Folds in one sample; returns the windows it closed, oldest first, or why it is late. */
  add(key: string, timeMs: number, value: number, seq: number): AddOutcome {
    this.skip(seq);
    let state = this.keys.get(key);
    if (!state) {
      state = {
        nextEndMs: Math.ceil(timeMs / this.hopMs) * this.hopMs,
        window: new SlidingWindow(this.windowMs),
      };
      this.keys.set(key, state);
    }
    const newest = state.window.newestTimeMs;
    if (timeMs <= newest) {
      return {
        ok: false,
        reason: `sample at ${new Date(timeMs).toISOString()} is not after the newest of key "${key}" (${new Date(newest).toISOString()})`,
      };
    }
    const results: PartitionWindowResult[] = [];
    // Windows ending before the sample close first: it must not be counted in them.
    while (state.nextEndMs < timeMs) {
      if (state.window.newestTimeMs <= state.nextEndMs - this.windowMs) {
        // Every window left before the sample is empty (a gap): jump past them.
        state.nextEndMs = Math.ceil(timeMs / this.hopMs) * this.hopMs;
        break;
      }
      this.close(key, state, seq, results);
    }
    state.window.add(timeMs, value);
    if (state.nextEndMs === timeMs) this.close(key, state, seq, results);
    return { ok: true, results };
  }

  toJSON(): PartitionWindowsState {
    const keys: PartitionWindowsState['keys'] = {};
    for (const [key, s] of this.keys) keys[key] = { nextEndMs: s.nextEndMs, window: s.window.toJSON() };
    return { windowMs: this.windowMs, hopMs: this.hopMs, seq: this.lastSeq, keys };
  }

  static fromJSON(state: PartitionWindowsState): PartitionWindows {
    const windows = new PartitionWindows(state.windowMs, state.hopMs);
    windows.lastSeq = state.seq;
    for (const [key, s] of Object.entries(state.keys)) {
      windows.keys.set(key, { nextEndMs: s.nextEndMs, window: SlidingWindow.fromJSON(s.window) });
    }
    return windows;
  }

  private close(key: string, state: KeyState, seq: number, results: PartitionWindowResult[]): void {
    const endMs = state.nextEndMs;
    state.nextEndMs += this.hopMs;
    const s = state.window.summary(endMs);
    if (s.count === 0) return;
    results.push({
      key,
      startMs: endMs - this.windowMs,
      endMs,
      count: s.count,
      mean: s.mean as number,
      min: s.min as number,
      max: s.max as number,
      seq,
    });
  }
}
