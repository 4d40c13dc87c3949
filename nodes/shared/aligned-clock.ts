/**
 * Calls `tick(alignedTimeMs)` at every wall-clock multiple of `periodMs` plus
 * `offsetMs` (every minute at :00). Each tick schedules the next from the clock, so
 * there is no drift; a tick that throws does not stop the clock.
 */
export interface AlignedClock {
  stop(): void;
}

export function nextAlignedMs(nowMs: number, periodMs: number, offsetMs = 0): number {
  return Math.floor((nowMs - offsetMs) / periodMs) * periodMs + periodMs + offsetMs;
}

export function everyAligned(
  periodMs: number,
  tick: (alignedTimeMs: number) => void,
  { offsetMs = 0, onError = (_err: unknown) => {} } = {},
): AlignedClock {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const due = nextAlignedMs(Date.now(), periodMs, offsetMs);
    timer = setTimeout(() => {
      try {
        tick(due);
      } catch (err) {
        onError(err);
      }
      schedule();
    }, due - Date.now());
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
