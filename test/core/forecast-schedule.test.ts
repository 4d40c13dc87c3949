import assert from 'node:assert/strict';
import { nextDailyLocalMs, parseClockTime } from '../../nodes/core/forecast-schedule';

describe('daily retrain schedule', () => {
  it('parses HH:MM and treats blank as no schedule', () => {
    assert.deepEqual(parseClockTime('00:15'), { hour: 0, minute: 15 });
    assert.deepEqual(parseClockTime(' 7:05 '), { hour: 7, minute: 5 });
    assert.equal(parseClockTime(''), undefined);
    assert.throws(() => parseClockTime('24:00'), /HH:MM/);
    assert.throws(() => parseClockTime('noon'), /HH:MM/);
  });

  it('finds the next 00:15 in UTC, later today or tomorrow', () => {
    const at = { hour: 0, minute: 15 };
    assert.equal(nextDailyLocalMs(Date.UTC(2024, 5, 1, 0, 10), at, 'UTC'), Date.UTC(2024, 5, 1, 0, 15));
    assert.equal(nextDailyLocalMs(Date.UTC(2024, 5, 1, 0, 15), at, 'UTC'), Date.UTC(2024, 5, 2, 0, 15));
  });

  it('follows local time across a DST change in Europe/Copenhagen', () => {
    const at = { hour: 0, minute: 15 };
    // 00:15 CET (UTC+1) on 30 March 2024, then 00:15 CEST (UTC+2) on 31 March... DST starts 02:00 on the 31st.
    assert.equal(
      nextDailyLocalMs(Date.UTC(2024, 2, 29, 23, 30), at, 'Europe/Copenhagen'),
      Date.UTC(2024, 2, 30, 23, 15),
    );
    assert.equal(
      nextDailyLocalMs(Date.UTC(2024, 2, 31, 12), at, 'Europe/Copenhagen'),
      Date.UTC(2024, 3, 1, 22, 15) - 24 * 3_600_000,
    );
  });
});
