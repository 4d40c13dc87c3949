/**
 * Store-and-forward buffer on disk: one file per batch in a directory of the node's own
 * (docs/adr/0023, 0024). A file is written to a temp name and renamed, so a kill mid-write
 * leaves either the whole batch or nothing (temp files are removed at open). Oldest first;
 * bounded in bytes, the oldest batches dropped (and counted) when a new one would not fit;
 * a batch is removed only after the server acknowledged it. Synchronous fs calls: a batch
 * is one small file, and "written" must mean written before we tell anyone.
 *
 * File: `<seq, 16 digits>-<points>.lpq`, content: one JSON header line (the write target),
 * then the line-protocol body, one line per point.
 *
 * Faults of the disk never throw out of this class except from `append`/`prepend`, whose
 * caller keeps the batch in memory instead (docs/adr/0095). An unreadable or truncated file
 * is quarantined: renamed to `<name>.corrupt` (kept for a human), its points counted.
 */
import {
  existsSync,
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
const NEWLINE = 10;

/** `ENOSPC: no space left on device, open '…'` → `ENOSPC`, for a status of 20 characters. */
export function faultCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

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
  /** Points in files that could not be read back, renamed to `*.corrupt`. */
  quarantinedPoints = 0;
  /** The last disk fault, '' when none since the last successful write; `onFault` hears each. */
  lastFault = '';
  lastFaultCode = '';

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly onFault: (message: string) => void = () => undefined,
  ) {
    let names: string[] = [];
    try {
      mkdirSync(dir, { recursive: true });
      names = readdirSync(dir);
    } catch (err) {
      this.fault(faultCode(err), `cannot open the buffer ${dir}: ${faultCode(err)}`);
    }
    const found: QueuedBatch[] = [];
    for (const name of names) {
      const m = NAME.exec(name);
      const file = join(dir, name);
      try {
        if (m) found.push({ seq: Number(m[1]), points: Number(m[2]), bytes: statSync(file).size, file });
        else if (name.endsWith('.tmp')) unlinkSync(file); // a write that a kill interrupted
      } catch (err) {
        this.fault(faultCode(err), `cannot read ${file}: ${faultCode(err)}`);
      }
    }
    found.sort((a, b) => a.seq - b.seq);
    for (const entry of found) this.track(entry);
    if (found.length > 0) this.nextSeq = found[found.length - 1].seq + 1;
  }

  private fault(code: string, message: string): void {
    this.lastFault = message;
    this.lastFaultCode = code;
    this.onFault(message);
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

  /** Throws what the disk said (ENOSPC, EROFS, …) after removing its half-written temp file. */
  private write(seq: number, meta: Meta, body: string | Buffer, points: number): QueuedBatch {
    const file = join(this.dir, `${String(seq).padStart(16, '0')}-${points}.lpq`);
    const header = Buffer.from(JSON.stringify(meta) + '\n');
    const content = Buffer.concat([header, typeof body === 'string' ? Buffer.from(body) : body]);
    const temp = file + '.tmp';
    try {
      if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true });
      writeFileSync(temp, content);
      renameSync(temp, file);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // nothing was written, or the disk refuses even this: the next open removes it
      }
      this.fault(faultCode(err), `cannot store a batch in ${this.dir}: ${faultCode(err)}`);
      throw err;
    }
    this.lastFault = '';
    this.lastFaultCode = '';
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

  /**
   * The batch, or undefined when its file cannot be read or is not whole (a corrupt header,
   * fewer lines than its name says): then the file is quarantined and no longer queued.
   */
  read(entry: QueuedBatch): StoredBatch<Meta> | undefined {
    let problem: string;
    try {
      const content = readFileSync(entry.file);
      const newline = content.indexOf(NEWLINE);
      const meta: unknown =
        newline > 0 ? JSON.parse(content.subarray(0, newline).toString('utf8')) : undefined;
      const body = content.subarray(newline + 1);
      if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) problem = 'no valid header';
      else if (countLines(body) !== entry.points)
        problem = `truncated (${countLines(body)} of ${entry.points} lines)`;
      else return { meta: meta as Meta, body };
    } catch (err) {
      problem = faultCode(err);
    }
    this.quarantine(entry, problem);
    return undefined;
  }

  /** Renames an unreadable batch out of the queue, so a human can look at it; counts its points. */
  private quarantine(entry: QueuedBatch, problem: string): void {
    let where = `${entry.file}.corrupt`;
    try {
      renameSync(entry.file, where);
    } catch (err) {
      where = `left in place, rename failed: ${faultCode(err)}`;
    }
    this.quarantinedPoints += entry.points;
    this.untrack(entry);
    this.fault(
      'corrupt file',
      `buffer file ${entry.file} is unreadable (${problem}): ${entry.points} point(s) quarantined, ${where}`,
    );
  }

  /**
   * Removes a batch (after the server acknowledged it); a batch already gone is fine. When
   * the disk refuses the unlink the batch leaves the queue anyway: a file left behind is
   * replayed at the next start, which rewrites identical points (InfluxDB keeps them once).
   */
  remove(entry: QueuedBatch): void {
    if (this.entries.indexOf(entry, this.head) < 0) return;
    try {
      unlinkSync(entry.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.fault(faultCode(err), `cannot delete a sent batch ${entry.file}: ${faultCode(err)}`);
    }
    this.untrack(entry);
  }

  private untrack(entry: QueuedBatch): void {
    const i = this.entries.indexOf(entry, this.head);
    if (i < 0) return;
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

function countLines(body: Buffer): number {
  let lines = 0;
  for (let i = body.indexOf(NEWLINE); i >= 0; i = body.indexOf(NEWLINE, i + 1)) lines++;
  return lines;
}
