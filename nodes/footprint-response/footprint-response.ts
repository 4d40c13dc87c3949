/**
 * footprint-response: the `carbon_footprint` rows read by footprint-request's query (from
 * `influx-query`) → the API answer for `http response`: a JSON array of footprint rows, or
 * with `format=svg` a labelled bar chart; 404 when there are no rows; a msg from the Catch
 * node on influx-query → 503. The node itself: nodes/shared/http-query-response.ts.
 */
import {
  footprintChartSvg,
  noFootprint,
  rowsToFootprintRows,
  type FootprintQueryInfo,
} from '../core/footprint-query';
import { objectRows } from '../shared/http-reply';
import { registerHttpQueryResponse, type HttpQueryReply } from '../shared/http-query-response';
import type { NodeAPI } from '../shared/node-red-types';
import { FOOTPRINT_RESPONSE_MIGRATIONS } from './migrations';

function footprintReply(rawInfo: unknown, payload: unknown): HttpQueryReply | Error {
  const info = rawInfo as FootprintQueryInfo | undefined;
  if (!info || typeof info.assetId !== 'string' || !Array.isArray(payload)) {
    return new Error(
      'expected msg.footprintQuery from footprint-request and the rows of influx-query in msg.payload',
    );
  }
  const rows = rowsToFootprintRows(objectRows(payload));
  if (rows.length === 0) {
    const notFound = noFootprint(info.assetId, info.date);
    return { status: notFound.status, body: { error: notFound.error } };
  }
  if (info.format === 'svg') {
    const svg = footprintChartSvg(info.assetId, info.date, rows);
    return { status: 200, body: svg, contentType: 'image/svg+xml; charset=utf-8' };
  }
  return { status: 200, body: rows };
}

export = (RED: NodeAPI) =>
  registerHttpQueryResponse(RED, {
    type: 'footprint-response',
    migrations: FOOTPRINT_RESPONSE_MIGRATIONS,
    infoProperty: 'footprintQuery',
    reply: footprintReply,
  });
