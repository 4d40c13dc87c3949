/**
 * `GET /api/series/:series?start=&end=&resolution=`: request validation and the InfluxQL
 * for it. User input never becomes query text: the series name and both times travel as
 * InfluxDB bound parameters (`params`), and the only interpolated pieces are the
 * resolution (after it matched a strict pattern) and identifiers from the node's own
 * configuration (checked and quoted). See docs/adr/0060 and 0061.
 */
import { parseIsoTime } from './timestamp';

/** A query for InfluxDB 1.x `/query`: text with `$name` placeholders plus the bound values. */
export interface BoundQuery {
  query: string;
  params: Record<string, string | number>;
}

export interface Resolution {
  /** As InfluxQL writes a duration: "30s", "15m", "1h", "1d". */
  text: string;
  ms: number;
}

export interface SeriesQueryOptions {
  /** A request whose range would give more buckets than this gets a 400 [10,000]. */
  maxPoints?: number;
  measurement?: string;
  field?: string;
  /** Tag that names the series. */
  tag?: string;
}

export interface SeriesQueryPlan {
  ok: true;
  series: string;
  startMs: number;
  endMs: number;
  resolution: Resolution;
  /** Upper bound of the rows the query returns (buckets touched by [start, end]). */
  points: number;
  /** Mean per bucket, buckets aligned to the epoch (UTC), empty buckets left out. */
  data: BoundQuery;
  /** Returns one row when the series exists. */
  exists: BoundQuery;
}

export interface SeriesQueryError {
  ok: false;
  status: 400 | 404;
  error: string;
  /** The point limit, on a 400 for a too-large range. */
  limit?: number;
}

/** What series-response needs to know about the request; travels as msg.seriesQuery. */
export interface SeriesQueryInfo {
  series: string;
  tag: string;
  start: string;
  end: string;
  resolution: string;
  points: number;
}

export const RESOLUTION_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const MIN_RESOLUTION_MS = 1000;
export const MAX_RESOLUTION_MS = 86_400_000;
export const DEFAULT_MAX_POINTS = 10_000;
/** Series names the API accepts: what a file name without `.csv` usually is. */
export const SERIES_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** InfluxDB 1.x stores int64 nanoseconds: 1677-09-21 … 2262-04-11. */
const MIN_TIME_MS = -9_223_372_036_854;
const MAX_TIME_MS = 9_223_372_036_854;

/** "30s", "15m", "1h", "1d" … between 1 s and 1 d; undefined for anything else. */
export function parseResolution(text: unknown): Resolution | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([1-9]\d{0,5})([smhd])$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * RESOLUTION_UNIT_MS[m[2] as keyof typeof RESOLUTION_UNIT_MS];
  if (ms < MIN_RESOLUTION_MS || ms > MAX_RESOLUTION_MS) return undefined;
  return { text: `${m[1]}${m[2]}`, ms };
}

/** Buckets of `resolutionMs` (aligned to the epoch) that [startMs, endMs] touches. */
export function bucketCount(startMs: number, endMs: number, resolutionMs: number): number {
  return Math.floor(endMs / resolutionMs) - Math.floor(startMs / resolutionMs) + 1;
}

/** An identifier from configuration, double-quoted for InfluxQL; throws when it is not plain. */
export function quoteIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`${what} "${name}" must be letters, digits and _ (starting with a letter or _)`);
  }
  return `"${name}"`;
}

/** An instant from an ISO-8601 query parameter (date, or date-time; no zone = UTC). */
export function parseRequestTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const ms = parseIsoTime(text);
  if (ms === undefined || ms < MIN_TIME_MS || ms > MAX_TIME_MS) return undefined;
  return ms;
}

function firstValue(value: unknown): unknown {
  // express turns ?start=a&start=b into an array: refuse it rather than pick one
  return Array.isArray(value) ? undefined : value;
}

const EXAMPLE = 'e.g. ?start=2021-05-01T00:00:00Z&end=2021-05-02T00:00:00Z&resolution=15m';

/**
 * Validates a request and plans its queries. `start` and `end` are both inclusive
 * (`time >= start AND time <= end`); buckets start at multiples of the resolution since
 * the epoch, so `1d` buckets are UTC days.
 */
export function planSeriesQuery(
  request: { series: unknown; start: unknown; end: unknown; resolution: unknown },
  options: SeriesQueryOptions = {},
): SeriesQueryPlan | SeriesQueryError {
  const {
    maxPoints = DEFAULT_MAX_POINTS,
    measurement = 'grid_frequency',
    field = 'hz',
    tag = 'series',
  } = options;
  const series = firstValue(request.series);
  if (typeof series !== 'string' || !SERIES_NAME.test(series)) {
    return bad('series name must be 1–128 letters, digits, "_", "." or "-" (the CSV file name without .csv)');
  }
  for (const name of ['start', 'end', 'resolution'] as const) {
    if (Array.isArray(request[name])) return bad(`${name} is given more than once`);
  }
  for (const name of ['start', 'end'] as const) {
    if (request[name] === undefined || request[name] === '') {
      return bad(`${name} is required (ISO-8601, ${EXAMPLE})`);
    }
  }
  const startMs = parseRequestTime(firstValue(request.start));
  if (startMs === undefined)
    return bad(`start "${clip(request.start)}" is not an ISO-8601 time (${EXAMPLE})`);
  const endMs = parseRequestTime(firstValue(request.end));
  if (endMs === undefined) return bad(`end "${clip(request.end)}" is not an ISO-8601 time (${EXAMPLE})`);
  if (endMs < startMs) return bad('end is before start');
  const rawResolution = firstValue(request.resolution);
  if (rawResolution === undefined || rawResolution === '') {
    return bad(
      'resolution is required: a whole number with s, m, h or d between 1s and 1d (e.g. 30s, 15m, 1h)',
    );
  }
  const resolution = parseResolution(rawResolution);
  if (!resolution) {
    return bad(
      `resolution "${clip(rawResolution)}" must be a whole number with s, m, h or d between 1s and 1d (e.g. 30s, 15m, 1h)`,
    );
  }
  const points = bucketCount(startMs, endMs, resolution.ms);
  if (points > maxPoints) {
    return {
      ok: false,
      status: 400,
      error:
        `the range at ${resolution.text} would return up to ${points} points; the limit is ${maxPoints}: ` +
        'use a coarser resolution or a shorter range',
      limit: maxPoints,
    };
  }
  const m = quoteIdentifier(measurement, 'measurement');
  const f = quoteIdentifier(field, 'field');
  const t = quoteIdentifier(tag, 'tag');
  return {
    ok: true,
    series,
    startMs,
    endMs,
    resolution,
    points,
    data: {
      query:
        `SELECT mean(${f}) AS "value" FROM ${m} WHERE ${t} = $series AND time >= $start AND time <= $end ` +
        `GROUP BY time(${resolution.text}) fill(none)`,
      params: { series, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() },
    },
    exists: seriesExistsQuery(series, { measurement, tag }),
  };
}

/** A bound query that returns one row when the series has any point. */
export function seriesExistsQuery(
  series: string,
  { measurement = 'grid_frequency', tag = 'series' } = {},
): BoundQuery {
  return {
    query: `SHOW TAG VALUES FROM ${quoteIdentifier(measurement, 'measurement')} WITH KEY = ${quoteIdentifier(tag, 'tag')} WHERE ${quoteIdentifier(tag, 'tag')} = $series`,
    params: { series },
  };
}

/** The 404 answer for a series that has no points. */
export function unknownSeries(series: string): SeriesQueryError {
  return { ok: false, status: 404, error: `series "${series}" not found` };
}

/** InfluxDB rows (`time` as epoch ms, ISO text or Date; `value` or `mean`) → `[{time, value}]`. */
export function rowsToSeriesPoints(
  rows: readonly Record<string, unknown>[],
): { time: string; value: number }[] {
  const out: { time: string; value: number }[] = [];
  for (const row of rows) {
    const raw = row.time;
    const ms =
      raw instanceof Date
        ? raw.getTime()
        : typeof raw === 'number'
          ? raw
          : typeof raw === 'string'
            ? Date.parse(raw)
            : typeof (raw as { getTime?: unknown })?.getTime === 'function'
              ? (raw as Date).getTime()
              : NaN;
    const value = row.value ?? row.mean;
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15 || typeof value !== 'number') continue; // 8.64e15: Date's limit
    out.push({ time: new Date(ms).toISOString(), value });
  }
  return out;
}

function bad(error: string): SeriesQueryError {
  return { ok: false, status: 400, error };
}

function clip(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value); // a BigInt or a cycle inside: JSON cannot say it
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
