/**
 * The anomaly-flagger's stream mode as a partition operator (nats-in `operator:
 * anomaly-stream`, docs/adr/0100-scale-out-engine.md): per key, each value against the
 * count window of that key's values before it, scored by the flagger's own
 * StreamAnomalyDetector. Stream order is the partition order; lateness 0: a sample stamped
 * before its key's newest is refused. Every accepted value gives one result, as the
 * flagger's first output does.
 *
 * A restored count window must score bit for bit as the uninterrupted one (the results are
 * de-duplicated by a hash of their content). Its sums depend on where its two-stack queue
 * last flipped, which follows from how many values the key has had; the checkpoint keeps
 * that count and the restore replays the window through the detector's own state loader
 * with padding that puts the flip in the same place (see `paddedWindow`).
 */
import { StreamAnomalyDetector, type StreamAnomalyState, type ZScore } from './fleet-anomaly';
import { PartitionKeys, unusableSample } from './partition-keys';
import type { OperatorOutcome, PartitionOperator } from './partition-operator';

export interface AnomalyStreamOptions {
  /** Flag when |z| > sigmas (the flagger's `sigmas`). */
  sigmas: number;
  windowSize: number;
  minCount: number;
  /** Keys held at most (0: unbounded). */
  maxKeys?: number;
}

/** One scored value of one key, shaped as the flagger's output fields, with its position. */
export interface PartitionAnomalyResult extends ZScore {
  key: string;
  timeMs: number;
  value: number;
  /** Values in the window it was scored against. */
  count: number;
  seq: number;
}

export interface PartitionAnomalyKeyState {
  newestMs: number;
  /** Values the key has had since it started (places the window's internal flip on restore). */
  added: number;
  /** The window of its latest values, oldest first. */
  values: number[];
}

export interface PartitionAnomalyState {
  operator: 'anomaly-stream';
  sigmas: number;
  windowSize: number;
  minCount: number;
  seq: number;
  keys: Record<string, PartitionAnomalyKeyState>;
}

interface KeyClock {
  newestMs: number;
  added: number;
}

/**
 * A count window of length L flips (moves its back stack to the front) at its (L+1)-th
 * value and every L+1 values after; `front` values then sit in the front stack. Fed
 * through CountWindow.add, L+1−front padding values followed by the window make the flip
 * fall right after the front values, and the padding is shifted out by the back values.
 */
function paddedWindow(values: number[], added: number, length: number): number[] {
  if (added <= length) return values;
  const front = length - ((added - length - 1) % (length + 1));
  if (front === 0) return values;
  const padding = new Array<number>(length + 1 - front).fill(values[0]);
  return [...padding, ...values];
}

export class PartitionAnomalyStream
  extends PartitionKeys<KeyClock>
  implements PartitionOperator<PartitionAnomalyResult>
{
  private detector: StreamAnomalyDetector;

  constructor(readonly options: AnomalyStreamOptions) {
    super(options.maxKeys);
    const { sigmas, windowSize, minCount } = options;
    if (!(Number.isInteger(windowSize) && windowSize >= 2))
      throw new Error(`windowSize ${windowSize} must be an integer ≥ 2`);
    if (!(Number.isInteger(minCount) && minCount >= 2))
      throw new Error(`minCount ${minCount} must be an integer ≥ 2`);
    this.detector = new StreamAnomalyDetector(sigmas, windowSize, minCount);
  }

  add(key: string, timeMs: number, value: number, seq: number): OperatorOutcome<PartitionAnomalyResult> {
    this.skip(seq);
    const unusable = unusableSample(key, timeMs, value);
    if (unusable !== undefined) return { ok: false, reason: unusable };
    const clock = this.getOrCreate(key, () => ({ newestMs: -Infinity, added: 0 }));
    if (typeof clock === 'string') return { ok: false, reason: clock };
    if (timeMs < clock.newestMs)
      return {
        ok: false,
        reason: `sample at ${new Date(timeMs).toISOString()} is before the newest of key "${key}" (${new Date(clock.newestMs).toISOString()}): not scored (stream order, lateness 0)`,
      };
    clock.newestMs = timeMs;
    clock.added++;
    const score = this.detector.check(key, value);
    return { ok: true, results: [{ key, timeMs, value, ...score, seq }] };
  }

  toJSON(): PartitionAnomalyState {
    const windows = this.detector.toJSON();
    const keys: PartitionAnomalyState['keys'] = {};
    for (const [key, clock] of this.keys)
      keys[key] = { newestMs: clock.newestMs, added: clock.added, values: windows[key]?.values ?? [] };
    const { sigmas, windowSize, minCount } = this.options;
    return { operator: 'anomaly-stream', sigmas, windowSize, minCount, seq: this.lastSeq, keys };
  }

  static fromJSON(state: PartitionAnomalyState, maxKeys = 0): PartitionAnomalyStream {
    const { sigmas, windowSize, minCount } = state;
    const operator = new PartitionAnomalyStream({ sigmas, windowSize, minCount, maxKeys });
    operator.lastSeq = state.seq;
    const windows: StreamAnomalyState = {};
    for (const [key, s] of Object.entries(state.keys)) {
      operator.keys.set(key, { newestMs: s.newestMs, added: s.added });
      if (s.values.length === 0) continue;
      const values = paddedWindow(s.values, s.added, windowSize);
      // Count windows take a time; the detector only orders by it.
      windows[key] = { kind: 'count', length: windowSize, times: values.map((_, i) => i), values };
    }
    operator.detector = new StreamAnomalyDetector(sigmas, windowSize, minCount, windows);
    return operator;
  }
}
