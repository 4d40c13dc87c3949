/**
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
import { localToEpochMs, zoneOffsetMs, assertTimeZone } from './time-zone';

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
    const dayKey = (year * 13 + month) * 32 + day;
    if (this.timeZone === 'UTC') {
      if (dayKey !== this.dayKey) {
        this.dayKey = dayKey;
        this.dayStart = Date.UTC(year, month - 1, day);
      }
      return this.dayStart + hour * HOUR_MS + minute * 60_000 + second * 1000 + ms;
    }
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

/** Reads two ASCII digits at `i`, or -1 (also past `end`). */
function digits2(b: Uint8Array, i: number, end: number): number {
  if (i + 2 > end) return -1;
  const x = b[i] - 48;
  const y = b[i + 1] - 48;
  if (x < 0 || x > 9 || y < 0 || y > 9) return -1;
  return x * 10 + y;
}

function digits4(b: Uint8Array, i: number, end: number): number {
  const hi = digits2(b, i, end);
  const lo = digits2(b, i + 2, end);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

/** The byte at `i`, or -1 past `end` (as `charCodeAt` gives NaN past the string). */
function at(b: Uint8Array, i: number, end: number): number {
  return i < end ? b[i] : -1;
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

/** `YYYY-MM-DD[T ]HH:MM[:SS[.f…]][Z|±HH[:]MM]`, or a date alone, in bytes [s, end); NaN when not one. */
function parseIsoLike(b: Uint8Array, s: number, end: number, local: LocalTimeConverter): number {
  const year = digits4(b, s, end);
  if (year < 0 || at(b, s + 4, end) !== 45 || at(b, s + 7, end) !== 45) return NaN;
  const month = digits2(b, s + 5, end);
  const day = digits2(b, s + 8, end);
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let i = s + 10;
  if (i < end) {
    const sep = b[i];
    if (sep !== 84 && sep !== 116 && sep !== 32) return NaN; // T, t, space
    hour = digits2(b, s + 11, end);
    if (at(b, s + 13, end) !== 58) return NaN;
    minute = digits2(b, s + 14, end);
    i = s + 16;
    if (at(b, i, end) === 58) {
      second = digits2(b, s + 17, end);
      i = s + 19;
      const dot = at(b, i, end);
      if (dot === 46 || dot === 44) {
        i++;
        let scale = 100;
        let frac = 0;
        let c = at(b, i, end) - 48;
        // A separator with no digits after it ends the text as before: read as .000.
        if (i < end && (c < 0 || c > 9)) return NaN;
        while (c >= 0 && c <= 9) {
          frac += c * scale;
          scale /= 10;
          i++;
          c = at(b, i, end) - 48;
        }
        ms = Math.round(frac);
      }
    }
  }
  if (hour < 0 || minute < 0 || second < 0 || !validTime(year, month, day, hour, minute, second)) return NaN;
  if (i === end) return local.toEpochMs(year, month, day, hour, minute, second, ms);
  const z = at(b, i, end);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if ((z === 90 || z === 122) && i + 1 === end) return utc; // Z
  if (z !== 43 && z !== 45) return NaN; // + -
  const oh = digits2(b, i + 1, end);
  const colon = at(b, i + 3, end) === 58 ? 1 : 0;
  const om = digits2(b, i + 3 + colon, end);
  if (oh < 0 || om < 0 || i + 5 + colon !== end) return NaN;
  return utc - (z === 45 ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/** `Sa. 01.05.21 00:00:30` (or with a 4-digit year) in bytes [s, end); NaN when not one, or the weekday is wrong. */
function parseSwissgrid(b: Uint8Array, s: number, end: number, local: LocalTimeConverter): number {
  if (at(b, s + 2, end) !== 46 || at(b, s + 3, end) !== 32) return NaN;
  const day = digits2(b, s + 4, end);
  const month = digits2(b, s + 7, end);
  if (at(b, s + 6, end) !== 46 || at(b, s + 9, end) !== 46) return NaN;
  let year: number;
  let i: number;
  if (at(b, s + 12, end) === 32) {
    const yy = digits2(b, s + 10, end);
    if (yy < 0) return NaN;
    year = yy < 70 ? 2000 + yy : 1900 + yy;
    i = s + 13;
  } else {
    year = digits4(b, s + 10, end);
    if (year < 0 || at(b, s + 14, end) !== 32) return NaN;
    i = s + 15;
  }
  const hour = digits2(b, i, end);
  const minute = digits2(b, i + 3, end);
  if (at(b, i + 2, end) !== 58) return NaN;
  let second = 0;
  let stop = i + 5;
  if (at(b, stop, end) === 58) {
    second = digits2(b, stop + 1, end);
    stop += 3;
  }
  if (stop !== end || hour < 0 || minute < 0 || second < 0) return NaN;
  if (!validTime(year, month, day, hour, minute, second)) return NaN;
  if (!weekdayMatches(b[s], b[s + 1], year, month, day)) return NaN;
  return local.toEpochMs(year, month, day, hour, minute, second, 0);
}

let weekdayKey = -1;
let weekdayText = '';
function weekdayMatches(first: number, second: number, year: number, month: number, day: number): boolean {
  const key = (year * 13 + month) * 32 + day;
  if (key !== weekdayKey) {
    weekdayKey = key;
    weekdayText = WEEKDAYS_DE[new Date(Date.UTC(year, month - 1, day)).getUTCDay()];
  }
  return first === weekdayText.charCodeAt(0) && second === weekdayText.charCodeAt(1);
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
/**
 * The same on the UTF-8 bytes [start, end) of a field, without making a string; NaN
 * when unreadable (a caller may then try the text parser, which reads the same).
 */
export type ByteTimeParser = (bytes: Uint8Array, start: number, end: number) => number;

type ByteParse = (b: Uint8Array, s: number, end: number, local: LocalTimeConverter) => number;

let scratch = new Uint8Array(64);
/** Runs a byte parser on a string's characters; a non-ASCII character fails every format. */
function onText(parse: ByteParse, text: string, local: LocalTimeConverter): number {
  const n = text.length;
  if (n > scratch.length) scratch = new Uint8Array(n);
  const b = scratch;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return NaN;
    b[i] = c;
  }
  return parse(b, 0, n, local);
}

export function compileTimeParser(format: TimeFormat = 'auto', timeZone = 'UTC'): TimeParser {
  return compileTimeParsers(format, timeZone).text;
}

/**
 * A text parser and, for the formats read byte by byte (iso, datetime, swissgrid), a byte
 * parser sharing its state (the local-time cache and the repeated-hour order).
 */
export function compileTimeParsers(
  format: TimeFormat = 'auto',
  timeZone = 'UTC',
): { text: TimeParser; bytes?: ByteTimeParser } {
  if (!TIME_FORMATS.includes(format)) {
    throw new Error(`time format "${String(format)}" is not one of ${TIME_FORMATS.join(', ')}`);
  }
  const local = new LocalTimeConverter(timeZone);
  switch (format) {
    case 'iso':
    case 'datetime':
      return {
        text: (s) => onText(parseIsoLike, s, local),
        bytes: (b, start, end) => parseIsoLike(b, start, end, local),
      };
    case 'swissgrid':
      return {
        text: (s) => onText(parseSwissgrid, s, local),
        bytes: (b, start, end) => parseSwissgrid(b, start, end, local),
      };
    case 'epoch-s':
      return { text: (s) => parseEpoch(s, 1000) };
    case 'epoch-ms':
      return { text: (s) => parseEpoch(s, 1) };
    default:
      return {
        text: (s) => {
          const c = s.charCodeAt(0);
          if (c >= 48 && c <= 57 && s.charCodeAt(4) === 45) return onText(parseIsoLike, s, local);
          if ((c >= 48 && c <= 57) || c === 45) {
            const n = +s;
            if (s.trim() === '' || !Number.isFinite(n)) return NaN;
            return Math.abs(n) < 1e11 ? Math.round(n * 1000) : Math.round(n);
          }
          return onText(parseSwissgrid, s, local);
        },
      };
  }
}
