/**
 * The api-poller's loop: passes over the targets in fair rotation, one request at a
 * time, paced by the endpoint's shared token bucket; retries with capped exponential
 * backoff + jitter (Retry-After wins, and holds every poller of the endpoint); a
 * watchdog restarts the loop when nothing it scheduled has happened in time.
 * Timers are the global ones, so sinon fake timers drive it in tests.
 */
import { RoundRobin } from '../core/round-robin';
import { fillTemplate, type Target } from '../core/api-targets';
import { isRetryableStatus, nextRetryDelayMs, type BackoffOptions } from '../core/retry-backoff';
import { nextAlignedMs, everyAligned, type AlignedClock } from '../shared/aligned-clock';
import type { ApiEndpoint } from '../api-endpoint/api-endpoint-types';
import { httpGet, type GetOutcome, type PendingGet } from './http-get';

export type Schedule = 'aligned' | 'continuous' | 'msg';

export interface PollFailure {
  short: string; // for the status: "HTTP 500", "timeout"
  message: string; // for the log: redacted, says what to do
  retrying: boolean; // false: given up on this target for this pass
}

export interface PollLoopOptions {
  endpoint: ApiEndpoint;
  template: string;
  schedule: Schedule;
  intervalMs: number;
  offsetMs: number;
  pollOnStart: boolean;
  maxRetries: number;
  backoff: BackoffOptions;
  watchdogMs: number;
  onBody(target: Target, key: string, body: unknown, safeUrl: string): void;
  onSuccess(nowMs: number): void;
  onFailure(failure: PollFailure): void;
  onBlocked(reason: string): void;
  onRestart(reason: string): void;
}

export class PollLoop {
  private readonly rr: RoundRobin<Target>;
  private clock: AlignedClock | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private pending: PendingGet | undefined;
  private generation = 0;
  private stopped = false;
  private passActive = false;
  private passQueued = false;
  private remaining = 0;
  private current: Target | undefined;
  private attempt = 0; // retries of the current target
  private failureStreak = 0; // consecutive failures over targets: the backoff level
  private blockedUntilMs = 0;
  private deadlineMs = Infinity;

  constructor(
    private readonly o: PollLoopOptions,
    targets: Target[],
  ) {
    this.rr = new RoundRobin(targets, (t) => fillTemplate(o.template, t));
  }

  get targetCount(): number {
    return this.rr.size;
  }

  setTargets(targets: Target[]): void {
    this.rr.replace(targets);
  }

  start(): void {
    this.stopped = false;
    const gen = this.generation;
    if (this.o.schedule === 'aligned')
      this.clock = everyAligned(this.o.intervalMs, () => gen === this.generation && this.trigger(), {
        offsetMs: this.o.offsetMs,
      });
    const checkMs = Math.max(1000, Math.min(this.o.watchdogMs / 4, 30_000));
    this.watchdog = setInterval(() => this.checkStuck(), checkMs);
    if (this.o.schedule === 'continuous' || (this.o.schedule === 'aligned' && this.o.pollOnStart))
      this.trigger();
    else this.idle();
  }

  /** Starts a pass over every target (or queues one after the pass in progress). */
  trigger(): void {
    if (this.stopped) return;
    if (this.passActive) {
      this.passQueued = true;
      return;
    }
    if (this.rr.size === 0) return this.idle();
    this.passActive = true;
    this.remaining = this.rr.size;
    this.guardedStep();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.clock?.stop();
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.pending?.abort();
    this.pending = undefined;
    this.timer = this.watchdog = this.clock = undefined;
    this.passActive = this.passQueued = false;
  }

  private restart(reason: string): void {
    this.stop();
    this.current = undefined;
    this.attempt = 0;
    this.o.onRestart(reason);
    this.start();
    if (this.o.schedule === 'aligned' && !this.o.pollOnStart) this.trigger();
  }

  private later(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    const gen = this.generation;
    this.timer = setTimeout(() => gen === this.generation && this.guardedStep(), ms);
    this.expect(ms);
  }

  private expect(ms: number): void {
    this.deadlineMs = Date.now() + ms + Math.max(5000, this.o.watchdogMs);
  }

  private idle(): void {
    // Nothing scheduled by us until the next aligned tick (or a msg).
    if (this.o.schedule === 'aligned') {
      const now = Date.now();
      this.expect(nextAlignedMs(now, this.o.intervalMs, this.o.offsetMs) - now);
    } else this.deadlineMs = Infinity;
  }

  private checkStuck(): void {
    if (this.stopped || Date.now() <= this.deadlineMs) return;
    const what = this.pending
      ? 'a request never finished'
      : this.passActive
        ? 'the pass stalled'
        : 'the clock stopped';
    this.restart(`watchdog: ${what}; restarted the poll loop`);
  }

  private endPass(): void {
    this.passActive = false;
    if (this.passQueued || this.o.schedule === 'continuous') {
      this.passQueued = false;
      if (this.rr.size > 0) {
        this.passActive = true;
        this.remaining = this.rr.size;
        return this.later(0);
      }
    }
    this.idle();
  }

  /** A bug that throws here must not kill Node-RED; the watchdog restarts the loop instead. */
  private guardedStep(): void {
    try {
      this.step();
    } catch (err) {
      this.o.onFailure({
        short: 'internal error',
        message: this.o.endpoint.redact(
          `poll loop failed: ${(err as Error).message}; the watchdog will restart it`,
        ),
        retrying: true,
      });
    }
  }

  private step(): void {
    this.timer = undefined;
    this.expect(0); // whatever happens next must be scheduled before this deadline
    if (this.stopped || this.pending) return;
    if (this.remaining <= 0) return this.endPass();
    const problem = this.o.endpoint.problem();
    if (problem) {
      this.o.onBlocked(problem);
      this.remaining = 0;
      this.passActive = false;
      return this.idle();
    }
    const now = Date.now();
    const bucket = this.o.endpoint.bucket;
    const wait = Math.max(bucket.waitMs(now), this.blockedUntilMs - now);
    if (wait > 0 || !bucket.tryTake(now)) return this.later(Math.max(1, wait));
    this.current ??= this.rr.next();
    const target = this.current;
    if (!target) return this.endPass();
    let key: string;
    let request;
    try {
      key = fillTemplate(this.o.template, target);
      request = this.o.endpoint.prepare(key);
    } catch (err) {
      this.finishTarget();
      this.o.onFailure({
        short: 'bad target',
        message: this.o.endpoint.redact((err as Error).message),
        retrying: false,
      });
      return this.later(0);
    }
    const gen = this.generation;
    this.pending = httpGet(request.url, {
      headers: request.headers,
      timeoutMs: this.o.endpoint.timeoutMs,
      maxBytes: this.o.endpoint.maxBytes,
      agent: this.o.endpoint.agentFor(request.url),
    });
    this.expect(this.o.endpoint.timeoutMs);
    this.pending.result.then(
      (outcome) => gen === this.generation && this.settle(target, key, request.safeUrl, outcome),
      (err) =>
        gen === this.generation &&
        this.settle(target, key, request.safeUrl, { kind: 'network', reason: String(err) }),
    );
  }

  private finishTarget(): void {
    this.current = undefined;
    this.attempt = 0;
    this.remaining--;
  }

  private settle(target: Target, key: string, safeUrl: string, outcome: GetOutcome): void {
    this.pending = undefined;
    const redact = (text: string) => this.o.endpoint.redact(text);
    const now = Date.now();
    if (outcome.kind === 'ok') {
      this.failureStreak = 0;
      this.finishTarget();
      try {
        this.o.onBody(target, key, outcome.body, safeUrl);
      } finally {
        this.o.onSuccess(now);
        this.later(0);
      }
      return;
    }
    if (outcome.kind === 'malformed' || (outcome.kind === 'http' && !isRetryableStatus(outcome.status))) {
      this.finishTarget();
      const message =
        outcome.kind === 'malformed'
          ? `GET ${safeUrl}: malformed JSON (${outcome.reason}); first bytes: ${JSON.stringify(outcome.firstBytes)}`
          : `GET ${safeUrl}: HTTP ${outcome.status} ${outcome.text.slice(0, 300)} (not retried: check the URL, key and parameters)`;
      this.o.onFailure({
        short: outcome.kind === 'malformed' ? 'bad JSON' : `HTTP ${outcome.status}`,
        message: redact(message),
        retrying: false,
      });
      return this.later(0);
    }
    // Retryable: timeout, network, 429, 5xx.
    this.failureStreak++;
    this.attempt++;
    const retryAfter = outcome.kind === 'http' ? outcome.retryAfter : undefined;
    const delay = nextRetryDelayMs(this.failureStreak, retryAfter, now, this.o.backoff);
    if (outcome.kind === 'http' && outcome.status === 429) this.o.endpoint.bucket.holdUntil(now + delay);
    this.blockedUntilMs = now + delay;
    const short =
      outcome.kind === 'timeout'
        ? 'timeout'
        : outcome.kind === 'network'
          ? outcome.reason === 'connection refused'
            ? 'refused'
            : 'network'
          : `HTTP ${outcome.status}`;
    const detail =
      outcome.kind === 'timeout'
        ? `no response within ${outcome.afterMs} ms`
        : outcome.kind === 'network'
          ? outcome.reason
          : `HTTP ${outcome.status} ${outcome.text.slice(0, 200)}`;
    const giveUp = this.attempt > this.o.maxRetries;
    if (giveUp) this.finishTarget();
    this.o.onFailure({
      short,
      message: redact(
        giveUp
          ? `GET ${safeUrl}: ${detail}; gave up after ${this.o.maxRetries + 1} tries, next target in ${Math.round(delay / 1000)} s`
          : `GET ${safeUrl}: ${detail}; retry ${this.attempt} of ${this.o.maxRetries} in ${Math.round(delay / 1000)} s`,
      ),
      retrying: !giveUp,
    });
    this.later(delay);
  }
}
