/** The influx-connection config node's settings and the face it shows influx-write/-query. */
import type { Node, NodeDef } from './node-red-types';
import type { ApiVersion, InfluxHttp, InfluxSettings } from './influx-http';

export interface InfluxConnectionConfig extends NodeDef {
  url: string;
  apiVersion: string;
  database: string;
  retentionPolicy: string;
  org: string;
  bucket: string;
}
export interface InfluxConnectionCredentials {
  username?: string;
  password?: string;
  token?: string;
}

/** What influx-write and influx-query see of their connection node. */
export interface InfluxConnectionNode extends Node {
  settings: InfluxSettings;
  configured: boolean;
  /** A new client (own keep-alive agent) for one node; undefined when not configured. */
  createClient(): InfluxHttp | undefined;
}

/** A config value, unless blank or an unsubstituted `${VAR}`. */
function value(raw: string | undefined, fallback = ''): string {
  const text = (raw ?? '').trim();
  return text === '' || text.includes('${') ? fallback : text;
}

export function connectionSettings(
  config: Partial<InfluxConnectionConfig>,
  credentials: InfluxConnectionCredentials,
  env: NodeJS.ProcessEnv = process.env,
): InfluxSettings {
  const apiVersion = value(config.apiVersion, 'v1');
  if (apiVersion !== 'v1' && apiVersion !== 'v2')
    throw new Error(`apiVersion "${apiVersion}" is not v1 or v2`);
  return {
    url: value(config.url),
    apiVersion: apiVersion as ApiVersion,
    database: value(config.database, 'gridflow'),
    retentionPolicy: value(config.retentionPolicy),
    org: value(config.org),
    bucket: value(config.bucket, value(config.database, 'gridflow')),
    username: credentials.username || env.INFLUX_USER || '',
    password: credentials.password || env.INFLUX_PASSWORD || '',
    token: credentials.token || env.INFLUX_TOKEN || '',
  };
}
