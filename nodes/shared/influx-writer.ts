/**
 * The write pipeline behind influx-write: lines → batches (by size and interval, one per
 * target) → one HTTP write per batch, one request in flight, oldest first. When the server
 * is unreachable or answers 5xx/429 the batches go to the disk queue and are retried with
 * capped exponential backoff + jitter (Retry-After honoured). Rejections (400/422) are not
 * retried. See docs/adr/0023 and 0024.
 */
import { DiskQueue, type QueuedBatch } from './disk-queue';
import type { InfluxHttp, WriteOutcome, WriteTarget } from './influx-http';
import type { Precision } from '../core/line-protocol';
import { nextRetryDelayMs } from '../core/retry-backoff';

export interface WriterOptions {
  /** undefined: no server configured; batches wait on disk. */
  client: InfluxHttp | undefined;
  precision: Precision;
  batchSize: number;
  flushMs: number;
  bufferDir: string;
  bufferBytes: number;
  /** Batches waiting in memory before new ones go to disk [64 MB]. */
  memoryBytes?: number;
  backoff?: { baseMs: number; maxMs: number };
  onWritten?(points: number, target: WriteTarget): void;
  onRejected?(lines: string[], status: number, message: string, target: WriteTarget): void;
  onRetry?(message: string, delayMs: number): void;
  onDropped?(points: number): void;
  onChange?(): void;
}

/** A batch being filled: lines appended to a string. */
interface OpenBatch {
  target: WriteTarget;
  body: string;
  points: number;
}
/**
 * A closed batch: its body as bytes right away, off the JS heap, so batches waiting for the
 * server are not scanned by every garbage collection (ropes of 5,000 strings were; GC then
 * took most of the time).
 */
interface Batch {
  target: WriteTarget;
  body: Buffer;
  points: number;
}

function closeBatch(batch: OpenBatch): Batch {
  return { target: batch.target, body: Buffer.from(batch.body), points: batch.points };
}

export class InfluxWriter {
  private readonly open = new Map<string, OpenBatch>();
  private readonly pending: Batch[] = [];
  private pendingBytes = 0;
  private readonly disk: DiskQueue<WriteTarget>;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private sending = false;
  private stopped = false;
  private attempt = 0;
  private idleWaiters: (() => void)[] = [];
  writtenPoints = 0;
  lastError = '';

  constructor(private readonly options: WriterOptions) {
    this.disk = new DiskQueue<WriteTarget>(options.bufferDir, options.bufferBytes);
    if (this.disk.count > 0) queueMicrotask(() => this.pump());
  }

  /** Points waiting on disk. */
  get bufferedPoints(): number {
    return this.disk.points;
  }
  get droppedPoints(): number {
    return this.disk.droppedPoints;
  }
  /** Points accepted but not yet acknowledged (open batches, memory, disk). */
  get unacknowledgedPoints(): number {
    let n = this.disk.points;
    for (const b of this.pending) n += b.points;
    for (const b of this.open.values()) n += b.points;
    return n;
  }
  get retrying(): boolean {
    return this.retryTimer !== undefined;
  }

  /** Adds one line for `target` (key: its JSON, '' for the connection's default). */
  add(targetKey: string, target: WriteTarget, line: string): void {
    let batch = this.open.get(targetKey);
    if (!batch) {
      batch = { target, body: '', points: 0 };
      this.open.set(targetKey, batch);
    }
    batch.body += line + '\n';
    if (++batch.points >= this.options.batchSize) {
      this.open.delete(targetKey);
      this.enqueue(closeBatch(batch));
    } else if (!this.flushTimer && !this.stopped) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, this.options.flushMs);
    }
  }

  /** Closes every open batch now. */
  flush(): void {
    for (const batch of this.open.values()) this.enqueue(closeBatch(batch));
    this.open.clear();
  }

  private enqueue(batch: Batch): void {
    const size = batch.body.length;
    const toDisk =
      !this.options.client ||
      this.stopped ||
      this.retryTimer !== undefined ||
      this.disk.count > 0 ||
      this.pendingBytes + size > (this.options.memoryBytes ?? 64 * 1024 * 1024);
    if (toDisk) this.toDisk(batch, false);
    else {
      this.pending.push(batch);
      this.pendingBytes += size;
    }
    this.pump();
  }

  private toDisk(batch: Batch, first: boolean): void {
    const dropped = first
      ? this.disk.prepend(batch.target, batch.body, batch.points)
      : this.disk.append(batch.target, batch.body, batch.points);
    if (dropped > 0) this.options.onDropped?.(dropped);
    this.options.onChange?.();
  }

  /** Moves what waits in memory to the front of the disk queue, keeping the order. */
  private spillPending(): void {
    for (let i = this.pending.length - 1; i >= 0; i--) this.toDisk(this.pending[i], true);
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  private pump(): void {
    const client = this.options.client;
    if (this.sending || this.stopped || this.retryTimer || !client) return this.notifyIdle();
    let batch: Batch;
    let entry: QueuedBatch | undefined;
    if (this.pending.length > 0) batch = this.pending[0];
    else if ((entry = this.disk.oldest())) {
      const stored = this.disk.read(entry);
      return this.send(client, { target: stored.meta, body: stored.body, points: entry.points }, entry);
    } else return this.notifyIdle();
    this.send(client, batch, undefined);
  }

  private send(client: InfluxHttp, batch: Batch, entry: QueuedBatch | undefined): void {
    const body = batch.body;
    this.sending = true;
    client
      .write(batch.target, this.options.precision, body)
      .catch((err: Error): WriteOutcome => ({ kind: 'retry', message: err.message }))
      .then((outcome) => {
        this.sending = false;
        if (this.stopped) return this.notifyIdle();
        if (outcome.kind === 'retry') return this.scheduleRetry(outcome);
        this.attempt = 0;
        if (entry) this.disk.remove(entry);
        else {
          this.pending.shift();
          this.pendingBytes -= batch.body.length;
        }
        if (outcome.kind === 'ok') {
          this.writtenPoints += batch.points;
          this.lastError = '';
          this.options.onWritten?.(batch.points, batch.target);
        } else {
          const lines = body
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== '');
          this.lastError = `${outcome.status} ${outcome.message}`;
          this.options.onRejected?.(lines, outcome.status, outcome.message, batch.target);
        }
        this.options.onChange?.();
        this.pump();
      });
  }

  private scheduleRetry(outcome: Extract<WriteOutcome, { kind: 'retry' }>): void {
    this.spillPending();
    this.attempt++;
    const delay = nextRetryDelayMs(
      this.attempt,
      outcome.retryAfter,
      Date.now(),
      this.options.backoff ?? { baseMs: 500, maxMs: 30_000 },
    );
    this.lastError = outcome.status ? `${outcome.status} ${outcome.message}` : outcome.message;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, delay);
    this.options.onRetry?.(this.lastError, delay);
    this.options.onChange?.();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const drained = !this.sending && this.pending.length === 0 && this.disk.count === 0;
    if (this.idleWaiters.length > 0 && (drained || this.retryTimer || this.stopped || !this.options.client)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Flushes what it can before `deadlineMs` (epoch ms), then keeps everything not yet
   * acknowledged on disk. A batch in flight at the deadline is kept too: if the server took
   * it after all, the replay rewrites identical points, which InfluxDB stores once.
   */
  async close(deadlineMs: number): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flush();
    if (this.options.client && !this.retryTimer) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        this.pump();
      });
    }
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.spillPending();
    this.options.client?.close();
  }
}
