/**
 * `GET /api/carbon/:asset/footprint?date=YYYY-MM-DD&from=14&to=20[&format=svg]`: request
 * validation, the bound InfluxQL that reads the rows back, and rows → the API's shape.
 * Rows are stored at the start of their half hour, so HalfHourIds from–to are the times
 * day + (from−1)·30 min … day + (to−1)·30 min, both inclusive.
 */
import {
  HALF_HOUR_MS,
  HALF_HOURS_PER_DAY,
  halfHourId,
  utcDayStart,
  type FootprintRow,
} from './carbon-footprint';
import { rowTimeMs } from './influxql';
import { quotePlainIdentifier, singleParam, type BoundQuery } from './series-query';
import { barChartSvg } from './bar-chart-svg';

export const ASSET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface FootprintQueryPlan {
  ok: true;
  assetId: string;
  date: string;
  from: number;
  to: number;
  format: 'json' | 'svg';
  query: BoundQuery;
}

/** What footprint-response needs to know about the request; travels as msg.footprintQuery. */
export interface FootprintQueryInfo {
  assetId: string;
  date: string;
  from: number;
  to: number;
  format: 'json' | 'svg';
}

export interface FootprintQueryError {
  ok: false;
  status: 400 | 404;
  error: string;
}

function halfHourParam(raw: unknown, name: string, fallback: number): number | string {
  const v = singleParam(raw);
  if (v === undefined || v === '') return fallback;
  if (typeof v !== 'string' || !/^\d{1,2}$/.test(v) || Number(v) < 1 || Number(v) > HALF_HOURS_PER_DAY) {
    return `${name} must be a HalfHourId from 1 to 48 (1 = 00:00–00:30 UTC)`;
  }
  return Number(v);
}

export function planFootprintQuery(
  request: { asset: unknown; date: unknown; from?: unknown; to?: unknown; format?: unknown },
  { measurement = 'carbon_footprint', tag = 'asset_id' } = {},
): FootprintQueryPlan | FootprintQueryError {
  const assetId = singleParam(request.asset);
  if (typeof assetId !== 'string' || !ASSET_ID.test(assetId)) {
    return bad('asset id must be 1–128 letters, digits, "_", "." or "-"');
  }
  const date = singleParam(request.date);
  if (date === undefined || date === '') return bad('date is required (YYYY-MM-DD, a UTC day)');
  let dayStart: number;
  try {
    if (typeof date !== 'string') throw new Error();
    dayStart = utcDayStart(date);
  } catch {
    return bad(`date "${String(date).slice(0, 40)}" must be a calendar date YYYY-MM-DD`);
  }
  const from = halfHourParam(request.from, 'from', 1);
  if (typeof from === 'string') return bad(from);
  const to = halfHourParam(request.to, 'to', HALF_HOURS_PER_DAY);
  if (typeof to === 'string') return bad(to);
  if (to < from) return bad(`to (${to}) is before from (${from})`);
  const format = singleParam(request.format) ?? 'json';
  if (format !== 'json' && format !== 'svg') return bad('format must be json or svg');
  const fields = ['half_hour_id', 'mean_kw', 'energy_kwh', 'intensity', 'footprint_g'].map((f) =>
    quotePlainIdentifier(f),
  );
  return {
    ok: true,
    assetId,
    date: date as string,
    from,
    to,
    format,
    query: {
      query:
        `SELECT ${fields.join(', ')} FROM ${quotePlainIdentifier(measurement, 'measurement')} ` +
        `WHERE ${quotePlainIdentifier(tag, 'tag')} = $asset AND time >= $start AND time <= $end ORDER BY time ASC`,
      params: {
        asset: assetId,
        start: new Date(dayStart + (from - 1) * HALF_HOUR_MS).toISOString(),
        end: new Date(dayStart + (to - 1) * HALF_HOUR_MS).toISOString(),
      },
    },
  };
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** InfluxDB rows of `carbon_footprint` → API rows (same shape as the MQTT payload). */
export function rowsToFootprintRows(rows: readonly Record<string, unknown>[]): FootprintRow[] {
  const out: FootprintRow[] = [];
  for (const row of rows) {
    const start = rowTimeMs(row.time);
    if (!Number.isFinite(start) || Math.abs(start) > 8.64e15 - HALF_HOUR_MS) continue; // beyond a Date
    out.push({
      half_hour_id: num(row.half_hour_id) ?? halfHourId(start),
      start: new Date(start).toISOString(),
      end: new Date(start + HALF_HOUR_MS).toISOString(),
      mean_kw: num(row.mean_kw),
      energy_kwh: num(row.energy_kwh),
      intensity: num(row.intensity),
      footprint_g: num(row.footprint_g),
    });
  }
  return out;
}

/** The chart for the rows: one bar per half hour, labelled with its id and UTC start time. */
export function footprintChartSvg(assetId: string, date: string, rows: readonly FootprintRow[]): string {
  return barChartSvg({
    title: `Carbon footprint of ${assetId} on ${date} (UTC)`,
    xLabel: 'Half hour (HalfHourId, start time UTC)',
    yLabel: 'Footprint',
    unit: 'gCO2eq',
    bars: rows.map((r) => ({
      label: String(r.half_hour_id),
      sublabel: r.start.slice(11, 16),
      value: r.footprint_g,
    })),
  });
}

export function noFootprint(assetId: string, date: string): FootprintQueryError {
  return { ok: false, status: 404, error: `no footprint rows for asset "${assetId}" on ${date}` };
}

function bad(error: string): FootprintQueryError {
  return { ok: false, status: 400, error };
}
