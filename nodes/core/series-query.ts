/**
 * `GET /api/series/:series?start=&end=&resolution=`: request validation and the InfluxQL
 * for it. User input never becomes query text: the series name and both times travel as
 * InfluxDB bound parameters (`params`), and the only interpolated pieces are the
 * resolution (after it matched a strict pattern) and identifiers from the node's own
 * configuration (checked and quoted). See docs/adr/0060 and 0061.
 */
import { parseIsoTime } from './timestamp';
import { quoteIdentifier, rowTimeMs } from './influxql';

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
  /** The watermark of a series still being rolled up (series-rollup); undefined = complete. */
  watermarkOf?: (series: string) => number | undefined;
  /**
   * Rollups written at ingest by series-rollup (measurement `<measurement>_<level>`); empty
   * = every answer from the raw points (docs/adr/0090).
   */
  rollups?: readonly RollupSource[];
}

/** Where one rollup level lives: `"<retentionPolicy>"."<measurement>_<level>"`. */
export interface RollupSource {
  level: string;
  ms: number;
  /** Blank: the database's default retention policy. */
  retentionPolicy?: string;
}

/** A time range [startMs, endMs) read from one source: the raw points or one rollup level. */
export interface QueryPiece {
  source: RollupSource | 'raw';
  startMs: number;
  endMs: number;
}

export interface SeriesQueryPlan {
  ok: true;
  series: string;
  startMs: number;
  endMs: number;
  resolution: Resolution;
  /** Upper bound of the rows the query returns (buckets touched by [start, end]). */
  points: number;
  /**
   * Without rollups: the mean per bucket (`value`), buckets aligned to the epoch (UTC), empty
   * buckets left out. With rollups: one statement per piece giving `sum` and `count` per
   * bucket, combined by `combineBucketRows`.
   */
  data: BoundQuery;
  /** The sources read, coarsest first (one raw piece when there are no rollups). */
  pieces: QueryPiece[];
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
  kind?: 'single';
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

/**
 * An identifier from the API's configuration, quoted; throws when it is not plain, so a
 * typo in a node's settings fails at deploy rather than as a query error per request.
 */
export function quotePlainIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`${what} "${name}" must be letters, digits and _ (starting with a letter or _)`);
  }
  return quoteIdentifier(name);
}

/** An instant from an ISO-8601 query parameter (date, or date-time; no zone = UTC). */
export function parseRequestTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const ms = parseIsoTime(text);
  if (ms === undefined || ms < MIN_TIME_MS || ms > MAX_TIME_MS) return undefined;
  return ms;
}

/** A query-string value given once; express turns ?start=a&start=b into an array, which is refused (undefined). */
export function singleParam(value: unknown): unknown {
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
  const series = singleParam(request.series);
  if (typeof series !== 'string' || !SERIES_NAME.test(series)) {
    return bad('series name must be 1–128 letters, digits, "_", "." or "-" (the CSV file name without .csv)');
  }
  const range = checkRange(request, options);
  if (!range.ok) return range;
  const { measurement = 'grid_frequency', tag = 'series' } = options;
  const data = seriesDataQuery([series], range, options, true);
  return {
    ...range,
    series,
    data: data.query,
    pieces: data.pieces,
    exists: seriesExistsQuery(series, { measurement, tag }),
  };
}

interface CheckedRange {
  ok: true;
  startMs: number;
  endMs: number;
  resolution: Resolution;
  points: number;
}

/** Validates start, end and resolution and the point limit. */
export function checkRange(
  request: { start: unknown; end: unknown; resolution: unknown },
  { maxPoints = DEFAULT_MAX_POINTS }: SeriesQueryOptions = {},
): CheckedRange | SeriesQueryError {
  for (const name of ['start', 'end', 'resolution'] as const) {
    if (Array.isArray(request[name])) return bad(`${name} is given more than once`);
  }
  for (const name of ['start', 'end'] as const) {
    if (request[name] === undefined || request[name] === '') {
      return bad(`${name} is required (ISO-8601, ${EXAMPLE})`);
    }
  }
  const startMs = parseRequestTime(singleParam(request.start));
  if (startMs === undefined)
    return bad(`start "${clip(request.start)}" is not an ISO-8601 time (${EXAMPLE})`);
  const endMs = parseRequestTime(singleParam(request.end));
  if (endMs === undefined) return bad(`end "${clip(request.end)}" is not an ISO-8601 time (${EXAMPLE})`);
  if (endMs < startMs) return bad('end is before start');
  const rawResolution = singleParam(request.resolution);
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
  return { ok: true, startMs, endMs, resolution, points };
}

/**
 * Splits [startMs, endMsExclusive) into pieces answered by the coarsest exact source: the
 * coarsest rollup whose bucket divides the resolution covers the whole buckets inside the
 * range, the partial buckets at either edge go to the next finer rollup, and so on down to
 * the raw points (less than the finest bucket at each edge). Every piece holds whole
 * buckets of its source, so Σsum/Σcount over the pieces is exactly the mean of the raw rows.
 */
export function planPieces(
  startMs: number,
  endMsExclusive: number,
  resolutionMs: number,
  rollups: readonly RollupSource[],
  /** Rollup buckets are complete only up to the series' watermark (still being ingested). */
  watermarkMs = Infinity,
): QueryPiece[] {
  const usable = rollups.filter((r) => resolutionMs % r.ms === 0).sort((a, b) => b.ms - a.ms);
  const pieces: QueryPiece[] = [];
  const split = (from: number, to: number, level: number): void => {
    if (from >= to) return;
    const source = usable[level];
    if (!source) {
      pieces.push({ source: 'raw', startMs: from, endMs: to });
      return;
    }
    const first = Math.ceil(from / source.ms) * source.ms;
    const last = Math.floor(Math.min(to, watermarkMs) / source.ms) * source.ms;
    if (first >= last) return split(from, to, level + 1);
    split(from, first, level + 1);
    pieces.push({ source, startMs: first, endMs: last });
    split(last, to, level + 1);
  };
  split(startMs, endMsExclusive, 0);
  return pieces;
}

/** `"<rp>"."<measurement>_<level>"`, or the raw measurement. */
export function pieceMeasurement(source: RollupSource | 'raw', measurement: string): string {
  if (source === 'raw') return quotePlainIdentifier(measurement, 'measurement');
  const name = quotePlainIdentifier(`${measurement}_${source.level}`, 'measurement');
  return source.retentionPolicy
    ? `${quotePlainIdentifier(source.retentionPolicy, 'retention policy')}.${name}`
    : name;
}

/**
 * The data statements for one or more series over a checked range. Series names and times
 * are bound parameters (`$series0`, `$start0`, …); only checked identifiers and the
 * resolution are in the text.
 */
export function seriesDataQuery(
  seriesNames: readonly string[],
  range: { startMs: number; endMs: number; resolution: Resolution },
  options: SeriesQueryOptions = {},
  /** One series without rollups: the plain `mean()` statement, as before rollups existed. */
  meanWhenRaw = false,
): { query: BoundQuery; pieces: QueryPiece[] } {
  const { measurement = 'grid_frequency', field = 'hz', tag = 'series', rollups = [] } = options;
  const f = quotePlainIdentifier(field, 'field');
  const t = quotePlainIdentifier(tag, 'tag');
  const group = `GROUP BY time(${range.resolution.text})${seriesNames.length > 1 ? `, ${t}` : ''} fill(none)`;
  const iso = (ms: number) => new Date(ms).toISOString();
  if (meanWhenRaw && rollups.length === 0 && seriesNames.length === 1) {
    return {
      query: {
        query:
          `SELECT mean(${f}) AS "value" FROM ${quotePlainIdentifier(measurement, 'measurement')} ` +
          `WHERE ${t} = $series AND time >= $start AND time <= $end ${group}`,
        params: { series: seriesNames[0], start: iso(range.startMs), end: iso(range.endMs) },
      },
      pieces: [{ source: 'raw', startMs: range.startMs, endMs: range.endMs + 1 }],
    };
  }
  const params: Record<string, string> = {};
  const seriesMatch = seriesNames
    .map((name, i) => {
      params[`series${i}`] = name;
      return `${t} = $series${i}`;
    })
    .join(' OR ');
  // ms precision: time <= end is time < end + 1 ms
  // several series: the earliest watermark bounds every series' rollup pieces
  const watermarks = seriesNames.map((n) => options.watermarkOf?.(n) ?? Infinity);
  const pieces = planPieces(
    range.startMs,
    range.endMs + 1,
    range.resolution.ms,
    rollups,
    Math.min(...watermarks),
  );
  const statements = pieces.map((piece, i) => {
    params[`start${i}`] = iso(piece.startMs);
    params[`end${i}`] = iso(piece.endMs);
    const select =
      piece.source === 'raw'
        ? `sum(${f}) AS "sum", count(${f}) AS "count"`
        : 'sum("sum") AS "sum", sum("count") AS "count"';
    return (
      `SELECT ${select} FROM ${pieceMeasurement(piece.source, measurement)} ` +
      `WHERE (${seriesMatch}) AND time >= $start${i} AND time < $end${i} ${group}`
    );
  });
  return { query: { query: statements.join('; '), params }, pieces };
}

/**
 * Rows of the piece statements (`time`, `sum`, `count`, and the series tag when several
 * series were asked) → the mean per bucket, Σsum/Σcount, per series, sorted by time.
 */
export function combineBucketRows(
  rows: readonly Record<string, unknown>[],
  tag = 'series',
): Map<string, { time: string; value: number }[]> {
  const sums = new Map<string, Map<number, { sum: number; count: number }>>();
  for (const row of rows) {
    const ms = rowTimeMs(row.time);
    const { sum, count } = row;
    if (!Number.isFinite(ms) || typeof sum !== 'number' || typeof count !== 'number' || count <= 0) continue;
    const series = typeof row[tag] === 'string' ? (row[tag] as string) : '';
    let buckets = sums.get(series);
    if (!buckets) sums.set(series, (buckets = new Map()));
    const bucket = buckets.get(ms);
    if (bucket) {
      bucket.sum += sum;
      bucket.count += count;
    } else buckets.set(ms, { sum, count });
  }
  const out = new Map<string, { time: string; value: number }[]>();
  for (const [series, buckets] of sums) {
    out.set(
      series,
      [...buckets.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([ms, b]) => ({ time: new Date(ms).toISOString(), value: b.sum / b.count })),
    );
  }
  return out;
}

export const MAX_SERIES_PER_REQUEST = 50;

/** As SeriesQueryPlan, for several series; `exists` gives one row per series that exists. */
export interface MultiSeriesQueryPlan extends Omit<SeriesQueryPlan, 'series'> {
  series: string[];
}

/** `?series=a,b&start=&end=&resolution=`: several series in one call (one query, grouped by series). */
export function planMultiSeriesQuery(
  request: { series: unknown; start: unknown; end: unknown; resolution: unknown },
  options: SeriesQueryOptions = {},
): MultiSeriesQueryPlan | SeriesQueryError {
  const list = singleParam(request.series);
  if (typeof list !== 'string') return bad('series must be given once, as a comma-separated list');
  const names = [...new Set(list.split(',').map((n) => n.trim()))];
  if (names.length > MAX_SERIES_PER_REQUEST) {
    return bad(`at most ${MAX_SERIES_PER_REQUEST} series per request, got ${names.length}`);
  }
  const badName = names.find((n) => !SERIES_NAME.test(n));
  if (badName !== undefined) {
    return bad(`series name "${clip(badName)}" must be 1–128 letters, digits, "_", "." or "-"`);
  }
  const range = checkRange(request, options);
  if (!range.ok) return range;
  const { measurement = 'grid_frequency', tag = 'series' } = options;
  const data = seriesDataQuery(names, range, options);
  const t = quotePlainIdentifier(tag, 'tag');
  return {
    ...range,
    series: names,
    data: data.query,
    pieces: data.pieces,
    exists: {
      query:
        `SHOW TAG VALUES FROM ${quotePlainIdentifier(measurement, 'measurement')} WITH KEY = ${t} WHERE ` +
        names.map((_, i) => `${t} = $series${i}`).join(' OR '),
      params: Object.fromEntries(names.map((n, i) => [`series${i}`, n])),
    },
  };
}

/** One catalog entry of `GET /api/series`. */
export interface SeriesCatalogEntry {
  series: string;
  first: string | null;
  last: string | null;
  rows: number | null;
  /** The smallest step between two rows, as a resolution text ("1s", "15m") or ms ("250ms"). */
  step: string | null;
}

/**
 * `GET /api/series`: every series of the raw measurement, with first/last time, rows and
 * step from the coarsest rollup (one row per series per day: cheap at any size).
 */
export function catalogQuery({
  measurement = 'grid_frequency',
  tag = 'series',
  rollups = [],
}: SeriesQueryOptions = {}): BoundQuery {
  const t = quotePlainIdentifier(tag, 'tag');
  const names = `SHOW TAG VALUES FROM ${quotePlainIdentifier(measurement, 'measurement')} WITH KEY = ${t}`;
  const coarsest = [...rollups].sort((a, b) => b.ms - a.ms)[0];
  if (!coarsest) return { query: names, params: {} };
  return {
    query:
      `${names}; SELECT sum("count") AS "rows", min("first_ms") AS "first_ms", max("last_ms") AS "last_ms", ` +
      `min("step_ms") AS "step_ms" FROM ${pieceMeasurement(coarsest, measurement)} GROUP BY ${t}`,
    params: {},
  };
}

/** The rows of `catalogQuery` → the catalog, sorted by series name. */
export function catalogEntries(
  rows: readonly Record<string, unknown>[],
  tag = 'series',
): SeriesCatalogEntry[] {
  const entries = new Map<string, SeriesCatalogEntry>();
  const entry = (series: string) => {
    let e = entries.get(series);
    if (!e) entries.set(series, (e = { series, first: null, last: null, rows: null, step: null }));
    return e;
  };
  for (const row of rows) {
    if (row.key === tag && typeof row.value === 'string' && row.time === undefined) entry(row.value);
    else if (typeof row[tag] === 'string') {
      const e = entry(row[tag] as string);
      if (typeof row.rows === 'number') e.rows = row.rows;
      if (typeof row.first_ms === 'number') e.first = new Date(row.first_ms).toISOString();
      if (typeof row.last_ms === 'number') e.last = new Date(row.last_ms).toISOString();
      if (typeof row.step_ms === 'number') e.step = durationText(row.step_ms);
    }
  }
  return [...entries.values()].sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));
}

/** 1000 → "1s", 900000 → "15m", 250 → "250ms". */
export function durationText(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A bound query that returns one row when the series has any point. */
export function seriesExistsQuery(
  series: string,
  { measurement = 'grid_frequency', tag = 'series' } = {},
): BoundQuery {
  return {
    query: `SHOW TAG VALUES FROM ${quotePlainIdentifier(measurement, 'measurement')} WITH KEY = ${quotePlainIdentifier(tag, 'tag')} WHERE ${quotePlainIdentifier(tag, 'tag')} = $series`,
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
    const ms = rowTimeMs(row.time);
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
