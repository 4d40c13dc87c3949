/**
 * series-request: `GET /api/series/:series?start=&end=&resolution=`, `GET /api/series?series=a,b&…`
 * and the catalog `GET /api/series` from an `http in` node → a bound InfluxQL query for
 * `influx-query` (output 1), or a 400 answer for `http response` (output 2). Validation,
 * the choice of rollup and the query text live in nodes/core/series-query.ts.
 */
import { parseLevels } from '../core/series-rollup';
import {
  catalogQuery,
  planMultiSeriesQuery,
  planSeriesQuery,
  quoteIdentifier,
  type RollupSource,
  type SeriesQueryInfo,
} from '../core/series-query';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { rollupWatermark } from '../shared/rollup-progress';
import { httpRequestParts, setReply } from '../shared/http-reply';
import { showStatus } from '../shared/status';
import type { Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { SERIES_REQUEST_MIGRATIONS } from './migrations';

interface SeriesRequestConfig extends NodeDef {
  measurement: string;
  field: string;
  tag: string;
  maxPoints: string | number;
  /** Rollup levels series-rollup writes, e.g. "1m,15m,1h,1d"; blank (and flows saved before) = raw only. */
  rollupLevels?: string;
  /** Retention policy of each level, `{level}` replaced by its name; blank = the default policy. */
  rollupRetentionPolicy?: string;
}

function parseSettings(config: SeriesRequestConfig) {
  const rpTemplate = (config.rollupRetentionPolicy ?? '').trim();
  const levelsText = (config.rollupLevels ?? '').trim();
  const rollups: RollupSource[] = (levelsText ? parseLevels(levelsText) : []).map((level) => ({
    level: level.name,
    ms: level.ms,
    retentionPolicy: rpTemplate.replace(/\{level\}/g, level.name),
  }));
  const measurement = (config.measurement || 'grid_frequency').trim();
  const settings = {
    measurement,
    field: (config.field || 'hz').trim(),
    tag: (config.tag || 'series').trim(),
    maxPoints: configNumber(config.maxPoints, 'maxPoints', 10_000, { min: 1, integer: true }),
    rollups,
    watermarkOf: (series: string) => rollupWatermark(measurement, series),
  };
  quoteIdentifier(settings.measurement, 'measurement');
  quoteIdentifier(settings.field, 'field');
  quoteIdentifier(settings.tag, 'tag');
  for (const r of rollups) {
    quoteIdentifier(`${settings.measurement}_${r.level}`, 'rollup measurement');
    if (r.retentionPolicy) quoteIdentifier(r.retentionPolicy, 'retention policy');
  }
  return settings;
}

/** The query of a request without `:series`: several series (`?series=a,b`), or the catalog. */
function planWithoutSeriesParam(query: Record<string, unknown>, settings: ReturnType<typeof parseSettings>) {
  if (query.series === undefined) {
    const catalog = catalogQuery(settings);
    return { ok: true as const, query: catalog.query, params: catalog.params, info: { kind: 'catalog' } };
  }
  const plan = planMultiSeriesQuery(
    { series: query.series, start: query.start, end: query.end, resolution: query.resolution },
    settings,
  );
  if (!plan.ok) return plan;
  return {
    ok: true as const,
    query: `${plan.exists.query}; ${plan.data.query}`,
    params: { ...plan.exists.params, ...plan.data.params },
    info: {
      kind: 'multi',
      series: plan.series,
      tag: settings.tag,
      start: new Date(plan.startMs).toISOString(),
      end: new Date(plan.endMs).toISOString(),
      resolution: plan.resolution.text,
      points: plan.points,
    },
  };
}

export = (RED: NodeAPI) => {
  function SeriesRequestNode(this: Node, config: SeriesRequestConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: ReturnType<typeof parseSettings>;
    try {
      settings = parseAllSettings(() => parseSettings(config));
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    let served = 0;
    let refused = 0;
    showStatus(node, 'idle', 'ready');

    onInput(node, (msg, send, done) => {
      const { params, query } = httpRequestParts(msg);
      if (msg.req && params.series === undefined) {
        const planned = planWithoutSeriesParam(query, settings);
        if (!planned.ok) {
          refused++;
          showStatus(node, 'warn', `${served} ok, ${refused} refused`);
          send([null, setReply(msg, planned.status, { error: planned.error })]);
          return done();
        }
        served++;
        showStatus(node, 'ok', `${served} ok, ${refused} refused`);
        msg.query = planned.query;
        msg.params = planned.params;
        msg.seriesQuery = planned.info;
        send([msg, null]);
        return done();
      }
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
        kind: 'single',
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
  registerNode(RED, 'series-request', SERIES_REQUEST_MIGRATIONS, SeriesRequestNode);
};
