/**
 * For nodes between `http in` and `http response`: what the request asked, and the msg
 * fields `http response` reads (`statusCode`, `headers`, `payload`). The msg keeps `req`
 * and `res`, which `http response` needs to answer.
 */
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
