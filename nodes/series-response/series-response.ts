/**
 * series-response: the rows of series-request's query (from `influx-query`) → the API
 * answer for `http response`: 200 `[{time, value}]`, or 404 when the series has no points;
 * a msg from the Catch node on influx-query → 503 (see setDatabaseErrorReply).
 */
import { rowsToSeriesPoints, unknownSeries, type SeriesQueryInfo } from '../core/series-query';
import { caughtError, objectRows, setDatabaseErrorReply, setReply } from '../shared/http-reply';
import { showStatus } from '../shared/status';
import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';

export = (RED: NodeAPI) => {
  function SeriesResponseNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let answered = 0;
    let missing = 0;
    showStatus(node, 'idle', 'ready');
    node.on('input', (input, nodeSend, done: Done) => {
      const msg = input as Msg;
      const send = nodeSend as Send;
      const failure = caughtError(msg); // from the Catch node on influx-query
      if (failure) {
        const reply = setDatabaseErrorReply(msg, failure);
        node.error(reply.logText);
        showStatus(node, 'error', 'database failed');
        delete msg.seriesQuery;
        send(msg);
        return done();
      }
      const info = msg.seriesQuery as SeriesQueryInfo | undefined;
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
      send(setReply(msg, 200, rowsToSeriesPoints(rows.filter((r) => r.time !== undefined))));
      done();
    });
  }
  RED.nodes.registerType('series-response', SeriesResponseNode);
};
