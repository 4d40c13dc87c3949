/**
 * HTTP to InfluxDB for the influx-* nodes: line-protocol writes over keep-alive (v1
 * `/write`, v2 `/api/v2/write`), InfluxQL queries with bound params, Flux queries through
 * @influxdata/influxdb-client (docs/adr/0022). No Node-RED here.
 */
import http from 'node:http';
import https from 'node:https';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Precision } from '../core/line-protocol';
import { quoteIdentifier } from '../core/influxql';
import { OncePerKey } from '../core/lru-keys';

const CREATED_DATABASES_MAX = 1000;

export type ApiVersion = 'v1' | 'v2';

export interface InfluxSettings {
  url: string;
  apiVersion: ApiVersion;
  database: string;
  retentionPolicy: string;
  org: string;
  bucket: string;
  username: string;
  password: string;
  token: string;
}

/** Where a batch goes: v1 database + retention policy, or v2 org + bucket. */
export interface WriteTarget {
  database?: string;
  retentionPolicy?: string;
  org?: string;
  bucket?: string;
}

export type WriteOutcome =
  | { kind: 'ok' }
  /** Not retried: the server refused the points themselves (400/422 and other 4xx). */
  | { kind: 'rejected'; status: number; message: string }
  /** Retried later: unreachable, 5xx, 429, auth, database missing after creating it. */
  | { kind: 'retry'; status?: number; message: string; retryAfter?: string };

/**
 * Which missing v1 databases a write may create: only the connection's own ("configured"),
 * whatever a msg names ("any"), or none; a database it may not create rejects the batch.
 */
export type CreateDatabases = 'configured' | 'any' | 'none';
export const CREATE_DATABASES: readonly CreateDatabases[] = ['configured', 'any', 'none'];

const V1_PRECISION: Record<Precision, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };
/** Statuses that mean "not now" rather than "not these points". */
const RETRY_4XX = new Set([401, 403, 404, 408, 425, 429]);

/** A url that Node-RED left with `${VAR}` in it (unset env) or blank: not configured. */
export function isConfiguredUrl(url: string | undefined): boolean {
  if (!url || !url.trim() || url.includes('${')) return false;
  try {
    const u = new URL(url.trim());
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export class InfluxHttp {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly request: typeof http.request;
  /** Databases created once each; bounded, as msg.database may name many (createDatabases "any"). */
  private readonly createdDatabases = new OncePerKey(CREATED_DATABASES_MAX);
  private fluxClient: InfluxDB | undefined;
  createDatabases: CreateDatabases = 'configured';

  constructor(
    readonly settings: InfluxSettings,
    private readonly timeoutMs = 20_000,
  ) {
    this.base = new URL(settings.url.trim().replace(/\/+$/, '') + '/');
    const secure = this.base.protocol === 'https:';
    this.request = secure ? https.request : http.request;
    this.agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 4 })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  /** Headers that carry the credentials: `Token` when there is one, else Basic for v1. */
  private authHeaders(): Record<string, string> {
    const { token, username, password, apiVersion } = this.settings;
    if (token) return { Authorization: `Token ${token}` };
    if (apiVersion === 'v1' && (username || password))
      return { Authorization: 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64') };
    return {};
  }

  writePath(target: WriteTarget, precision: Precision): string {
    const q = new URLSearchParams();
    if (this.settings.apiVersion === 'v2') {
      q.set('org', target.org ?? this.settings.org);
      q.set('bucket', target.bucket ?? this.settings.bucket);
      q.set('precision', precision);
      return 'api/v2/write?' + q;
    }
    q.set('db', target.database ?? this.settings.database);
    const rp = target.retentionPolicy ?? this.settings.retentionPolicy;
    if (rp) q.set('rp', rp);
    q.set('precision', V1_PRECISION[precision]);
    return 'write?' + q;
  }

  private mayCreate(database: string): boolean {
    if (this.createDatabases === 'any') return true;
    return this.createDatabases === 'configured' && database === this.settings.database;
  }

  /** POSTs a line-protocol body; creates a missing v1 database (if allowed) once and tries again. */
  async write(target: WriteTarget, precision: Precision, body: Buffer): Promise<WriteOutcome> {
    const outcome = await this.post(this.writePath(target, precision), body, 'text/plain; charset=utf-8');
    if (outcome.kind === 'retry' && outcome.status === 404 && this.settings.apiVersion === 'v1') {
      const database = target.database ?? this.settings.database;
      if (!/database not found/i.test(outcome.message)) return outcome;
      if (!this.mayCreate(database))
        return {
          kind: 'rejected',
          status: 404,
          message: `database "${database}" does not exist, and createDatabases is "${this.createDatabases}" (create it, or allow "any")`,
        };
      if (this.createdDatabases.first(database)) {
        const created = await this.post(
          'query',
          Buffer.from(new URLSearchParams({ q: `CREATE DATABASE ${quoteIdentifier(database)}` }).toString()),
          'application/x-www-form-urlencoded',
        );
        if (created.kind !== 'ok')
          return {
            ...created,
            kind: 'retry',
            message: `CREATE DATABASE: ${created.message}`,
          } as WriteOutcome;
        return this.post(this.writePath(target, precision), body, 'text/plain; charset=utf-8');
      }
    }
    return outcome;
  }

  private post(path: string, body: Buffer, contentType: string): Promise<WriteOutcome & { text?: string }> {
    return new Promise((resolve) => {
      const url = new URL(path, this.base);
      const req = this.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': contentType, 'Content-Length': body.length, ...this.authHeaders() },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => resolve({ kind: 'retry', message: err.message }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status >= 200 && status < 300) return resolve({ kind: 'ok', text });
            const message = errorMessage(text, res.headers['x-influxdb-error'], status);
            if (status >= 500 || RETRY_4XX.has(status)) {
              const retryAfter = res.headers['retry-after'];
              return resolve({
                kind: 'retry',
                status,
                message,
                retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
              });
            }
            resolve({ kind: 'rejected', status, message });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ kind: 'retry', message: err.code ?? err.message }),
      );
      req.end(body);
    });
  }

  /** InfluxQL with bound params (JSON text); rows of every series of every statement. */
  async influxql(query: string, paramsJson: string, database?: string): Promise<Record<string, unknown>[]> {
    const form = new URLSearchParams({ q: query, epoch: 'ms' });
    const db = database ?? this.settings.database;
    if (db) form.set('db', db);
    if (this.settings.retentionPolicy) form.set('rp', this.settings.retentionPolicy);
    if (paramsJson && paramsJson !== '{}') form.set('params', paramsJson);
    const res = await this.post('query', Buffer.from(form.toString()), 'application/x-www-form-urlencoded');
    if (res.kind !== 'ok') throw new Error(`InfluxDB answered ${res.status ?? res.message}: ${res.message}`);
    return influxqlRows(res.text ?? '');
  }

  /** Flux through the official client (v2 query API); rows as objects. */
  async flux(script: string, org?: string): Promise<Record<string, unknown>[]> {
    this.fluxClient ??= new InfluxDB({
      url: this.base.href.replace(/\/$/, ''),
      token: this.settings.token || undefined,
      timeout: this.timeoutMs,
    });
    return this.fluxClient.getQueryApi(org ?? this.settings.org).collectRows(script);
  }

  close(): void {
    this.agent.destroy();
  }
}

function errorMessage(text: string, header: string | string[] | undefined, status: number): string {
  try {
    const body = JSON.parse(text) as { error?: string; message?: string };
    if (body.error || body.message) return String(body.error ?? body.message);
  } catch {
    // not JSON
  }
  if (typeof header === 'string' && header) return header;
  return text.trim().slice(0, 500) || `HTTP ${status}`;
}

interface InfluxqlResponse {
  error?: string;
  results?: {
    error?: string;
    series?: { columns: string[]; values?: unknown[][]; tags?: Record<string, string> }[];
  }[];
}

/** Rows of an InfluxQL JSON answer, `time` as ISO-8601 UTC; throws the server's error. */
export function influxqlRows(text: string): Record<string, unknown>[] {
  const body = JSON.parse(text) as InfluxqlResponse;
  if (body.error) throw new Error(body.error);
  const rows: Record<string, unknown>[] = [];
  for (const result of body.results ?? []) {
    if (result.error) throw new Error(result.error);
    for (const series of result.series ?? []) {
      for (const values of series.values ?? []) {
        const row: Record<string, unknown> = { ...series.tags };
        series.columns.forEach((column, i) => {
          const v = values[i];
          row[column] = column === 'time' && typeof v === 'number' ? new Date(v).toISOString() : v;
        });
        rows.push(row);
      }
    }
  }
  return rows;
}
