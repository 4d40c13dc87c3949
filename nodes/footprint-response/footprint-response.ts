/**
 * footprint-response: the `carbon_footprint` rows read by footprint-request's query (from
 * `influx-query`) → the API answer for `http response`: a JSON array of footprint rows, or
 * with `format=svg` a labelled bar chart; 404 when there are no rows; a msg from the Catch
 * node on influx-query → 503 (see setDatabaseErrorReply).
 */
import {
  footprintChartSvg,
  noFootprint,
  rowsToFootprintRows,
  type FootprintQueryInfo,
} from '../core/footprint-query';
import { caughtError, objectRows, setDatabaseErrorReply, setReply } from '../shared/http-reply';
import { showStatus } from '../shared/status';
import type { Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { onInput, registerNode } from '../shared/node-handler';
import { FOOTPRINT_RESPONSE_MIGRATIONS } from './migrations';

export = (RED: NodeAPI) => {
  function FootprintResponseNode(this: Node, config: NodeDef) {
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
        delete msg.footprintQuery;
        send(msg);
        return done();
      }
      const info = msg.footprintQuery as FootprintQueryInfo | undefined;
      if (!info || typeof info.assetId !== 'string' || !Array.isArray(msg.payload)) {
        return done(
          new Error(
            'expected msg.footprintQuery from footprint-request and the rows of influx-query in msg.payload',
          ),
        );
      }
      const rows = rowsToFootprintRows(objectRows(msg.payload as unknown[]));
      delete msg.footprintQuery;
      delete msg.query;
      delete msg.params;
      if (rows.length === 0) {
        missing++;
        showStatus(node, 'warn', `${answered} ok, ${missing} 404`);
        const notFound = noFootprint(info.assetId, info.date);
        send(setReply(msg, notFound.status, { error: notFound.error }));
        return done();
      }
      answered++;
      showStatus(node, 'ok', `${answered} ok, ${missing} 404`);
      if (info.format === 'svg') {
        send(
          setReply(
            msg,
            200,
            footprintChartSvg(info.assetId, info.date, rows),
            'image/svg+xml; charset=utf-8',
          ),
        );
      } else send(setReply(msg, 200, rows));
      done();
    });
  }
  registerNode(RED, 'footprint-response', FOOTPRINT_RESPONSE_MIGRATIONS, FootprintResponseNode);
};
