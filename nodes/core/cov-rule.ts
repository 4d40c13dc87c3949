/**
 * The change-of-value (COV) rule per key (docs/adr/0015): pass a value when it differs
 * from the last PASSED value by more than the absolute threshold or by more than the
 * percentage of that value (either threshold may be off; with both on, exceeding either
 * passes), and pass one at least every heartbeat even when unchanged.
 */
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
