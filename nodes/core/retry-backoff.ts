/**
 * Capped exponential backoff with full jitter, honouring a server's Retry-After.
 * Shared by influx-write and api-poller. `random` is injectable for exact tests.
 */
export interface BackoffOptions {
  baseMs: number; // first delay ceiling, e.g. 1,000
  maxMs: number; // cap, e.g. 60,000
  random?: () => number; // [0, 1)
}

/** Delay before retry number `attempt` (1 = first retry): uniform in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelayMs(
  attempt: number,
  { baseMs, maxMs, random = Math.random }: BackoffOptions,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Retry-After header (delta seconds or an HTTP date) in ms from `nowMs`; undefined when
 * absent or unreadable. Capped at `maxMs` so a hostile header cannot park us for days.
 */
export function retryAfterMs(
  header: string | null | undefined,
  nowMs: number,
  maxMs = 3_600_000,
): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(maxMs, Math.round(Number(text) * 1000));
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(maxMs, Math.max(0, date - nowMs));
}

/** The wait before the next try: the server's Retry-After when it gave one, else our backoff. */
export function nextRetryDelayMs(
  attempt: number,
  retryAfterHeader: string | null | undefined,
  nowMs: number,
  options: BackoffOptions,
): number {
  return (
    retryAfterMs(retryAfterHeader, nowMs, Math.max(options.maxMs, 3_600_000)) ??
    backoffDelayMs(attempt, options)
  );
}

/** HTTP statuses worth retrying: 408, 425, 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}
