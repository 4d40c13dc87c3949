/**
 * The write pipeline behind influx-write: lines → batches (by size and interval, one per
 * target) → one HTTP write per batch, one request in flight, oldest first. When the server
 * is unreachable or answers 5xx/429 the batches go to the disk queue and are retried with
 * capped exponential backoff + jitter (Retry-After honoured). Rejections (400/422) are not
 * retried. See docs/adr/0023 and 0024.
 *
 * A disk that fails (full, read-only, gone) never stops the pipeline (docs/adr/0095): a
 * batch the disk refuses waits in memory after those on disk ("overflow"), within the
 * memory bound, the oldest dropped and counted beyond it; the disk is tried again at the
 * next retry.
 */
import { DiskQueue, faultCode, type QueuedBatch } from './disk-queue';
import type { InfluxHttp, WriteOutcome, WriteTarget } from './influx-http';
import { floatText, writeDigits, writeFloat } from '../core/float-text';
import type { LineSink, Precision } from '../core/line-protocol';
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
  /** The disk buffer failed (write, read, delete, quarantine); the writer goes on. */
  onDiskFault?(message: string): void;
  onChange?(): void;
}

/**
 * A batch being filled: lines written as UTF-8 straight into a byte buffer, piece by piece
 * (LineSink). Appending to a string and encoding it at the end cost ≈ 2 µs per point
 * (flattening a rope of 10,000 pieces, then the GC scanning it); ASCII pieces are copied
 * by a loop here, cheaper than a call into Buffer.write for pieces this short. Exported for
 * the tests and bench/line-builder.bench.ts.
 */
export class OpenBatch implements LineSink {
  private bytes: Buffer;
  private length = 0;
  points = 0;

  constructor(
    readonly target: WriteTarget,
    initialBytes: number,
  ) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  text(text: string): void {
    const n = text.length;
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    if (this.length + n * 3 > this.bytes.length) this.grow(this.length + n * 3);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        at += bytes.write(text.slice(i), at);
        break;
      }
      bytes[at++] = c;
    }
    this.length = at;
  }

  digits(n: number): void {
    if (this.length + 16 > this.bytes.length) this.grow(this.length + 16);
    this.length = writeDigits(this.bytes, this.length, n);
  }

  float(n: number): void {
    if (this.length + 32 > this.bytes.length) this.grow(this.length + 32);
    const end = writeFloat(this.bytes, this.length, n);
    if (end < 0) this.text(floatText(n));
    else this.length = end;
  }

  mark(): number {
    return this.length;
  }

  rollback(mark: number): void {
    this.length = mark;
  }

  /** Ends the line just written. */
  endLine(): void {
    if (this.length + 1 > this.bytes.length) this.grow(this.length + 1);
    this.bytes[this.length++] = 0x0a;
    this.points++;
  }

  /**
   * The batch, its body exactly as long as its lines: a full buffer is handed over as it is
   * (copying ~300 kB into fresh memory cost ≈ 0.1 µs a point); a mostly empty one (a batch
   * closed by the interval) is copied, so memory held stays close to the bytes counted.
   */
  close(): Batch {
    if (this.length * 2 >= this.bytes.length)
      return { target: this.target, body: this.bytes.subarray(0, this.length), points: this.points };
    const body = Buffer.allocUnsafeSlow(this.length);
    this.bytes.copy(body, 0, 0, this.length);
    return { target: this.target, body, points: this.points };
  }

  private grow(needed: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }
}

/**
 * A closed batch: its body as bytes, off the JS heap, so batches waiting for the server
 * are not scanned by every garbage collection.
 */
interface Batch {
  target: WriteTarget;
  body: Buffer;
  points: number;
}

/** First size of a batch's byte buffer: ~100 bytes a line, at most 1 MB (it grows as needed). */
function initialBatchBytes(batchSize: number): number {
  return Math.min(batchSize * 100, 1024 * 1024);
}

export class InfluxWriter {
  private readonly open = new Map<string, OpenBatch>();
  private readonly pending: Batch[] = [];
  private pendingBytes = 0;
  /** Batches the disk refused, newer than every batch on disk. */
  private readonly overflow: Batch[] = [];
  private overflowBytes = 0;
  private inFlight: Batch | undefined;
  private memoryDroppedPoints = 0;
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
    this.disk = new DiskQueue<WriteTarget>(options.bufferDir, options.bufferBytes, (message) =>
      options.onDiskFault?.(message),
    );
    if (this.disk.count > 0) queueMicrotask(() => this.pump());
  }

  private get memoryBound(): number {
    return this.options.memoryBytes ?? 64 * 1024 * 1024;
  }

  /** Points waiting on disk. */
  get bufferedPoints(): number {
    return this.disk.points;
  }
  /** Points dropped for want of room, on disk or in memory. */
  get droppedPoints(): number {
    return this.disk.droppedPoints + this.memoryDroppedPoints;
  }
  /** Points in buffer files that could not be read back (renamed to `*.corrupt`). */
  get quarantinedPoints(): number {
    return this.disk.quarantinedPoints;
  }
  /** Points the disk refused, waiting in memory. */
  get overflowPoints(): number {
    let n = 0;
    for (const b of this.overflow) n += b.points;
    return n;
  }
  /** The last disk fault, '' once the disk took a batch again. */
  get diskFault(): string {
    return this.disk.lastFault;
  }
  /** The same, in a few characters for a status: `ENOSPC`, `corrupt file`. */
  get diskFaultCode(): string {
    return this.disk.lastFaultCode;
  }
  /** Points accepted but not yet acknowledged (open batches, memory, disk). */
  get unacknowledgedPoints(): number {
    let n = this.disk.points;
    for (const b of this.pending) n += b.points;
    for (const b of this.open.values()) n += b.points;
    return n + this.overflowPoints;
  }
  get retrying(): boolean {
    return this.retryTimer !== undefined;
  }

  /** Adds one line for `target` (key: its JSON, '' for the connection's default). */
  add(targetKey: string, target: WriteTarget, line: string): void {
    this.addWith(targetKey, target, (sink) => sink.text(line));
  }

  /**
   * Adds the line `write` puts into the batch for `target`, unless it returns a reason
   * (having left nothing there, see LineBuilder.write); returns that reason.
   */
  addWith(
    targetKey: string,
    target: WriteTarget,
    write: (sink: LineSink) => string | undefined | void,
  ): string | undefined {
    let batch = this.open.get(targetKey);
    if (!batch) {
      batch = new OpenBatch(target, initialBatchBytes(this.options.batchSize));
      this.open.set(targetKey, batch);
    }
    const reason = write(batch);
    if (typeof reason === 'string') return reason;
    batch.endLine();
    if (batch.points >= this.options.batchSize) {
      this.open.delete(targetKey);
      this.enqueue(batch.close());
    } else if (!this.flushTimer && !this.stopped) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, this.options.flushMs);
    }
    return undefined;
  }

  /** Closes every open batch now. */
  flush(): void {
    for (const batch of this.open.values()) if (batch.points > 0) this.enqueue(batch.close());
    this.open.clear();
  }

  private enqueue(batch: Batch): void {
    const size = batch.body.length;
    const toDisk =
      !this.options.client ||
      this.stopped ||
      this.retryTimer !== undefined ||
      this.disk.count > 0 ||
      this.overflow.length > 0 ||
      this.pendingBytes + size > this.memoryBound;
    if (!toDisk) {
      this.pending.push(batch);
      this.pendingBytes += size;
    } else if (this.overflow.length > 0 || !this.toDisk(batch, false)) this.toOverflow(batch);
    this.pump();
  }

  /** False when the disk refused the batch (the fault is reported by the queue). */
  private toDisk(batch: Batch, first: boolean): boolean {
    let dropped: number;
    try {
      dropped = first
        ? this.disk.prepend(batch.target, batch.body, batch.points)
        : this.disk.append(batch.target, batch.body, batch.points);
    } catch {
      this.options.onChange?.();
      return false;
    }
    if (dropped > 0) this.options.onDropped?.(dropped);
    this.options.onChange?.();
    return true;
  }

  /** Keeps a batch the disk refused in memory; beyond the bound the oldest not in flight go. */
  private toOverflow(batch: Batch): void {
    this.overflow.push(batch);
    this.overflowBytes += batch.body.length;
    let dropped = 0;
    let i = 0;
    while (this.pendingBytes + this.overflowBytes > this.memoryBound && i < this.overflow.length - 1) {
      const oldest = this.overflow[i];
      if (oldest === this.inFlight) {
        i++;
        continue;
      }
      this.overflow.splice(i, 1);
      this.overflowBytes -= oldest.body.length;
      dropped += oldest.points;
    }
    if (dropped > 0) {
      this.memoryDroppedPoints += dropped;
      this.options.onDropped?.(dropped);
    }
    this.options.onChange?.();
  }

  /** Moves what waits in memory to the front of the disk queue, keeping the order. */
  private spillPending(): void {
    while (this.pending.length > 0) {
      const last = this.pending[this.pending.length - 1];
      if (!this.toDisk(last, true)) return; // the rest stays in memory, still oldest
      this.pending.pop();
      this.pendingBytes -= last.body.length;
    }
  }

  /** Moves batches the disk refused earlier to its end, now that it may take them again. */
  private spillOverflow(): void {
    while (this.overflow.length > 0 && this.overflow[0] !== this.inFlight) {
      const first = this.overflow[0];
      if (!this.toDisk(first, false)) return;
      this.overflow.shift();
      this.overflowBytes -= first.body.length;
    }
  }

  private pump(): void {
    const client = this.options.client;
    if (this.sending || this.stopped || this.retryTimer || !client) return this.notifyIdle();
    if (this.pending.length > 0) return this.send(client, this.pending[0], 'pending');
    for (let entry = this.disk.oldest(); entry; entry = this.disk.oldest()) {
      const stored = this.disk.read(entry); // undefined: quarantined, try the next
      if (stored)
        return this.send(client, { target: stored.meta, body: stored.body, points: entry.points }, entry);
      this.options.onChange?.();
    }
    if (this.overflow.length > 0) return this.send(client, this.overflow[0], 'overflow');
    this.notifyIdle();
  }

  private send(client: InfluxHttp, batch: Batch, source: QueuedBatch | 'pending' | 'overflow'): void {
    this.sending = true;
    this.inFlight = batch;
    client
      .write(batch.target, this.options.precision, batch.body)
      .catch((err: Error): WriteOutcome => ({ kind: 'retry', message: err.message }))
      .then((outcome) => this.settle(batch, source, outcome))
      .catch((err: unknown) => {
        // A bug, not a fault of the server or the disk: say so, and keep the pipeline alive.
        this.sending = false;
        this.inFlight = undefined;
        this.lastError = `internal: ${faultCode(err)}`;
        this.options.onDiskFault?.(`write pipeline: ${err instanceof Error ? err.stack : String(err)}`);
        this.scheduleRetry({ kind: 'retry', message: this.lastError });
      });
  }

  private settle(batch: Batch, source: QueuedBatch | 'pending' | 'overflow', outcome: WriteOutcome): void {
    this.sending = false;
    this.inFlight = undefined;
    if (this.stopped) return this.notifyIdle();
    if (outcome.kind === 'retry') return this.scheduleRetry(outcome);
    this.attempt = 0;
    if (source === 'pending') {
      this.pending.shift();
      this.pendingBytes -= batch.body.length;
    } else if (source === 'overflow') {
      this.overflow.shift();
      this.overflowBytes -= batch.body.length;
    } else this.disk.remove(source);
    if (outcome.kind === 'ok') {
      this.writtenPoints += batch.points;
      this.lastError = '';
      this.options.onWritten?.(batch.points, batch.target);
    } else {
      const lines = batch.body
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      this.lastError = `${outcome.status} ${outcome.message}`;
      this.options.onRejected?.(lines, outcome.status, outcome.message, batch.target);
    }
    this.options.onChange?.();
    this.pump();
  }

  private scheduleRetry(outcome: Extract<WriteOutcome, { kind: 'retry' }>): void {
    this.spillPending();
    this.spillOverflow();
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
    const drained =
      !this.sending && this.pending.length === 0 && this.disk.count === 0 && this.overflow.length === 0;
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
    this.inFlight = undefined; // kept even if the server took it: a replay rewrites identical points
    this.spillPending();
    this.spillOverflow();
    const lost = this.pending.reduce((n, b) => n + b.points, 0) + this.overflowPoints;
    if (lost > 0) {
      // The disk refuses them and the process is going: say how many, rather than nothing.
      this.memoryDroppedPoints += lost;
      this.options.onDropped?.(lost);
      this.options.onDiskFault?.(
        `closing: ${lost} point(s) could not be stored on disk (${this.disk.lastFault})`,
      );
    }
    this.options.client?.close();
  }
}
