/**
 * series-request: `GET /api/series/:series?start=&end=&resolution=` from an `http in` node
 * → a bound InfluxQL query for `influx-query` (output 1), or a 400 answer for
 * `http response` (output 2). Validation and query text live in nodes/core/series-query.ts.
 */
import { planSeriesQuery, quoteIdentifier, type SeriesQueryInfo } from '../core/series-query';
import { configNumber } from '../shared/config-number';
import { httpRequestParts, setReply } from '../shared/http-reply';
import { showStatus } from '../shared/status';
import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';

interface SeriesRequestConfig extends NodeDef {
  measurement: string;
  field: string;
  tag: string;
  maxPoints: string | number;
}

function parseSettings(config: SeriesRequestConfig) {
  const settings = {
    measurement: (config.measurement || 'grid_frequency').trim(),
    field: (config.field || 'hz').trim(),
    tag: (config.tag || 'series').trim(),
    maxPoints: configNumber(config.maxPoints, 'maxPoints', 10_000, { min: 1, integer: true }),
  };
  quoteIdentifier(settings.measurement, 'measurement');
  quoteIdentifier(settings.field, 'field');
  quoteIdentifier(settings.tag, 'tag');
  return settings;
}

export = (RED: NodeAPI) => {
  function SeriesRequestNode(this: Node, config: SeriesRequestConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: ReturnType<typeof parseSettings>;
    try {
      settings = parseSettings(config);
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    let served = 0;
    let refused = 0;
    showStatus(node, 'idle', 'ready');

    node.on('input', (input, nodeSend, done: Done) => {
      const msg = input as Msg;
      const send = nodeSend as Send;
      const { params, query } = httpRequestParts(msg);
      const plan = planSeriesQuery(
        { series: params.series, start: query.start, end: query.end, resolution: query.resolution },
        settings,
      );
      if (!plan.ok) {
        refused++;
        showStatus(node, 'warn', `${served} ok, ${refused} refused`);
        const body =
          plan.limit === undefined ? { error: plan.error } : { error: plan.error, limit: plan.limit };
        send([null, setReply(msg, plan.status, body)]);
        return done();
      }
      served++;
      showStatus(node, 'ok', `${served} ok, ${refused} refused`);
      // One request, two statements: does the series exist (index only), then the means.
      msg.query = `${plan.exists.query}; ${plan.data.query}`;
      msg.params = { ...plan.exists.params, ...plan.data.params };
      msg.seriesQuery = {
        series: plan.series,
        tag: settings.tag,
        start: new Date(plan.startMs).toISOString(),
        end: new Date(plan.endMs).toISOString(),
        resolution: plan.resolution.text,
        points: plan.points,
      } satisfies SeriesQueryInfo;
      send([msg, null]);
      done();
    });
  }
  RED.nodes.registerType('series-request', SeriesRequestNode);
};
