/**
 * REFERENCE ONLY (tests): csv-timestamp.ts as it was before the byte parsers (2026-12-02),
 * reading text with charCodeAt. The property tests check the byte parsers and the text
 * wrappers against it.
 *
 * Timestamp columns of CSV files → epoch ms, fast enough for millions of rows:
 * - `iso`: `2022-03-01T00:00:00Z`, `2022-03-01T01:00:00+01:00`; without a zone suffix the
 *   configured zone applies;
 * - `datetime`: `YYYY-MM-DD HH:MM:SS[.fffffff]` (any number of fraction digits), local
 *   time in the configured zone (UTC by default);
 * - `epoch-s`, `epoch-ms`: numbers;
 * - `swissgrid`: `Sa. 01.05.21 00:00:30` (German weekday abbreviation, dd.mm.yy, also
 *   dd.mm.yyyy), local time in the configured zone (Europe/Zurich for Swissgrid files);
 * - `auto`: each value by its shape (epoch values below 1e11 are seconds).
 * Local wall-clock times are converted with `localToEpochMs` once per local day: on a
 * day with one UTC offset throughout (all but two a year in Europe/Zurich) a time is
 * plain arithmetic from local midnight, so Intl runs once per 2,880 rows of 30-second
 * data instead of per row; on a DST day, once per local hour (see docs/adr/0044).
 * A value that cannot be read gives NaN.
 */
import { localToEpochMs, zoneOffsetMs, assertTimeZone } from '../../../nodes/core/time-zone';

export type TimeFormat = 'auto' | 'iso' | 'datetime' | 'epoch-s' | 'epoch-ms' | 'swissgrid';
export const TIME_FORMATS: readonly TimeFormat[] = [
  'auto',
  'iso',
  'datetime',
  'epoch-s',
  'epoch-ms',
  'swissgrid',
];

const HOUR_MS = 3_600_000;
const WEEKDAYS_DE = ['So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa'];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1];
}

/**
 * Local wall-clock time in one zone → epoch ms, with the last local day (or, on a DST
 * day, the last local hour) cached. In the repeated hour after a DST fall-back, the earlier instant is taken unless
 * that would step back behind the previous value converted (data in time order goes
 * through the repeated hour twice), in which case the later instant is taken.
 */
export class LocalTimeConverter {
  private hourKey = -1;
  private hourStart = 0;
  /** Start of the second pass through a repeated (fall-back) hour, else NaN. */
  private repeatStart = NaN;
  /** The hour has a zone transition inside it (not on its start): convert per value. */
  private irregular = false;
  private last = -Infinity;

  constructor(readonly timeZone = 'UTC') {
    assertTimeZone(timeZone);
  }

  private dayKey = -1;
  /** Epoch ms of local midnight of a day with one offset throughout, else NaN. */
  private dayStart = NaN;

  /** Epoch ms of a local time; month 1–12. Fields must already be range-checked. */
  toEpochMs(
    year: number,
    month: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    ms: number,
  ): number {
    if (this.timeZone === 'UTC') return Date.UTC(year, month - 1, day, hour, minute, second, ms);
    const dayKey = (year * 13 + month) * 32 + day;
    if (dayKey !== this.dayKey) this.enterDay(dayKey, year, month, day);
    if (this.dayStart === this.dayStart) {
      // Most days have one UTC offset throughout: plain arithmetic, no Intl.
      const t = this.dayStart + hour * HOUR_MS + minute * 60_000 + second * 1000 + ms;
      this.last = t;
      return t;
    }
    const key = dayKey * 24 + hour;
    if (key !== this.hourKey) this.enterHour(key, year, month, day, hour);
    let t: number;
    if (this.irregular) {
      t = localToEpochMs(year, month, day, hour, minute, second, ms, this.timeZone);
    } else {
      const within = minute * 60_000 + second * 1000 + ms;
      t = this.hourStart + within;
      if (this.repeatStart === this.repeatStart && t < this.last) {
        const later = this.repeatStart + within;
        if (later > this.last) t = later;
      }
    }
    this.last = t;
    return t;
  }

  private enterDay(key: number, year: number, month: number, day: number): void {
    const zone = this.timeZone;
    this.dayKey = key;
    const start = localToEpochMs(year, month, day, 0, 0, 0, 0, zone);
    const next = new Date(Date.UTC(year, month - 1, day + 1));
    const end = localToEpochMs(
      next.getUTCFullYear(),
      next.getUTCMonth() + 1,
      next.getUTCDate(),
      0,
      0,
      0,
      0,
      zone,
    );
    const offset = zoneOffsetMs(start, zone);
    const regular =
      end - start === 24 * HOUR_MS &&
      zoneOffsetMs(end - 1, zone) === offset &&
      start + offset === Date.UTC(year, month - 1, day);
    this.dayStart = regular ? start : NaN;
  }

  private enterHour(key: number, year: number, month: number, day: number, hour: number): void {
    const zone = this.timeZone;
    const start = localToEpochMs(year, month, day, hour, 0, 0, 0, zone);
    const offset = zoneOffsetMs(start, zone);
    this.hourKey = key;
    this.hourStart = start;
    this.irregular = zoneOffsetMs(start + HOUR_MS - 1, zone) !== offset;
    this.repeatStart = NaN;
    const offsetAfter = zoneOffsetMs(start + HOUR_MS, zone);
    if (offsetAfter < offset) {
      const later = start + (offset - offsetAfter);
      if (later + zoneOffsetMs(later, zone) === start + offset) this.repeatStart = later;
    }
  }
}

/** Reads two ASCII digits at `i`, or -1. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function digits4(s: string, i: number): number {
  const hi = digits2(s, i);
  const lo = digits2(s, i + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

function validTime(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59
  );
}

/** `YYYY-MM-DD[T ]HH:MM[:SS[.f…]][Z|±HH[:]MM]`, or a date alone; NaN when not one. */
function parseIsoLike(s: string, local: LocalTimeConverter): number {
  const year = digits4(s, 0);
  if (year < 0 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  const month = digits2(s, 5);
  const day = digits2(s, 8);
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let i = 10;
  const n = s.length;
  if (i < n) {
    const sep = s.charCodeAt(i);
    if (sep !== 84 && sep !== 116 && sep !== 32) return NaN; // T, t, space
    hour = digits2(s, 11);
    if (s.charCodeAt(13) !== 58) return NaN;
    minute = digits2(s, 14);
    i = 16;
    if (s.charCodeAt(i) === 58) {
      second = digits2(s, 17);
      i = 19;
      const dot = s.charCodeAt(i);
      if (dot === 46 || dot === 44) {
        i++;
        let scale = 100;
        let frac = 0;
        let c = s.charCodeAt(i) - 48;
        if (c < 0 || c > 9) return NaN;
        while (c >= 0 && c <= 9) {
          frac += c * scale;
          scale /= 10;
          i++;
          c = s.charCodeAt(i) - 48;
        }
        ms = Math.round(frac);
      }
    }
  }
  if (hour < 0 || minute < 0 || second < 0 || !validTime(year, month, day, hour, minute, second)) return NaN;
  if (i === n) return local.toEpochMs(year, month, day, hour, minute, second, ms);
  const z = s.charCodeAt(i);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if ((z === 90 || z === 122) && i + 1 === n) return utc; // Z
  if (z !== 43 && z !== 45) return NaN; // + -
  const oh = digits2(s, i + 1);
  const colon = s.charCodeAt(i + 3) === 58 ? 1 : 0;
  const om = digits2(s, i + 3 + colon);
  if (oh < 0 || om < 0 || i + 5 + colon !== n) return NaN;
  return utc - (z === 45 ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/** `Sa. 01.05.21 00:00:30` (or with a 4-digit year); NaN when not one, or the weekday is wrong. */
function parseSwissgrid(s: string, local: LocalTimeConverter): number {
  if (s.charCodeAt(2) !== 46 || s.charCodeAt(3) !== 32) return NaN;
  const day = digits2(s, 4);
  const month = digits2(s, 7);
  if (s.charCodeAt(6) !== 46 || s.charCodeAt(9) !== 46) return NaN;
  let year: number;
  let i: number;
  if (s.charCodeAt(12) === 32) {
    const yy = digits2(s, 10);
    if (yy < 0) return NaN;
    year = yy < 70 ? 2000 + yy : 1900 + yy;
    i = 13;
  } else {
    year = digits4(s, 10);
    if (year < 0 || s.charCodeAt(14) !== 32) return NaN;
    i = 15;
  }
  const hour = digits2(s, i);
  const minute = digits2(s, i + 3);
  if (s.charCodeAt(i + 2) !== 58) return NaN;
  let second = 0;
  let end = i + 5;
  if (s.charCodeAt(end) === 58) {
    second = digits2(s, end + 1);
    end += 3;
  }
  if (end !== s.length || hour < 0 || minute < 0 || second < 0) return NaN;
  if (!validTime(year, month, day, hour, minute, second)) return NaN;
  if (!weekdayMatches(s, year, month, day)) return NaN;
  return local.toEpochMs(year, month, day, hour, minute, second, 0);
}

let weekdayKey = -1;
let weekdayText = '';
function weekdayMatches(s: string, year: number, month: number, day: number): boolean {
  const key = (year * 13 + month) * 32 + day;
  if (key !== weekdayKey) {
    weekdayKey = key;
    weekdayText = WEEKDAYS_DE[new Date(Date.UTC(year, month - 1, day)).getUTCDay()];
  }
  return s.charCodeAt(0) === weekdayText.charCodeAt(0) && s.charCodeAt(1) === weekdayText.charCodeAt(1);
}

function parseEpoch(s: string, scale: number): number {
  if (s === '' || s.trim() === '') return NaN;
  const n = +s;
  return Number.isFinite(n) ? Math.round(n * scale) : NaN;
}

/** Looks at one value and says which format it has, or undefined. */
export function detectTimeFormat(text: string): Exclude<TimeFormat, 'auto'> | undefined {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.abs(Number(s)) < 1e11 ? 'epoch-s' : 'epoch-ms';
  if (/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?$/.test(s)) return 'datetime';
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.test(s)) return 'iso';
  if (/^[A-Za-z]{2}\. \d{2}\.\d{2}\.(\d{2}|\d{4}) \d{2}:\d{2}(:\d{2})?$/.test(s)) return 'swissgrid';
  return undefined;
}

/** A parser for one timestamp column: text → epoch ms (NaN when unreadable). */
export type TimeParser = (text: string) => number;

export function compileTimeParser(format: TimeFormat = 'auto', timeZone = 'UTC'): TimeParser {
  if (!TIME_FORMATS.includes(format)) {
    throw new Error(`time format "${String(format)}" is not one of ${TIME_FORMATS.join(', ')}`);
  }
  const local = new LocalTimeConverter(timeZone);
  switch (format) {
    case 'iso':
    case 'datetime':
      return (s) => parseIsoLike(s, local);
    case 'swissgrid':
      return (s) => parseSwissgrid(s, local);
    case 'epoch-s':
      return (s) => parseEpoch(s, 1000);
    case 'epoch-ms':
      return (s) => parseEpoch(s, 1);
    default:
      return (s) => {
        const c = s.charCodeAt(0);
        if (c >= 48 && c <= 57 && s.charCodeAt(4) === 45) return parseIsoLike(s, local);
        if ((c >= 48 && c <= 57) || c === 45) {
          const n = +s;
          if (s.trim() === '' || !Number.isFinite(n)) return NaN;
          return Math.abs(n) < 1e11 ? Math.round(n * 1000) : Math.round(n);
        }
        return parseSwissgrid(s, local);
      };
  }
}
