/**
 * series-response: the rows of series-request's query (from `influx-query`) → the API
 * answer for `http response`: 200 `[{time, value}]` (or `{<series>: [{time, value}]}` for
 * several series, or the catalog), 404 when a series has no points; a msg from the Catch
 * node on influx-query → 503 (see setDatabaseErrorReply).
 */
import {
  catalogEntries,
  combineBucketRows,
  rowsToSeriesPoints,
  unknownSeries,
  type SeriesQueryInfo,
} from '../core/series-query';
import { caughtError, objectRows, setDatabaseErrorReply, setReply } from '../shared/http-reply';
import { showStatus } from '../shared/status';
import type { Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { onInput, registerNode } from '../shared/node-handler';
import { SERIES_RESPONSE_MIGRATIONS } from './migrations';

interface MultiInfo {
  kind: 'multi';
  series: string[];
  tag: string;
}

function catalogReply(rows: Record<string, unknown>[]) {
  return { status: 200, body: catalogEntries(rows) };
}

/** `{<series>: [{time, value}]}` for every series asked, or 404 naming the ones without points. */
function multiReply(rows: Record<string, unknown>[], info: MultiInfo) {
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

export = (RED: NodeAPI) => {
  function SeriesResponseNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let answered = 0;
    let missing = 0;
    showStatus(node, 'idle', 'ready');
    onInput(node, (msg, send, done) => {
      const failure = caughtError(msg); // from the Catch node on influx-query
      if (failure) {
        const reply = setDatabaseErrorReply(msg, failure);
        node.error(reply.logText);
        showStatus(node, 'error', 'database failed');
        delete msg.seriesQuery;
        send(msg);
        return done();
      }
      const info = msg.seriesQuery as SeriesQueryInfo | MultiInfo | { kind: 'catalog' } | undefined;
      if (info?.kind === 'catalog' || info?.kind === 'multi') {
        if (!Array.isArray(msg.payload))
          return done(new Error('expected the rows of influx-query in msg.payload'));
        const rows = objectRows(msg.payload as unknown[]);
        delete msg.seriesQuery;
        delete msg.query;
        delete msg.params;
        const reply = info.kind === 'catalog' ? catalogReply(rows) : multiReply(rows, info);
        if (reply.status === 200) answered++;
        else missing++;
        showStatus(node, reply.status === 200 ? 'ok' : 'warn', `${answered} ok, ${missing} 404`);
        send(setReply(msg, reply.status, reply.body));
        return done();
      }
      if (!info || typeof info.series !== 'string' || !Array.isArray(msg.payload)) {
        return done(
          new Error(
            'expected msg.seriesQuery from series-request and the rows of influx-query in msg.payload',
          ),
        );
      }
      const rows = objectRows(msg.payload as unknown[]);
      // The first statement (SHOW TAG VALUES) gives a row {key: <tag>, value: <series>} when the series exists.
      const exists = rows.some((r) => r.time === undefined && r.key === info.tag && r.value === info.series);
      delete msg.seriesQuery;
      delete msg.query;
      delete msg.params;
      if (!exists) {
        missing++;
        showStatus(node, 'warn', `${answered} ok, ${missing} 404`);
        const notFound = unknownSeries(info.series);
        send(setReply(msg, notFound.status, { error: notFound.error }));
        return done();
      }
      answered++;
      showStatus(node, 'ok', `${answered} ok, ${missing} 404`);
      const dataRows = rows.filter((r) => r.time !== undefined);
      const points = dataRows.some((r) => r.count !== undefined)
        ? (combineBucketRows(dataRows, info.tag).get('') ?? [])
        : rowsToSeriesPoints(dataRows);
      send(setReply(msg, 200, points));
      done();
    });
  }
  registerNode(RED, 'series-response', SERIES_RESPONSE_MIGRATIONS, SeriesResponseNode);
};
