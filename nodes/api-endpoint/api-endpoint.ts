/**
 * api-endpoint (config): base URL, API key (a credential, sent as a query parameter or
 * a header), extra headers (secret ones as a credential), request timeout and the rate
 * limit that every poller using this endpoint shares through one token bucket.
 */
import http from 'node:http';
import https from 'node:https';
import { TokenBucket } from '../core/token-bucket';
import { expandEnv, joinUrl, redact, withQueryParam } from '../core/api-targets';
import { configNumber } from '../shared/config-number';
import { credentialsOf, nodeSetting, type NodeAPI, type NodeDef } from '../shared/node-red-types';
import type { ApiEndpoint } from './api-endpoint-types';
import { registerNode } from '../shared/node-handler';
import { API_ENDPOINT_MIGRATIONS } from './migrations';

interface ApiEndpointConfig extends NodeDef {
  baseUrl: string;
  authIn: 'query' | 'header' | 'none';
  authName: string;
  keyRequired: boolean;
  keyEnv: string;
  headers: string;
  timeoutSeconds: string | number;
  rateRequests: string | number;
  ratePeriodSeconds: string | number;
  maxResponseMegabytes: string | number;
}

interface ApiEndpointCredentials {
  apiKey?: string;
  /** JSON object of header values kept out of the flow file (tokens, cookies). */
  secretHeaders?: string;
}

type Lookup = (name: string) => string | undefined;

/** Header names whose values are secrets, so a literal one in the flow file is warned about. */
const SECRET_HEADER = /authorization|token|secret|key|cookie|password|auth/i;

/** Parses a JSON object of header values, `${VAR}` expanded; throws a message saying what is wrong. */
function parseHeaders(text: string | undefined, what: string, lookup: Lookup) {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch (err) {
    parsed = (err as Error).message;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${what} must be a JSON object like {"User-Agent":"gridflow"}`);
  return Object.entries(parsed as Record<string, unknown>).map(([name, raw]) => {
    const expanded = expandEnv(String(raw), lookup);
    return { name, value: expanded.text, fromEnv: expanded.text !== String(raw) };
  });
}

export = (RED: NodeAPI) => {
  function ApiEndpointNode(this: ApiEndpoint, config: ApiEndpointConfig) {
    RED.nodes.createNode(this, config);
    const credentials = credentialsOf<ApiEndpointCredentials>(this);
    const lookup: Lookup = (name) => nodeSetting(RED, this, name) ?? process.env[name];

    let configError: string | undefined;
    const number = (
      raw: unknown,
      name: string,
      fallback: number,
      opts: Parameters<typeof configNumber>[3],
    ) => {
      try {
        return configNumber(raw, name, fallback, opts);
      } catch (err) {
        configError ??= (err as Error).message;
        return fallback;
      }
    };
    this.timeoutMs = number(config.timeoutSeconds, 'timeoutSeconds', 10, { min: 0.001 }) * 1000;
    this.maxBytes =
      number(config.maxResponseMegabytes, 'maxResponseMegabytes', 16, { min: 0.001 }) * 1_048_576;
    const rateRequests = number(config.rateRequests, 'rateRequests', 60, { min: 0.000001 });
    const ratePeriodMs = number(config.ratePeriodSeconds, 'ratePeriodSeconds', 60, { min: 0.001 }) * 1000;
    this.bucket = new TokenBucket({ requests: rateRequests, periodMs: ratePeriodMs });

    const base = expandEnv(String(config.baseUrl ?? '').trim(), lookup);
    if (base.missing.length > 0) configError ??= `base URL needs ${base.missing.join(', ')} (unset)`;

    const rawKey = String(credentials.apiKey ?? '').trim();
    const key = rawKey
      ? expandEnv(rawKey, lookup).text
      : config.keyEnv
        ? (lookup(String(config.keyEnv).trim()) ?? '').trim()
        : '';
    const authIn = config.authIn ?? 'query';
    const authName = String(config.authName ?? '').trim() || (authIn === 'header' ? 'x-api-key' : 'appid');
    const keyMissing = authIn !== 'none' && config.keyRequired !== false && !key;
    const secrets = key ? [key] : [];

    const headers: Record<string, string> = {};
    try {
      for (const { name, value, fromEnv } of parseHeaders(config.headers, 'headers', lookup)) {
        headers[name] = value;
        if (fromEnv)
          secrets.push(value); // came from env: may be a token
        else if (SECRET_HEADER.test(name) && value) {
          secrets.push(value);
          this.warn(
            `header "${name}" is stored in clear in the flow file: move it to Secret headers (a credential) or use \${ENV_VAR}`,
          );
        }
      }
      for (const { name, value } of parseHeaders(credentials.secretHeaders, 'secret headers', lookup)) {
        headers[name] = value;
        secrets.push(value);
      }
    } catch (err) {
      configError ??= (err as Error).message;
    }
    if (key && authIn === 'header') headers[authName] = key;

    const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

    this.problem = () => {
      if (configError) return configError;
      if (keyMissing)
        return `API key missing: set it in the endpoint${config.keyEnv ? ` or in env ${config.keyEnv}` : ''}`;
      return undefined;
    };
    this.redact = (text) => redact(text, secrets);
    this.prepare = (path) => {
      const joined = joinUrl(base.text, path);
      const safeUrl = key && authIn === 'query' ? withQueryParam(joined, authName, '***') : joined;
      const url = key && authIn === 'query' ? withQueryParam(joined, authName, key) : joined;
      return { url, safeUrl: redact(safeUrl, secrets), headers: { ...headers } };
    };
    this.agentFor = (url) => (url.startsWith('https:') ? agents.https : agents.http);
    if (configError) this.error(`api-endpoint "${config.name || config.id}": ${configError}`);

    this.on('close', (done: () => void) => {
      agents.http.destroy();
      agents.https.destroy();
      done();
    });
  }

  registerNode(RED, 'api-endpoint', API_ENDPOINT_MIGRATIONS, ApiEndpointNode, {
    apiKey: { type: 'password' },
    secretHeaders: { type: 'password' },
  });
};
