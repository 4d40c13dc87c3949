/**
 * series-response: the rows of series-request's query (from `influx-query`) → the API
 * answer for `http response`: 200 `[{time, value}]` (or `{<series>: [{time, value}]}` for
 * several series, or the catalog), 404 when a series has no points; a msg from the Catch
 * node on influx-query → 503. The node itself: nodes/shared/http-query-response.ts.
 */
import {
  catalogEntries,
  combineBucketRows,
  rowsToSeriesPoints,
  unknownSeries,
  type SeriesQueryInfo,
} from '../core/series-query';
import { objectRows } from '../shared/http-reply';
import { registerHttpQueryResponse, type HttpQueryReply } from '../shared/http-query-response';
import type { NodeAPI } from '../shared/node-red-types';
import { SERIES_RESPONSE_MIGRATIONS } from './migrations';

interface MultiInfo {
  kind: 'multi';
  series: string[];
  tag: string;
}

function catalogReply(rows: Record<string, unknown>[]): HttpQueryReply {
  return { status: 200, body: catalogEntries(rows) };
}

/** `{<series>: [{time, value}]}` for every series asked, or 404 naming the ones without points. */
function multiReply(rows: Record<string, unknown>[], info: MultiInfo): HttpQueryReply {
  const known = new Set(
    rows.filter((r) => r.time === undefined && r.key === info.tag).map((r) => r.value as string),
  );
  const unknown = info.series.filter((s) => !known.has(s));
  if (unknown.length > 0) {
    return { status: 404, body: { error: `series ${unknown.map((s) => `"${s}"`).join(', ')} not found` } };
  }
  const bySeries = combineBucketRows(
    rows.filter((r) => r.time !== undefined),
    info.tag,
  );
  const body: Record<string, { time: string; value: number }[]> = {};
  for (const series of info.series) {
    // one series asked twice or once: a lone series has no tag column in its rows
    body[series] = bySeries.get(series) ?? (info.series.length === 1 ? (bySeries.get('') ?? []) : []);
  }
  return { status: 200, body };
}

/** The single-series answer: 404 unless the SHOW TAG VALUES statement found the series, else its points. */
function singleReply(rows: Record<string, unknown>[], info: SeriesQueryInfo): HttpQueryReply {
  // The first statement (SHOW TAG VALUES) gives a row {key: <tag>, value: <series>} when the series exists.
  const exists = rows.some((r) => r.time === undefined && r.key === info.tag && r.value === info.series);
  if (!exists) {
    const notFound = unknownSeries(info.series);
    return { status: notFound.status, body: { error: notFound.error } };
  }
  const dataRows = rows.filter((r) => r.time !== undefined);
  const points = dataRows.some((r) => r.count !== undefined)
    ? (combineBucketRows(dataRows, info.tag).get('') ?? [])
    : rowsToSeriesPoints(dataRows);
  return { status: 200, body: points };
}

function seriesReply(rawInfo: unknown, payload: unknown): HttpQueryReply | Error {
  const info = rawInfo as SeriesQueryInfo | MultiInfo | { kind: 'catalog' } | undefined;
  if (info?.kind === 'catalog' || info?.kind === 'multi') {
    if (!Array.isArray(payload)) return new Error('expected the rows of influx-query in msg.payload');
    const rows = objectRows(payload);
    return info.kind === 'catalog' ? catalogReply(rows) : multiReply(rows, info);
  }
  if (!info || typeof info.series !== 'string' || !Array.isArray(payload)) {
    return new Error(
      'expected msg.seriesQuery from series-request and the rows of influx-query in msg.payload',
    );
  }
  return singleReply(objectRows(payload), info);
}

export = (RED: NodeAPI) =>
  registerHttpQueryResponse(RED, {
    type: 'series-response',
    migrations: SERIES_RESPONSE_MIGRATIONS,
    infoProperty: 'seriesQuery',
    reply: seriesReply,
  });
