/**
 * For nodes between `http in` and `http response`: what the request asked, and the msg
 * fields `http response` reads (`statusCode`, `headers`, `payload`). The msg keeps `req`
 * and `res`, which `http response` needs to answer.
 */
import { randomBytes } from 'node:crypto';
import type { Msg } from './node-red-types';

export interface HttpRequestParts {
  /** Route parameters (`/api/series/:series` → `{series}`). */
  params: Record<string, unknown>;
  /** Query string values (`?start=…`), strings or arrays of strings as express gives them. */
  query: Record<string, unknown>;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Route params and query from `msg.req`; without one (a msg from an inject), from `msg.payload`. */
export function httpRequestParts(msg: Msg): HttpRequestParts {
  const req = record(msg.req);
  if (msg.req) return { params: record(req.params), query: record(req.query) };
  const payload = record(msg.payload);
  return { params: payload, query: payload };
}

/** Sets the answer on the msg: status, JSON or text body, content type. */
export function setReply(
  msg: Msg,
  statusCode: number,
  payload: unknown,
  contentType = 'application/json; charset=utf-8',
): Msg {
  msg.statusCode = statusCode;
  msg.headers = { ...record(msg.headers), 'Content-Type': contentType };
  msg.payload = payload;
  return msg;
}

/** The rows of an influx-query result that are objects (a malformed payload may hold anything). */
export function objectRows(payload: unknown[]): Record<string, unknown>[] {
  return payload.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object');
}

/** Set by the app (app/start.ts) when it has no database: what the user should run or set. */
export const DATABASE_HINT_ENV = 'GRIDFLOW_DATABASE_HINT';

const NOT_CONFIGURED = /url is not set/i;

/** The error a Catch node put on the msg, when there is one. */
export function caughtError(msg: Msg): { message: string } | undefined {
  const error = msg.error;
  if (!error || typeof error !== 'object') return undefined;
  const message = (error as Record<string, unknown>).message;
  return { message: typeof message === 'string' ? message : String(message) };
}

export interface DatabaseErrorReply {
  requestId: string;
  /** What goes to the log: the database client's own words, tagged with the request id. */
  logText: string;
}

/**
 * A failed database query → 503 with a JSON error that says what to configure (no database
 * set up) or, for any other failure, a generic message with a request id: the database
 * client's text goes to the log only, never to the caller.
 */
export function setDatabaseErrorReply(
  msg: Msg,
  error: { message: string },
  env: NodeJS.ProcessEnv = process.env,
): DatabaseErrorReply {
  const requestId = randomBytes(6).toString('hex');
  const hint = env[DATABASE_HINT_ENV];
  const body = NOT_CONFIGURED.test(error.message)
    ? {
        error: `no database is configured: ${hint || 'set INFLUX_URL (and INFLUX_DB), or install influxd (InfluxDB 1.x) and restart the app'}`,
        requestId,
      }
    : {
        error: `the database query failed; the app log has the details under request ${requestId}`,
        requestId,
      };
  delete msg.error;
  setReply(msg, 503, body);
  return { requestId, logText: `request ${requestId}: database query failed: ${error.message}` };
}
