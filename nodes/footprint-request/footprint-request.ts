/**
 * footprint-request: `GET /api/carbon/:asset/footprint?date=&from=&to=&format=` from an
 * `http in` node → a bound InfluxQL query for `influx-query` (output 1), or a 400 answer
 * for `http response` (output 2). Validation and query text: nodes/core/footprint-query.ts;
 * the node itself: nodes/shared/http-query-request.ts.
 */
import { planFootprintQuery, type FootprintQueryInfo } from '../core/footprint-query';
import { quotePlainIdentifier } from '../core/series-query';
import {
  registerHttpQueryRequest,
  type HttpQueryPlan,
  type HttpQueryRequest,
} from '../shared/http-query-request';
import type { NodeAPI, NodeDef } from '../shared/node-red-types';
import { FOOTPRINT_REQUEST_MIGRATIONS } from './migrations';

interface FootprintRequestConfig extends NodeDef {
  measurement: string;
  tag: string;
}

interface FootprintRequestSettings {
  measurement: string;
  tag: string;
}

function parseSettings(config: FootprintRequestConfig): FootprintRequestSettings {
  const settings = {
    measurement: (config.measurement || 'carbon_footprint').trim(),
    tag: (config.tag || 'asset_id').trim(),
  };
  quotePlainIdentifier(settings.measurement, 'measurement');
  quotePlainIdentifier(settings.tag, 'tag');
  return settings;
}

function planRequest({ params, query }: HttpQueryRequest, settings: FootprintRequestSettings): HttpQueryPlan {
  const plan = planFootprintQuery(
    { asset: params.asset, date: query.date, from: query.from, to: query.to, format: query.format },
    settings,
  );
  if (!plan.ok) return { ok: false, status: plan.status, body: { error: plan.error } };
  return {
    ok: true,
    query: plan.query.query,
    params: plan.query.params,
    info: {
      assetId: plan.assetId,
      date: plan.date,
      from: plan.from,
      to: plan.to,
      format: plan.format,
    } satisfies FootprintQueryInfo,
  };
}

export = (RED: NodeAPI) =>
  registerHttpQueryRequest(RED, {
    type: 'footprint-request',
    migrations: FOOTPRINT_REQUEST_MIGRATIONS,
    infoProperty: 'footprintQuery',
    parseSettings,
    plan: planRequest,
  });
