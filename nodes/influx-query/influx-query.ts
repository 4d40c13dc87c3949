/**
 * influx-query: an InfluxQL (v1) or Flux (v2) query with parameters from msg.params, bound
 * by the server (InfluxQL `params`) or written as Flux literals by the official client;
 * never concatenated into the query text (docs/adr/0025). Rows out as an array.
 */
import type { Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { missingConnection, type InfluxConnectionNode } from '../shared/influx-connection-settings';
import { failEveryMsg } from '../shared/config-failure';
import type { InfluxHttp } from '../shared/influx-http';
import { showStatus, clockTime, compactCount } from '../shared/status';
import { fluxWithParams, influxqlParams, readParams } from '../core/query-params';
import { useNodeRedSettings } from '../shared/node-state';
import { onInput, registerNode } from '../shared/node-handler';
import { INFLUX_QUERY_MIGRATIONS } from './migrations';

interface InfluxQueryConfig extends NodeDef {
  connection: string;
  query: string;
}

export = (RED: NodeAPI) => {
  useNodeRedSettings(RED);
  function InfluxQueryNode(this: Node, config: InfluxQueryConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const connection = RED.nodes.getNode(config.connection) as InfluxConnectionNode | null;
    if (!connection || connection.configError) {
      const why = connection?.configError ?? missingConnection(config.connection);
      return failEveryMsg(node, new Error(why), connection ? 'bad connection' : 'no connection');
    }
    const client: InfluxHttp | undefined = connection.createClient();
    const configuredQuery = (config.query ?? '').trim();
    const v2 = connection.settings.apiVersion === 'v2';
    showStatus(node, client ? 'idle' : 'warn', client ? 'ready' : 'not configured');

    onInput(node, (msg, send, done) => {
      const query = configuredQuery || (typeof msg.query === 'string' ? msg.query.trim() : '');
      if (!query) return done(new Error('no query: set one in the node or send msg.query'));
      if (!client)
        return done(
          new Error(
            'InfluxDB url is not set in the influx-connection node (or INFLUX_URL, when it reads ${INFLUX_URL})',
          ),
        );
      const params = readParams(msg.params);
      if (!params.ok) return done(new Error(params.reason));
      let rows: Promise<Record<string, unknown>[]>;
      if (v2) {
        rows = client.flux(
          fluxWithParams(query, params.params),
          typeof msg.org === 'string' ? msg.org : undefined,
        );
      } else {
        const bound = influxqlParams(query, params.params);
        if (!bound.ok) return done(new Error(bound.reason));
        rows = client.influxql(
          query,
          bound.json,
          typeof msg.database === 'string' && msg.database ? msg.database : undefined,
        );
      }
      showStatus(node, 'busy', 'querying');
      rows.then(
        (result) => {
          msg.payload = result;
          showStatus(
            node,
            'ok',
            `${compactCount(result.length)} row${result.length === 1 ? '' : 's'} ${clockTime(Date.now())}`,
          );
          (send as Send)(msg);
          done();
        },
        (err: Error) => {
          showStatus(node, 'error', 'query failed');
          done(err);
        },
      );
    });
    node.on('close', (done: () => void) => {
      client?.close();
      done();
    });
  }
  registerNode(RED, 'influx-query', INFLUX_QUERY_MIGRATIONS, InfluxQueryNode);
};
