/**
 * The one implementation of the API response nodes (series-response, footprint-response):
 * the rows of the request node's query (from `influx-query`) → the answer for
 * `http response`; a msg from the Catch node on influx-query → 503 (see
 * setDatabaseErrorReply). Each node's folder supplies how rows become its answer.
 */
import { caughtError, setDatabaseErrorReply, setReply } from './http-reply';
import { showStatus } from './status';
import type { ConfigMigration } from './config-migrations';
import { onInput, registerNode } from './node-handler';
import type { Node, NodeAPI, NodeDef } from './node-red-types';

export interface HttpQueryReply {
  status: number;
  body: unknown;
  contentType?: string;
}

export interface HttpQueryResponseNode {
  type: string;
  migrations: readonly ConfigMigration[];
  /** The msg property the request node left its `info` in. */
  infoProperty: string;
  /** The answer for the rows in `payload`, or why this msg cannot be answered (→ done(err)). */
  reply(info: unknown, payload: unknown): HttpQueryReply | Error;
}

export function registerHttpQueryResponse(RED: NodeAPI, spec: HttpQueryResponseNode): void {
  function HttpQueryResponseNode(this: Node, config: NodeDef) {
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
        delete msg[spec.infoProperty];
        send(msg);
        return done();
      }
      const reply = spec.reply(msg[spec.infoProperty], msg.payload);
      if (reply instanceof Error) return done(reply);
      delete msg[spec.infoProperty];
      delete msg.query;
      delete msg.params;
      if (reply.status === 200) answered++;
      else missing++;
      showStatus(node, reply.status === 200 ? 'ok' : 'warn', `${answered} ok, ${missing} 404`);
      send(setReply(msg, reply.status, reply.body, reply.contentType));
      done();
    });
  }
  registerNode(RED, spec.type, spec.migrations, HttpQueryResponseNode);
}
