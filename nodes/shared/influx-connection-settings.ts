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
  /** Why the connection's own settings are unusable (e.g. an unknown apiVersion), if they are. */
  configError?: string;
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
    throw new Error(
      `apiVersion "${apiVersion}" is not v1 or v2` +
        (apiVersion === 'v3' ? ' (InfluxDB 3 serves the v1 and v2 APIs: choose one of them)' : ''),
    );
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

/** Why an influx-write/-query has no connection node: none chosen, or one that is gone. */
export function missingConnection(id: string | undefined): string {
  return id
    ? `influx-connection ${id} does not exist (deleted, or in a disabled flow): choose one in the node`
    : 'no influx-connection chosen: choose or add one in the node';
}
