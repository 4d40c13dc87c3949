/**
 * Rate limiter for an API endpoint: at most `requests` per `periodMs`, spread evenly
 * (one request every periodMs / requests), with no burst beyond `burst` requests
 * (default 1, i.e. strictly even spacing). A generic cell rate algorithm: one number,
 * the earliest time the next request may go, so it is shared cheaply by every poller
 * of an endpoint. Time comes from an injectable clock; there are no timers here.
 *
 * Guarantee: in any half-open window of `periodMs`, at most `requests + burst - 1`
 * requests are taken (exactly `requests` with the default burst of 1). A late caller
 * never catches up by sending a burst afterwards.
 */
export interface TokenBucketOptions {
  requests: number; // N per period, > 0
  periodMs: number; // > 0
  burst?: number; // tokens that may be taken back to back, ≥ 1 (default 1)
  now?: () => number;
}

export class TokenBucket {
  readonly intervalMs: number;
  readonly burst: number;
  private readonly now: () => number;
  /** Theoretical arrival time: when the bucket is "empty" again. */
  private nextFreeMs = -Infinity;
  private heldUntilMs = -Infinity;

  constructor({ requests, periodMs, burst = 1, now = Date.now }: TokenBucketOptions) {
    if (!(requests > 0) || !Number.isFinite(requests)) throw new Error(`requests = ${requests} must be > 0`);
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new Error(`periodMs = ${periodMs} must be > 0`);
    if (!(burst >= 1) || !Number.isInteger(burst)) throw new Error(`burst = ${burst} must be an integer ≥ 1`);
    this.intervalMs = periodMs / requests;
    this.burst = burst;
    this.now = now;
  }

  /** Milliseconds until a request may be taken (0 = now). */
  waitMs(nowMs = this.now()): number {
    const earliest = Math.max(this.nextFreeMs - (this.burst - 1) * this.intervalMs, this.heldUntilMs);
    return Math.max(0, Math.ceil(earliest - nowMs));
  }

  /** Takes one request slot when one is free; false (and nothing taken) otherwise. */
  tryTake(nowMs = this.now()): boolean {
    if (this.waitMs(nowMs) > 0) return false;
    this.nextFreeMs = Math.max(this.nextFreeMs, nowMs) + this.intervalMs;
    return true;
  }

  /** No request before `untilMs` (a server's Retry-After holds every user of the endpoint). */
  holdUntil(untilMs: number): void {
    this.heldUntilMs = Math.max(this.heldUntilMs, untilMs);
  }
}
