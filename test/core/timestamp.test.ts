import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoUtc, parseIsoTime, toEpochMs } from '../../nodes/core/timestamp';
import {
  localDayBounds,
  localDate,
  localFields,
  localToEpochMs,
  zoneOffsetMs,
  assertTimeZone,
} from '../../nodes/core/time-zone';

describe('core: timestamps', () => {
  it('reads zone-less ISO and SQL-style times as UTC, with 7-digit fractions', () => {
    assert.equal(toEpochMs('2024-07-05T12:01:00'), Date.UTC(2024, 6, 5, 12, 1));
    assert.equal(toEpochMs('2019-11-25 05:54:08.8640000'), Date.UTC(2019, 10, 25, 5, 54, 8, 864));
    assert.equal(toEpochMs('2021-05-01T02:00:00+02:00'), Date.UTC(2021, 4, 1, 0));
    assert.equal(toEpochMs('2021-05-01T00:00:00Z'), Date.UTC(2021, 4, 1));
  });

  it('accepts epoch ms numbers, numeric strings and Dates; rejects the rest', () => {
    assert.equal(toEpochMs(1700000000000), 1700000000000);
    assert.equal(toEpochMs('1700000000000'), 1700000000000);
    assert.equal(toEpochMs(new Date(5)), 5);
    for (const bad of [
      NaN,
      Infinity,
      'yesterday',
      '2021-02-30T00:00:00',
      '2021-13-01',
      {},
      null,
      undefined,
      new Date('x'),
    ]) {
      assert.equal(toEpochMs(bad), undefined, String(bad));
    }
  });

  it('round-trips any instant through ISO text', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -2e12, max: 4e12 }),
        (t) => parseIsoTime(isoUtc(t)) === t && toEpochMs(isoUtc(t)) === t,
      ),
    );
  });
});

describe('core: time zones', () => {
  it('gives 23- and 25-hour local days across DST in Europe/Zurich', () => {
    const spring = localDayBounds(Date.UTC(2021, 2, 28, 12), 'Europe/Zurich');
    assert.equal((spring.end - spring.start) / 3_600_000, 23);
    assert.equal(spring.start, Date.UTC(2021, 2, 27, 23));
    const autumn = localDayBounds(Date.UTC(2021, 9, 31, 12), 'Europe/Zurich');
    assert.equal((autumn.end - autumn.start) / 3_600_000, 25);
  });

  it('inverts localFields for every hour of a year, resolving gaps forward and overlaps to the first', () => {
    for (let t = Date.UTC(2021, 0, 1); t < Date.UTC(2022, 0, 1); t += 3_600_000) {
      const f = localFields(t, 'Europe/Zurich');
      const back = localToEpochMs(f.year, f.month, f.day, f.hour, f.minute, f.second, 0, 'Europe/Zurich');
      const repeated = t === Date.UTC(2021, 9, 31, 1); // 02:00 local happens twice; first is 00:00Z
      assert.equal(back, repeated ? t - 3_600_000 : t, new Date(t).toISOString());
    }
    assert.equal(localToEpochMs(2021, 3, 28, 2, 30, 0, 0, 'Europe/Zurich'), Date.UTC(2021, 2, 28, 1, 30));
  });

  it('reports offsets, local dates and invalid zones', () => {
    assert.equal(zoneOffsetMs(Date.UTC(2021, 6, 1), 'Europe/Zurich'), 7_200_000);
    assert.equal(zoneOffsetMs(Date.UTC(2021, 0, 1), 'UTC'), 0);
    assert.equal(localDate(Date.UTC(2021, 4, 31, 22, 30), 'Europe/Zurich'), '2021-06-01');
    assert.throws(() => assertTimeZone('Mars/Olympus'), /not a valid IANA name/);
  });
});
