/**
 * footprint-request: `GET /api/carbon/:asset/footprint?date=&from=&to=&format=` from an
 * `http in` node → a bound InfluxQL query for `influx-query` (output 1), or a 400 answer
 * for `http response` (output 2). Validation and query text: nodes/core/footprint-query.ts.
 */
import { planFootprintQuery, type FootprintQueryInfo } from '../core/footprint-query';
import { quoteIdentifier } from '../core/series-query';
import { httpRequestParts, setReply } from '../shared/http-reply';
import { showStatus } from '../shared/status';
import type { Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { FOOTPRINT_REQUEST_MIGRATIONS } from './migrations';

interface FootprintRequestConfig extends NodeDef {
  measurement: string;
  tag: string;
}

export = (RED: NodeAPI) => {
  function FootprintRequestNode(this: Node, config: FootprintRequestConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const settings = {
      measurement: (config.measurement || 'carbon_footprint').trim(),
      tag: (config.tag || 'asset_id').trim(),
    };
    try {
      quoteIdentifier(settings.measurement, 'measurement');
      quoteIdentifier(settings.tag, 'tag');
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    let served = 0;
    let refused = 0;
    showStatus(node, 'idle', 'ready');

    onInput(node, (msg, send, done) => {
      const { params, query } = httpRequestParts(msg);
      const plan = planFootprintQuery(
        { asset: params.asset, date: query.date, from: query.from, to: query.to, format: query.format },
        settings,
      );
      if (!plan.ok) {
        refused++;
        showStatus(node, 'warn', `${served} ok, ${refused} refused`);
        send([null, setReply(msg, plan.status, { error: plan.error })]);
        return done();
      }
      served++;
      showStatus(node, 'ok', `${served} ok, ${refused} refused`);
      msg.query = plan.query.query;
      msg.params = plan.query.params;
      msg.footprintQuery = {
        assetId: plan.assetId,
        date: plan.date,
        from: plan.from,
        to: plan.to,
        format: plan.format,
      } satisfies FootprintQueryInfo;
      send([msg, null]);
      done();
    });
  }
  registerNode(RED, 'footprint-request', FOOTPRINT_REQUEST_MIGRATIONS, FootprintRequestNode);
};
