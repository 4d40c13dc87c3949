/**
 * The one implementation of the API request nodes (series-request, footprint-request):
 * an `http in` msg → a bound InfluxQL query for `influx-query` (output 1) with what the
 * response node needs in `msg[infoProperty]`, or a 4xx answer for `http response`
 * (output 2). Each node's folder supplies its settings and its plan (nodes/core).
 */
import { settingsOrFail } from './config-failure';
import { httpRequestParts, setReply, type HttpRequestParts } from './http-reply';
import { showStatus } from './status';
import type { ConfigMigration } from './config-migrations';
import { onInput, registerNode } from './node-handler';
import type { Node, NodeAPI, NodeDef } from './node-red-types';

/** A request as the plan sees it: route params and query, and whether it came from `http in`. */
export interface HttpQueryRequest extends HttpRequestParts {
  fromHttp: boolean;
}

export type HttpQueryPlan =
  | { ok: true; query: string; params: Record<string, unknown>; info: object }
  | { ok: false; status: number; body: Record<string, unknown> };

export interface HttpQueryRequestNode<Config extends NodeDef, Settings> {
  type: string;
  migrations: readonly ConfigMigration[];
  /** The msg property the response node reads the plan's `info` from. */
  infoProperty: string;
  /** Config → settings; throws on bad settings (the node then fails every msg, see failOnBadConfig). */
  parseSettings(config: Config): Settings;
  plan(request: HttpQueryRequest, settings: Settings): HttpQueryPlan;
}

export function registerHttpQueryRequest<Config extends NodeDef, Settings>(
  RED: NodeAPI,
  spec: HttpQueryRequestNode<Config, Settings>,
): void {
  function HttpQueryRequestNode(this: Node, config: Config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const settings = settingsOrFail(node, () => spec.parseSettings(config));
    if (!settings) return;
    let served = 0;
    let refused = 0;
    showStatus(node, 'idle', 'ready');

    onInput(node, (msg, send, done) => {
      const plan = spec.plan({ ...httpRequestParts(msg), fromHttp: !!msg.req }, settings);
      if (!plan.ok) {
        refused++;
        showStatus(node, 'warn', `${served} ok, ${refused} refused`);
        send([null, setReply(msg, plan.status, plan.body)]);
        return done();
      }
      served++;
      showStatus(node, 'ok', `${served} ok, ${refused} refused`);
      msg.query = plan.query;
      msg.params = plan.params;
      msg[spec.infoProperty] = plan.info;
      send([msg, null]);
      done();
    });
  }
  registerNode(RED, spec.type, spec.migrations, HttpQueryRequestNode);
}
