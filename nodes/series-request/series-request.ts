/**
 * series-request: `GET /api/series/:series?start=&end=&resolution=`, `GET /api/series?series=a,b&…`
 * and the catalog `GET /api/series` from an `http in` node → a bound InfluxQL query for
 * `influx-query` (output 1), or a 400 answer for `http response` (output 2). Validation,
 * the choice of rollup and the query text live in nodes/core/series-query.ts; the node
 * itself in nodes/shared/http-query-request.ts.
 */
import { parseLevels } from '../core/series-rollup';
import {
  catalogQuery,
  planMultiSeriesQuery,
  planSeriesQuery,
  quotePlainIdentifier,
  type MultiSeriesQueryPlan,
  type RollupSource,
  type SeriesQueryPlan,
  type SeriesQueryInfo,
} from '../core/series-query';
import { configNumber } from '../shared/config-number';
import { rollupWatermark } from '../shared/rollup-progress';
import {
  registerHttpQueryRequest,
  type HttpQueryPlan,
  type HttpQueryRequest,
} from '../shared/http-query-request';
import type { NodeAPI, NodeDef } from '../shared/node-red-types';
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
  quotePlainIdentifier(settings.measurement, 'measurement');
  quotePlainIdentifier(settings.field, 'field');
  quotePlainIdentifier(settings.tag, 'tag');
  for (const r of rollups) {
    quotePlainIdentifier(`${settings.measurement}_${r.level}`, 'rollup measurement');
    if (r.retentionPolicy) quotePlainIdentifier(r.retentionPolicy, 'retention policy');
  }
  return settings;
}

type SeriesRequestSettings = ReturnType<typeof parseSettings>;

/** The range and resolution a plan answers, as series-response passes them on. */
function requestedRange(plan: SeriesQueryPlan | MultiSeriesQueryPlan) {
  return {
    start: new Date(plan.startMs).toISOString(),
    end: new Date(plan.endMs).toISOString(),
    resolution: plan.resolution.text,
    points: plan.points,
  };
}

/** The query of a request without `:series`: several series (`?series=a,b`), or the catalog. */
function planWithoutSeriesParam(
  query: Record<string, unknown>,
  settings: SeriesRequestSettings,
): HttpQueryPlan {
  if (query.series === undefined) {
    const catalog = catalogQuery(settings);
    return { ok: true, query: catalog.query, params: catalog.params, info: { kind: 'catalog' } };
  }
  const plan = planMultiSeriesQuery(
    { series: query.series, start: query.start, end: query.end, resolution: query.resolution },
    settings,
  );
  if (!plan.ok) return { ok: false, status: plan.status, body: { error: plan.error } };
  return {
    ok: true,
    query: `${plan.exists.query}; ${plan.data.query}`,
    params: { ...plan.exists.params, ...plan.data.params },
    info: { kind: 'multi', ...requestedRange(plan), series: plan.series, tag: settings.tag },
  };
}

function planRequest(
  { params, query, fromHttp }: HttpQueryRequest,
  settings: SeriesRequestSettings,
): HttpQueryPlan {
  if (fromHttp && params.series === undefined) return planWithoutSeriesParam(query, settings);
  const plan = planSeriesQuery(
    { series: params.series, start: query.start, end: query.end, resolution: query.resolution },
    settings,
  );
  if (!plan.ok) {
    const body = plan.limit === undefined ? { error: plan.error } : { error: plan.error, limit: plan.limit };
    return { ok: false, status: plan.status, body };
  }
  return {
    ok: true,
    // One request, two statements: does the series exist (index only), then the means.
    query: `${plan.exists.query}; ${plan.data.query}`,
    params: { ...plan.exists.params, ...plan.data.params },
    info: {
      kind: 'single',
      ...requestedRange(plan),
      series: plan.series,
      tag: settings.tag,
    } satisfies SeriesQueryInfo,
  };
}

export = (RED: NodeAPI) =>
  registerHttpQueryRequest(RED, {
    type: 'series-request',
    migrations: SERIES_REQUEST_MIGRATIONS,
    infoProperty: 'seriesQuery',
    parseSettings: (config: SeriesRequestConfig) => parseSettings(config),
    plan: planRequest,
  });
