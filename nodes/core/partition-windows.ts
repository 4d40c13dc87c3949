/**
 * Event-time sliding windows for every key of one stream partition, with the stream
 * position they cover, so the pair can be checkpointed and restored as one value
 * (docs/adr/0100-scale-out-engine.md). Window `(T − length, T]` for T on multiples of
 * the hop; lateness 0: the first sample stamped ≥ T closes every window ending at or
 * before it. Samples at or before the newest one of their key are late.
 *
 * With `idleMs` > 0 the partition also has a watermark: the newest sample time of the whole
 * partition minus `idleMs`, floored to the hop. Every key's windows ending at or before it
 * close although the key itself is quiet, and any sample at or before it is late. Keys whose
 * samples have all left every window not yet closed are then dropped: a later sample of
 * theirs starts the key afresh with exactly the results the kept key would have given.
 * All of it is decided by event times in stream order, never by the wall clock, so a replay
 * after a takeover reproduces the same results. `maxKeys` bounds the keys of one partition
 * (a worker holds at most maxKeys × its partitions); a sample of a new key beyond it is refused.
 */
import type { PartitionOperator } from './partition-operator';
import { PaneWindow, paneMsFor, type PaneWindowState } from './pane-window';
import { PartitionKeys } from './partition-keys';
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
  /** Panes (docs/adr/0150), or the ring's samples (checkpoints before panes, or windows of too many panes). */
  keys: Record<string, { nextEndMs: number; window: SlidingWindowState | PaneWindowState }>;
  /** Newest sample time of the partition (absent in checkpoints written before idle closing). */
  newestMs?: number;
  /** Windows ending at or before it are closed for every key (idle closing). */
  watermarkMs?: number;
}

export interface PartitionWindowsOptions {
  /** A key's windows close once the partition's newest sample is this much past their end (0: never). */
  idleMs?: number;
  /** Keys held at most (0: unbounded). */
  maxKeys?: number;
}

export type AddOutcome = { ok: true; results: PartitionWindowResult[] } | { ok: false; reason: string };

interface KeyState {
  nextEndMs: number;
  window: SlidingWindow | PaneWindow;
}

export class PartitionWindows
  extends PartitionKeys<KeyState>
  implements PartitionOperator<PartitionWindowResult>
{
  private newestMs = -Infinity;
  private watermarkMs = -Infinity;
  private readonly idleMs: number;
  /** Pane length (docs/adr/0150); undefined = the ring. */
  private readonly paneMs: number | undefined;

  constructor(
    readonly windowMs: number,
    readonly hopMs: number,
    options: PartitionWindowsOptions = {},
  ) {
    super(options.maxKeys);
    if (!(windowMs > 0 && hopMs > 0))
      throw new Error(`window ${windowMs} ms and hop ${hopMs} ms must be > 0`);
    this.idleMs = options.idleMs ?? 0;
    if (!(this.idleMs >= 0)) throw new Error(`idle ${this.idleMs} ms must be ≥ 0`);
    this.paneMs = paneMsFor(windowMs, hopMs);
  }

  /** Windows ending at or before it are closed for every key (-Infinity without idle closing). */
  get watermark(): number {
    return this.watermarkMs;
  }

  /** Folds in one sample; returns the windows it closed, oldest first, or why it is late. */
  add(key: string, timeMs: number, value: number, seq: number): AddOutcome {
    this.skip(seq);
    if (timeMs <= this.watermarkMs) {
      return {
        ok: false,
        reason: `sample at ${new Date(timeMs).toISOString()} of key "${key}" is not after the partition's idle watermark (${new Date(this.watermarkMs).toISOString()})`,
      };
    }
    const state = this.getOrCreate(key, () => ({
      nextEndMs: Math.ceil(timeMs / this.hopMs) * this.hopMs,
      window:
        this.paneMs === undefined
          ? new SlidingWindow(this.windowMs)
          : new PaneWindow(this.windowMs, this.paneMs),
    }));
    if (typeof state === 'string') return { ok: false, reason: state };
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
    if (timeMs > this.newestMs) {
      this.newestMs = timeMs;
      if (this.idleMs > 0) this.advanceWatermark(seq, results);
    }
    return { ok: true, results };
  }

  /**
   * Runs only when the watermark crosses a hop boundary: one pass over the keys per hop of
   * partition time, not one per sample.
   */
  private advanceWatermark(seq: number, results: PartitionWindowResult[]): void {
    const watermark = Math.floor((this.newestMs - this.idleMs) / this.hopMs) * this.hopMs;
    if (watermark <= this.watermarkMs) return;
    this.watermarkMs = watermark;
    for (const [key, state] of this.keys) {
      while (state.nextEndMs <= watermark) {
        if (state.window.newestTimeMs <= state.nextEndMs - this.windowMs) {
          state.nextEndMs = watermark + this.hopMs; // only empty windows left up to it
          break;
        }
        this.close(key, state, seq, results);
      }
      // Every window still open ends after the watermark: none holds a sample of this key.
      if (state.window.newestTimeMs <= watermark + this.hopMs - this.windowMs) this.keys.delete(key);
    }
  }

  toJSON(): PartitionWindowsState {
    const keys: PartitionWindowsState['keys'] = {};
    for (const [key, s] of this.keys) keys[key] = { nextEndMs: s.nextEndMs, window: s.window.toJSON() };
    const clocks = this.idleMs > 0 ? { newestMs: this.newestMs, watermarkMs: this.watermarkMs } : {};
    return { windowMs: this.windowMs, hopMs: this.hopMs, seq: this.lastSeq, keys, ...clocks };
  }

  static fromJSON(state: PartitionWindowsState, options: PartitionWindowsOptions = {}): PartitionWindows {
    const windows = new PartitionWindows(state.windowMs, state.hopMs, options);
    windows.lastSeq = state.seq;
    // JSON has no -Infinity: an absent or null clock is "none yet".
    windows.newestMs = state.newestMs ?? -Infinity;
    windows.watermarkMs = state.watermarkMs ?? -Infinity;
    for (const [key, s] of Object.entries(state.keys)) {
      windows.keys.set(key, { nextEndMs: s.nextEndMs, window: windows.restoreWindow(s.window) });
    }
    return windows;
  }

  /** A checkpointed window; the ring's samples (checkpoints before panes) fold into panes. */
  private restoreWindow(state: SlidingWindowState | PaneWindowState): SlidingWindow | PaneWindow {
    if (state.kind === 'panes') return PaneWindow.fromJSON(state);
    return this.paneMs === undefined
      ? SlidingWindow.fromJSON(state)
      : PaneWindow.fromSlidingState(state, this.paneMs);
  }

  private close(key: string, state: KeyState, seq: number, results: PartitionWindowResult[]): void {
    const endMs = state.nextEndMs;
    state.nextEndMs += this.hopMs;
    const s = state.window.sealedSummary(endMs);
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
