/**
 * Interval checkpoints of a node's state (issue 15): saved at every wall-clock multiple of
 * `checkpointSeconds` (every minute at :00 by default; moving-window shifts its saves by
 * half its hop, see CheckpointSlots) and on close, so a crash (SIGKILL) loses at most one
 * interval plus the context store's flush interval.
 */
import { everyAligned } from './aligned-clock';
import { configNumber } from './config-number';

export const DEFAULT_CHECKPOINT_SECONDS = 60;

/** The `checkpointSeconds` setting in ms (≥ 1 s; default 60 s). */
export function parseCheckpointMs(raw: unknown): number {
  return configNumber(raw, 'checkpointSeconds', DEFAULT_CHECKPOINT_SECONDS, { min: 1 }) * 1000;
}

/**
 * For a node that checkpoints from its own clock: due once each time the wall clock enters
 * a new interval. `offsetMs` moves the boundaries off the multiples (a node whose results
 * leave at :00 saves at :30, so the save does not hold up that burst).
 */
export class CheckpointSlots {
  private slot: number;

  constructor(
    readonly intervalMs: number,
    nowMs = Date.now(),
    readonly offsetMs = 0,
  ) {
    this.slot = this.slotOf(nowMs);
  }

  due(nowMs: number): boolean {
    const slot = this.slotOf(nowMs);
    if (slot === this.slot) return false;
    this.slot = slot;
    return true;
  }

  private slotOf(nowMs: number): number {
    return Math.floor((nowMs - this.offsetMs) / this.intervalMs);
  }
}

export interface Checkpoints {
  /** Stops the clock and saves a last time (call it from the node's close handler). */
  stop(): void;
}

/** Calls `save` at every wall-clock multiple of `intervalMs`, and once more on `stop`. */
export function startCheckpoints(
  intervalMs: number,
  save: () => void,
  onError: (err: unknown) => void,
): Checkpoints {
  const clock = everyAligned(intervalMs, () => save(), { onError });
  return {
    stop() {
      clock.stop();
      save();
    },
  };
}
