import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskQueue } from '../../nodes/shared/disk-queue';

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
      const { meta, body } = reopened.read(e);
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
