import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskQueue } from '../../nodes/shared/disk-queue';
import { InfluxWriter } from '../../nodes/shared/influx-writer';
import { LineBuilder, type Point } from '../../nodes/core/line-protocol';
import { mountTmpfs, remountReadOnly, unmount } from '../harness/tmpfs';

describe('disk queue', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gridflow-dq-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays batches oldest first after a reopen, prepended ones before the rest', () => {
    const q = new DiskQueue<{ db: string }>(dir, 1e6);
    q.append({ db: 'a' }, 'm v=2 2\n', 1);
    q.append({ db: 'a' }, 'm v=3 3\n', 1);
    q.prepend({ db: 'b' }, 'm v=1 1\n', 1);
    const reopened = new DiskQueue<{ db: string }>(dir, 1e6);
    const seen: string[] = [];
    for (let e = reopened.oldest(); e; e = reopened.oldest()) {
      const { meta, body } = reopened.read(e)!;
      seen.push(`${meta.db}:${body.toString().trim()}`);
      reopened.remove(e);
    }
    assert.deepEqual(seen, ['b:m v=1 1', 'a:m v=2 2', 'a:m v=3 3']);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('drops the oldest batches when over the bound, and counts their points', () => {
    const body = 'x'.repeat(400);
    const q = new DiskQueue(dir, 1000);
    q.append({}, body, 10);
    q.append({}, body, 20);
    assert.equal(q.droppedPoints, 0);
    q.append({}, body, 30);
    assert.equal(q.droppedPoints, 10);
    assert.equal(q.points, 50);
    assert.equal(q.count, 2);
    assert.ok(q.bytes <= 1000);
  });

  it('deletes a half-written temp file at open instead of replaying it', () => {
    const q = new DiskQueue(dir, 1e6);
    q.append({}, 'm v=1 1\n', 1);
    writeFileSync(join(dir, '0000001000000001-5.lpq.tmp'), '{}\nm v=');
    const reopened = new DiskQueue(dir, 1e6);
    assert.equal(reopened.count, 1);
    assert.equal(reopened.points, 1);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0);
  });
});

describe('disk queue faults: nothing thrown but from append, unreadable files quarantined', () => {
  let dir: string;
  let faults: string[];
  const record = (message: string) => faults.push(message);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gridflow-dqf-'));
    faults = [];
  });
  afterEach(() => {
    unmount(join(dir, 'buf'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('quarantines a file with a corrupt header at start (renamed, not deleted) and reads the next', () => {
    writeFileSync(join(dir, '0000001000000001-2.lpq'), 'garbage without a header line');
    writeFileSync(join(dir, '0000001000000002-1.lpq'), '{"database":"gridflow"}\nm v=1 1\n');
    const q = new DiskQueue<{ database: string }>(dir, 1e6, record);
    assert.equal(q.count, 2);
    const first = q.oldest()!;
    assert.equal(q.read(first), undefined);
    assert.equal(q.quarantinedPoints, 2);
    assert.equal(q.lastFaultCode, 'corrupt file');
    assert.match(
      faults[0],
      /0000001000000001-2\.lpq is unreadable \(no valid header\): 2 point\(s\) quarantined/,
    );
    const second = q.oldest()!;
    assert.deepEqual(q.read(second)!.meta, { database: 'gridflow' });
    assert.deepEqual(readdirSync(dir).sort(), ['0000001000000001-2.lpq.corrupt', '0000001000000002-1.lpq']);
    assert.equal(q.points, 1);
  });

  it('quarantines a truncated file: fewer lines than its name says', () => {
    writeFileSync(join(dir, '0000001000000001-3.lpq'), '{}\nm v=1 1\nm v=2 2\nm v=');
    writeFileSync(join(dir, '0000001000000002-1.lpq'), '{"database":"gridflow"}');
    const q = new DiskQueue(dir, 1e6, record);
    assert.equal(q.read(q.oldest()!), undefined);
    assert.equal(q.read(q.oldest()!), undefined);
    assert.equal(q.count, 0);
    assert.equal(q.quarantinedPoints, 4);
    assert.match(faults[0], /truncated \(2 of 3 lines\)/);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.corrupt')).length, 2);
  });

  it('opens without throwing when its directory is a file, and says why', () => {
    const file = join(dir, 'buf');
    writeFileSync(file, 'not a directory');
    const q = new DiskQueue(file, 1e6, record);
    assert.equal(q.count, 0);
    assert.match(q.lastFault, /cannot open the buffer .*buf: (EEXIST|ENOTDIR)/);
    assert.throws(() => q.append({}, 'm v=1 1\n', 1), /EEXIST|ENOTDIR/);
    assert.equal(q.count, 0);
  });

  it('throws ENOSPC from append on a full disk, leaves no temp file, keeps its counts, and stores again once there is room', () => {
    const buf = join(dir, 'buf');
    mountTmpfs(buf, '64k');
    const q = new DiskQueue(buf, 1e9, record);
    const body = 'm v=1 1\n'.repeat(1000); // 8 kB
    let stored = 0;
    assert.throws(() => {
      for (;;) {
        q.append({}, body, 1000);
        stored++;
      }
    }, /ENOSPC/);
    assert.ok(stored >= 3 && stored <= 8, `stored ${stored}`);
    assert.equal(q.count, stored);
    assert.equal(q.points, stored * 1000);
    assert.equal(q.lastFaultCode, 'ENOSPC');
    assert.deepEqual(
      readdirSync(buf).filter((f) => f.endsWith('.tmp')),
      [],
    );
    q.remove(q.oldest()!);
    q.remove(q.oldest()!);
    q.append({}, body, 1000);
    assert.equal(q.lastFault, '');
    assert.equal(q.count, stored - 1);
  });

  it('forgets a sent batch whose file a read-only disk will not let go, without throwing', () => {
    const buf = join(dir, 'buf');
    mountTmpfs(buf, '64k');
    const q = new DiskQueue(buf, 1e9, record);
    q.append({}, 'm v=1 1\n', 1);
    q.append({}, 'm v=2 2\n', 1);
    remountReadOnly(buf);
    q.remove(q.oldest()!);
    assert.equal(q.count, 1);
    assert.equal(q.lastFaultCode, 'EROFS');
    assert.throws(() => q.append({}, 'm v=3 3\n', 1), /EROFS/);
    assert.equal(q.read(q.oldest()!)!.body.toString(), 'm v=2 2\n');
  });
});

describe('influx writer when the disk refuses every batch', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gridflow-dqw-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps batches in memory up to its bound, drops the oldest beyond it, counts and reports them', async () => {
    const notADirectory = join(dir, 'buf');
    writeFileSync(notADirectory, 'a file where the buffer directory should be');
    const faults: string[] = [];
    const dropped: number[] = [];
    const writer = new InfluxWriter({
      client: undefined, // no server: every batch is meant for the disk
      precision: 'ms',
      batchSize: 100,
      flushMs: 60_000,
      bufferDir: notADirectory,
      bufferBytes: 1e6,
      memoryBytes: 3000, // room for two batches of 100 lines of 11-12 bytes
      onDiskFault: (m) => faults.push(m),
      onDropped: (n) => dropped.push(n),
    });
    for (let i = 0; i < 1000; i++) writer.add('', {}, `m v=${i} ${i}`);
    assert.equal(writer.overflowPoints, 200);
    assert.equal(writer.unacknowledgedPoints, 200);
    assert.equal(writer.droppedPoints, 800);
    assert.equal(
      dropped.reduce((a, b) => a + b, 0),
      800,
    );
    assert.match(writer.diskFaultCode, /EEXIST|ENOTDIR/);
    assert.match(faults.join('\n'), /cannot (open the buffer|store a batch in) .*buf: (EEXIST|ENOTDIR)/);
    await writer.close(Date.now());
    assert.equal(writer.droppedPoints, 1000);
    assert.match(faults.at(-1)!, /closing: 200 point\(s\) could not be stored on disk/);
  });
});

describe('influx writer batch bytes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gridflow-dqb-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds exactly the lines LineBuilder.line gives, UTF-8, with nothing left of a refused point', async () => {
    const points: Point[] = [
      { measurement: 'm', tags: { site: 'Zürich ⚡ 𝄞' }, fields: { v: 1.5 }, timestamp: 1_700_000_000_000 },
      { measurement: 'm', tags: { site: 'half-way' }, fields: { ok: 1, bad: NaN }, timestamp: 1 },
      { measurement: 'm w', fields: { s: 'quote " and \\' }, timestamp: 1_700_000_000_123 },
      { measurement: 'm', tags: { site: 'late' }, fields: { v: 2 }, timestamp: 'yesterday' },
      { measurement: 'm', fields: { v: 3, n: { int: 7 } }, timestamp: 5 },
    ];
    const writer = new InfluxWriter({
      client: undefined, // every closed batch goes to disk, where we read it back
      precision: 'ms',
      batchSize: 2,
      flushMs: 60_000,
      bufferDir: dir,
      bufferBytes: 1e6,
    });
    const builder = new LineBuilder('ms');
    const reasons = points.map((p) => writer.addWith('', {}, (sink) => builder.write(p, undefined, 0, sink)));
    writer.flush();
    const expected = points.map((p) => builder.line(p, undefined, 0));
    assert.deepEqual(
      reasons,
      expected.map((r) => (r.ok ? undefined : r.reason)),
    );
    const queue = new DiskQueue<object>(dir, 1e6);
    let body = '';
    for (let e = queue.oldest(); e; e = queue.oldest()) {
      body += queue.read(e)!.body.toString('utf8');
      queue.remove(e);
    }
    const lines = expected.flatMap((r) => (r.ok ? [r.line + '\n'] : []));
    assert.equal(body, lines.join(''));
    assert.equal(lines.length, 3);
    await writer.close(Date.now());
  });
});
