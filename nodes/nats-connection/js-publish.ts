/**
 * A JetStream publish retried until the stream acknowledges it. nats-server 2.9 gives no
 * PubAck while a stream elects a leader or a server restarts (timeout, 503 "no
 * responders"); the same message id on every try lets the stream's de-duplication drop
 * a try that was stored but whose ack was lost, so a retry never stores twice.
 */
import type { JetStreamClient, PubAck } from 'nats';
import { backoffDelayMs } from '../core/retry-backoff';

export interface AckedPublishOptions {
  msgID: string;
  /** Give up (throw the last error) once this long has passed since the first try. */
  giveUpAfterMs?: number;
  /**
   * "No responders" beyond a server's reconnect or route set-up means no stream takes the
   * subject at all: a mistake to report now, not to retry for a minute.
   */
  noRespondersGiveUpAfterMs?: number;
  /** Wait for one PubAck before trying again. */
  ackTimeoutMs?: number;
  /** Stop retrying (e.g. the node was closed). */
  cancelled?: () => boolean;
}

export async function publishUntilAcked(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  {
    msgID,
    giveUpAfterMs = 60_000,
    noRespondersGiveUpAfterMs = 1_500,
    ackTimeoutMs = 5_000,
    cancelled = () => false,
  }: AckedPublishOptions,
): Promise<PubAck> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await js.publish(subject, data, { msgID, timeout: ackTimeoutMs });
    } catch (err) {
      const limitMs = isNoResponders(err) ? noRespondersGiveUpAfterMs : giveUpAfterMs;
      const leftMs = limitMs - (Date.now() - started);
      if (!isTransient(err) || cancelled() || leftMs <= 0) throw err;
      const delayMs = Math.min(leftMs, backoffDelayMs(attempt, { baseMs: 100, maxMs: 2_000 }));
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

function isNoResponders(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code);
  return code === '503' || /no responders/i.test(err instanceof Error ? err.message : String(err));
}

/** Errors a healthy cluster recovers from on its own; anything else (bad subject, limits) is final. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : String(err);
  return (
    ['TIMEOUT', '503', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'DISCONNECT'].includes(String(code)) ||
    /timeout|no responders|503|disconnect|leader|closed|unavailable|stale connection/i.test(text)
  );
}
