/**
 * Store-and-forward buffer on disk: one file per batch in a directory of the node's own
 * (docs/adr/0023, 0024). A file is written to a temp name and renamed, so a kill mid-write
 * leaves either the whole batch or nothing (temp files are removed at open). Oldest first;
 * bounded in bytes, the oldest batches dropped (and counted) when a new one would not fit;
 * a batch is removed only after the server acknowledged it. Synchronous fs calls: a batch
 * is one small file, and "written" must mean written before we tell anyone.
 *
 * File: `<seq, 16 digits>-<points>.lpq`, content: one JSON header line (the write target),
 * then the line-protocol body.
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export interface QueuedBatch {
  seq: number;
  points: number;
  bytes: number;
  file: string;
}

export interface StoredBatch<Meta> {
  meta: Meta;
  body: Buffer;
}

const NAME = /^(\d{16})-(\d+)\.lpq$/;

export class DiskQueue<Meta = unknown> {
  private readonly entries: QueuedBatch[] = [];
  private head = 0;
  /** Fresh queues start in the middle, so `prepend` has room below. */
  private nextSeq = 1_000_000_000;
  private totalBytes = 0;
  private totalPoints = 0;
  /** Points dropped because the buffer was full, since this queue was opened. */
  droppedPoints = 0;
  droppedBatches = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    const found: QueuedBatch[] = [];
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      const file = join(dir, name);
      if (!m) {
        if (name.endsWith('.tmp')) unlinkSync(file); // a write that a kill interrupted
        continue;
      }
      found.push({ seq: Number(m[1]), points: Number(m[2]), bytes: statSync(file).size, file });
    }
    found.sort((a, b) => a.seq - b.seq);
    for (const entry of found) this.track(entry);
    if (found.length > 0) this.nextSeq = found[found.length - 1].seq + 1;
  }

  get count(): number {
    return this.entries.length - this.head;
  }
  get bytes(): number {
    return this.totalBytes;
  }
  get points(): number {
    return this.totalPoints;
  }

  /** Stores a batch after every other; drops the oldest while over the bound. Returns points dropped. */
  append(meta: Meta, body: string | Buffer, points: number): number {
    const entry = this.write(this.nextSeq++, meta, body, points);
    this.track(entry);
    return this.enforceBound();
  }

  /** Stores a batch before every other (one that was taken from memory and failed). */
  prepend(meta: Meta, body: string | Buffer, points: number): number {
    const oldest = this.oldest();
    if (!oldest || oldest.seq <= 1) return this.append(meta, body, points);
    const entry = this.write(oldest.seq - 1, meta, body, points);
    if (this.head > 0) this.entries[--this.head] = entry;
    else this.entries.unshift(entry);
    this.totalBytes += entry.bytes;
    this.totalPoints += entry.points;
    return this.enforceBound();
  }

  private write(seq: number, meta: Meta, body: string | Buffer, points: number): QueuedBatch {
    const file = join(this.dir, `${String(seq).padStart(16, '0')}-${points}.lpq`);
    const header = Buffer.from(JSON.stringify(meta) + '\n');
    const content = Buffer.concat([header, typeof body === 'string' ? Buffer.from(body) : body]);
    const temp = file + '.tmp';
    writeFileSync(temp, content);
    renameSync(temp, file);
    return { seq, points, bytes: content.length, file };
  }

  private enforceBound(): number {
    let dropped = 0;
    while (this.totalBytes > this.maxBytes && this.count > 1) {
      const oldest = this.entries[this.head];
      dropped += oldest.points;
      this.droppedBatches++;
      this.remove(oldest);
    }
    this.droppedPoints += dropped;
    return dropped;
  }

  oldest(): QueuedBatch | undefined {
    return this.count > 0 ? this.entries[this.head] : undefined;
  }

  read(entry: QueuedBatch): StoredBatch<Meta> {
    const content = readFileSync(entry.file);
    const newline = content.indexOf(10);
    return {
      meta: JSON.parse(content.subarray(0, newline).toString('utf8')) as Meta,
      body: content.subarray(newline + 1),
    };
  }

  /** Removes a batch (after the server acknowledged it); a batch already gone is fine. */
  remove(entry: QueuedBatch): void {
    const i = this.entries.indexOf(entry, this.head);
    if (i < 0) return;
    try {
      unlinkSync(entry.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.totalBytes -= entry.bytes;
    this.totalPoints -= entry.points;
    if (i === this.head) {
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.entries.length) {
        this.entries.splice(0, this.head);
        this.head = 0;
      }
    } else this.entries.splice(i, 1);
  }

  private track(entry: QueuedBatch): void {
    this.entries.push(entry);
    this.totalBytes += entry.bytes;
    this.totalPoints += entry.points;
  }
}
