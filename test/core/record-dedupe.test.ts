import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RecordDedupe, extractRecords, recordTimeMs, valueAtPath } from '../../nodes/core/record-dedupe';

const minute = (i: number) => new Date(Date.UTC(2024, 6, 5, 12, i)).toISOString().slice(0, 19); // zone-less
const recordsAt = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_x, k) => ({ Minutes1UTC: minute(to - k), v: to - k })); // newest first

describe('RecordDedupe', () => {
  const timeOf = (r: { Minutes1UTC: string }) => recordTimeMs(r.Minutes1UTC);

  it('emits each minute once across overlapping now-PT10M polls, oldest first', () => {
    const dedupe = new RecordDedupe();
    const first = dedupe.take('eds', recordsAt(0, 9), timeOf);
    assert.deepEqual(
      first.fresh.map((f) => f.record.v),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const second = dedupe.take('eds', recordsAt(1, 10), timeOf);
    assert.deepEqual(
      second.fresh.map((f) => f.record.v),
      [10],
    );
    assert.equal(second.seen, 9);
    assert.equal(dedupe.take('eds', recordsAt(1, 10), timeOf).fresh.length, 0);
  });

  it('keeps a separate mark per target', () => {
    const dedupe = new RecordDedupe();
    dedupe.take('a', recordsAt(0, 5), timeOf);
    assert.equal(dedupe.take('b', recordsAt(0, 5), timeOf).fresh.length, 6);
  });

  it('keeps the marks of at most maxKeys targets, forgetting the one idle the longest (also from a saved state)', () => {
    const dedupe = new RecordDedupe(undefined, 2);
    dedupe.take('a', recordsAt(0, 5), timeOf);
    dedupe.take('b', recordsAt(0, 5), timeOf);
    dedupe.take('a', recordsAt(0, 6), timeOf); // a used last: b is the oldest
    dedupe.take('c', recordsAt(0, 5), timeOf);
    assert.deepEqual(Object.keys(dedupe.toJSON()).sort(), ['a', 'c']);
    assert.equal(dedupe.take('a', recordsAt(0, 6), timeOf).fresh.length, 0, 'a still deduplicated');
    assert.equal(dedupe.take('b', recordsAt(0, 5), timeOf).fresh.length, 6, 'b forgotten: emitted again');
    const restored = new RecordDedupe({ x: 1, y: 2, z: 3 }, 2);
    assert.deepEqual(restored.toJSON(), { y: 2, z: 3 });
  });

  it('reads zone-less times as UTC', () => {
    assert.equal(recordTimeMs('2024-07-05T13:54:00'), Date.UTC(2024, 6, 5, 13, 54));
    assert.equal(recordTimeMs('2024-07-05T15:54:00+02:00'), Date.UTC(2024, 6, 5, 13, 54));
    assert.equal(recordTimeMs(1607813700, 's'), 1607813700_000);
    assert.equal(recordTimeMs('1607813700', 's'), 1607813700_000);
    assert.equal(recordTimeMs('not a time'), undefined);
  });

  it('drops and counts records without a readable time, and emits one record per time', () => {
    const dedupe = new RecordDedupe();
    const result = dedupe.take(
      'k',
      [{ Minutes1UTC: minute(1) }, { Minutes1UTC: 'garbage' }, { Minutes1UTC: minute(1) }],
      timeOf,
    );
    assert.equal(result.fresh.length, 1);
    assert.equal(result.untimed, 1);
    assert.equal(result.seen, 1);
  });

  it('drops records stamped beyond the future bound without moving the mark', () => {
    const dedupe = new RecordDedupe();
    const now = Date.UTC(2024, 6, 5, 12, 5);
    const records = [{ Minutes1UTC: '2099-01-01T00:00:00', v: 99 }, ...recordsAt(0, 4)];
    const first = dedupe.take('eds', records, timeOf, now + 300_000);
    assert.equal(first.future, 1);
    assert.deepEqual(
      first.fresh.map((f) => f.record.v),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      dedupe.take('eds', recordsAt(3, 6), timeOf, now + 300_000).fresh.map((f) => f.record.v),
      [5, 6],
      'later records still go out',
    );
  });

  it('survives a restart through toJSON', () => {
    const dedupe = new RecordDedupe();
    dedupe.take('eds', recordsAt(0, 4), timeOf);
    const restored = new RecordDedupe(JSON.parse(JSON.stringify(dedupe.toJSON())));
    assert.deepEqual(
      restored.take('eds', recordsAt(2, 6), timeOf).fresh.map((f) => f.record.v),
      [5, 6],
    );
  });

  it('emits every distinct time exactly once over any sequence of overlapping windows (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 15 })), {
          maxLength: 40,
        }),
        (polls) => {
          // Polls move forward like a live API: each window ends at or after the last one.
          const dedupe = new RecordDedupe();
          const emitted: number[] = [];
          let end = 0;
          for (const [advance, length] of polls) {
            end += advance % 5;
            const from = Math.max(0, end - length + 1);
            for (const f of dedupe.take('k', recordsAt(from, end), timeOf).fresh) emitted.push(f.record.v);
          }
          const sorted = [...emitted].sort((a, b) => a - b);
          return emitted.every((v, i) => v === sorted[i]) && new Set(emitted).size === emitted.length;
        },
      ),
    );
  });
});

describe('extractRecords / valueAtPath', () => {
  it('finds the list at a path, or takes the whole body as one record', () => {
    assert.deepEqual(extractRecords({ records: [1, 2] }, 'records'), { ok: true, records: [1, 2] });
    assert.deepEqual(extractRecords({ a: 1 }, ''), { ok: true, records: [{ a: 1 }] });
    const missing = extractRecords({ other: [] }, 'records');
    assert.equal(missing.ok, false);
    assert.match(!missing.ok ? missing.reason : '', /no "records"/);
  });

  it('reads dotted and indexed paths', () => {
    assert.equal(valueAtPath({ current: { dt: 5 } }, 'current.dt'), 5);
    assert.equal(valueAtPath({ data: [{ x: 1 }, { x: 2 }] }, 'data[1].x'), 2);
    assert.equal(valueAtPath({ data: null }, 'data.x'), undefined);
  });
});
