/**
 * Interval checkpoints of a node's state (issue 15): saved at every wall-clock multiple of
 * `checkpointSeconds` (every minute at :00 by default) and on close, so a crash (SIGKILL)
 * loses at most one interval plus the context store's flush interval.
 */
import { everyAligned } from './aligned-clock';
import { configNumber } from './config-number';

export const DEFAULT_CHECKPOINT_SECONDS = 60;

/** The `checkpointSeconds` setting in ms (≥ 1 s; default 60 s). */
export function parseCheckpointMs(raw: unknown): number {
  return configNumber(raw, 'checkpointSeconds', DEFAULT_CHECKPOINT_SECONDS, { min: 1 }) * 1000;
}

/** For a node that checkpoints from its own clock: due once each time the wall clock enters a new interval. */
export class CheckpointSlots {
  private slot: number;

  constructor(
    readonly intervalMs: number,
    nowMs = Date.now(),
  ) {
    this.slot = Math.floor(nowMs / intervalMs);
  }

  due(nowMs: number): boolean {
    const slot = Math.floor(nowMs / this.intervalMs);
    if (slot === this.slot) return false;
    this.slot = slot;
    return true;
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
