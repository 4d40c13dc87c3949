/**
 * Calendar arithmetic in an IANA time zone with Intl only (no dependency). Used for
 * calendar-aligned periods (a "day" in Europe/Copenhagen is 23 or 25 hours across DST)
 * and bucket ids within a local day.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a clear error when the zone is not a valid IANA name. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new Error(`time zone "${timeZone}" is not a valid IANA name (e.g. UTC, Europe/Zurich)`);
  }
}

export interface LocalFields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock fields of an instant in a zone (milliseconds dropped). */
export function localFields(epochMs: number, timeZone: string): LocalFields {
  if (timeZone === 'UTC') {
    const d = new Date(epochMs);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const out: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  return {
    year: out.year,
    month: out.month,
    day: out.day,
    hour: out.hour,
    minute: out.minute,
    second: out.second,
  };
}

/** Offset of the zone from UTC at an instant, in ms (Europe/Zurich in summer: +7,200,000). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const f = localFields(epochMs, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The instant of a local wall-clock time. In a DST gap the time is moved forward by the
 * gap; in an overlap the first (earlier) instant is taken.
 */
export function localToEpochMs(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
  timeZone = 'UTC',
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (timeZone === 'UTC') return asUtc;
  const before = zoneOffsetMs(asUtc - 86_400_000, timeZone);
  const after = zoneOffsetMs(asUtc + 86_400_000, timeZone);
  const candidates = [asUtc - before, asUtc - after].filter((t) => t + zoneOffsetMs(t, timeZone) === asUtc);
  if (candidates.length > 0) return Math.min(...candidates);
  return asUtc - before; // in a gap: the wall clock jumped forward, so move the time forward with it
}

/** Start (inclusive) and end (exclusive) of the local calendar day that holds an instant. */
export function localDayBounds(epochMs: number, timeZone: string): { start: number; end: number } {
  const f = localFields(epochMs, timeZone);
  const start = localToEpochMs(f.year, f.month, f.day, 0, 0, 0, 0, timeZone);
  const next = new Date(Date.UTC(f.year, f.month - 1, f.day + 1));
  const end = localToEpochMs(
    next.getUTCFullYear(),
    next.getUTCMonth() + 1,
    next.getUTCDate(),
    0,
    0,
    0,
    0,
    timeZone,
  );
  return { start, end };
}

/** "YYYY-MM-DD" of the local day that holds an instant. */
export function localDate(epochMs: number, timeZone: string): string {
  const f = localFields(epochMs, timeZone);
  return `${f.year}-${String(f.month).padStart(2, '0')}-${String(f.day).padStart(2, '0')}`;
}
