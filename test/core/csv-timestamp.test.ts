import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { compileTimeParser, detectTimeFormat, LocalTimeConverter } from '../../nodes/core/csv-timestamp';
import { localToEpochMs } from '../../nodes/core/time-zone';

const WEEKDAYS = ['So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa'];
const pad = (n: number) => String(n).padStart(2, '0');

/** Swissgrid text of a Zurich wall-clock time, built independently of the parser. */
function swissgridText(y: number, mo: number, d: number, h: number, mi: number, s: number): string {
  const weekday = WEEKDAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()];
  return `${weekday}. ${pad(d)}.${pad(mo)}.${pad(y % 100)} ${pad(h)}:${pad(mi)}:${pad(s)}`;
}

/** Wall-clock fields of an instant in Zurich, by Intl (the reference). */
function zurichWallClock(epochMs: number): number[] {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Zurich',
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(epochMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
}

describe('csv-timestamp', () => {
  it('reads ISO, YYYY-MM-DD HH:MM:SS with 7 fraction digits, and epoch seconds and ms', () => {
    const auto = compileTimeParser('auto');
    assert.equal(auto('2022-03-01T00:00:00Z'), Date.UTC(2022, 2, 1));
    assert.equal(auto('2022-03-01T01:00:00+01:00'), Date.UTC(2022, 2, 1));
    assert.equal(auto('2022-03-01T01:00:00-0130'), Date.UTC(2022, 2, 1, 2, 30));
    assert.equal(auto('2022-03-01 00:00:00'), Date.UTC(2022, 2, 1));
    assert.equal(auto('2019-11-25 05:54:08.8640000'), Date.UTC(2019, 10, 25, 5, 54, 8, 864));
    assert.equal(auto('2022-03-01'), Date.UTC(2022, 2, 1));
    assert.equal(auto('1646092800'), Date.UTC(2022, 2, 1));
    assert.equal(auto('1646092800000'), Date.UTC(2022, 2, 1));
    assert.equal(compileTimeParser('epoch-s')('1646092800.5'), Date.UTC(2022, 2, 1) + 500);
    assert.equal(compileTimeParser('epoch-ms')('1646092800000'), Date.UTC(2022, 2, 1));
  });

  it('gives NaN for text that is not a time, or an impossible date', () => {
    const auto = compileTimeParser('auto');
    for (const bad of [
      'error',
      '',
      '2022-02-30 00:00:00',
      '2022-03-01 24:00:00',
      '2022-13-01',
      '2022-03-01x',
    ]) {
      assert.ok(Number.isNaN(auto(bad)), bad);
    }
    assert.ok(Number.isNaN(compileTimeParser('swissgrid')('Mo. 01.05.21 00:00:30')), 'wrong weekday');
  });

  it('reads zone-less times as local time in the configured zone', () => {
    const zurich = compileTimeParser('datetime', 'Europe/Zurich');
    assert.equal(zurich('2021-07-01 12:00:00'), Date.UTC(2021, 6, 1, 10));
    assert.equal(zurich('2021-01-01 12:00:00'), Date.UTC(2021, 0, 1, 11));
    assert.equal(zurich('2021-07-01T12:00:00Z'), Date.UTC(2021, 6, 1, 12), 'an explicit zone wins');
  });

  it('reads the Swissgrid format (German weekday, dd.mm.yy, Zurich time), also with a 4-digit year', () => {
    const parse = compileTimeParser('swissgrid', 'Europe/Zurich');
    assert.equal(parse('Sa. 01.05.21 00:00:30'), Date.UTC(2021, 3, 30, 22, 0, 30));
    assert.equal(parse('Sa. 01.05.2021 00:00:30'), Date.UTC(2021, 3, 30, 22, 0, 30));
    assert.equal(
      compileTimeParser('auto', 'Europe/Zurich')('So. 02.05.21 12:00:00'),
      Date.UTC(2021, 4, 2, 10),
    );
    assert.equal(detectTimeFormat('Sa. 01.05.21 00:00:30'), 'swissgrid');
    assert.equal(detectTimeFormat('2019-11-25 05:54:08.8640000'), 'datetime');
    assert.equal(detectTimeFormat('2022-03-01T00:00:00Z'), 'iso');
    assert.equal(detectTimeFormat('1646092800'), 'epoch-s');
  });

  it('steps 30 s at a time through the spring DST switch (02:00–03:00 does not exist)', () => {
    const parse = compileTimeParser('swissgrid', 'Europe/Zurich');
    // 28 March 2021: 02:00 CET → 03:00 CEST, at 01:00 UTC.
    const times: number[] = [];
    for (let t = Date.UTC(2021, 2, 28, 0, 0); t < Date.UTC(2021, 2, 28, 2, 0); t += 30_000) {
      const [y, mo, d, h, mi, s] = zurichWallClock(t);
      times.push(parse(swissgridText(y, mo, d, h, mi, s)));
    }
    assert.equal(times[0], Date.UTC(2021, 2, 28, 0, 0));
    for (let i = 1; i < times.length; i++) assert.equal(times[i] - times[i - 1], 30_000, `step ${i}`);
  });

  it('steps 30 s at a time through the autumn DST switch, where 02:00–03:00 happens twice', () => {
    const parse = compileTimeParser('swissgrid', 'Europe/Zurich');
    // 31 October 2021: 03:00 CEST → 02:00 CET, at 01:00 UTC.
    const start = Date.UTC(2021, 9, 30, 23, 0);
    const times: number[] = [];
    for (let t = start; t < Date.UTC(2021, 9, 31, 3, 0); t += 30_000) {
      const [y, mo, d, h, mi, s] = zurichWallClock(t);
      times.push(parse(swissgridText(y, mo, d, h, mi, s)));
    }
    times.forEach((t, i) => assert.equal(t, start + i * 30_000, `row ${i}`));
  });

  it('gives back the instant of random Zurich wall-clock times read in time order, across any DST switch', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2068, 11, 31) }),
        fc.integer({ min: 1, max: 30 }),
        (start, count) => {
          const converter = new LocalTimeConverter('Europe/Zurich');
          let startedInRepeatedHour = false;
          for (let i = 0; i < count; i++) {
            const t = Math.floor(start / 1000) * 1000 + i * 977_000;
            const [y, mo, d, h, mi, s] = zurichWallClock(t);
            const got = converter.toEpochMs(y, mo, d, h, mi, s, 0);
            const earliest = localToEpochMs(y, mo, d, h, mi, s, 0, 'Europe/Zurich');
            if (earliest === t) assert.equal(got, t);
            else if (i === 0 || startedInRepeatedHour) {
              // A run that starts in the second pass of a repeated hour cannot know it.
              startedInRepeatedHour = true;
              assert.equal(got, earliest);
            } else assert.equal(got, t);
          }
        },
      ),
      { numRuns: 300 },
    );
    // The same around the 2021 switches, densely.
    for (const from of [Date.UTC(2021, 2, 28, 0), Date.UTC(2021, 9, 30, 23)]) {
      const converter = new LocalTimeConverter('Europe/Zurich');
      for (let t = from; t < from + 4 * 3_600_000; t += 7_000) {
        const [y, mo, d, h, mi, s] = zurichWallClock(t);
        assert.equal(converter.toEpochMs(y, mo, d, h, mi, s, 0), t);
      }
    }
  });

  it('reads random ISO texts like Date.parse does', () => {
    const parse = compileTimeParser('iso');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 0, 1) }), (t) => {
        const text = new Date(t).toISOString();
        assert.equal(parse(text), Date.parse(text));
        assert.equal(parse(text.replace('T', ' ').replace('Z', '')), t);
      }),
      { numRuns: 500 },
    );
  });
});
