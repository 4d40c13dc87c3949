/**
 * A real HTTP server on a free port that replays recorded API responses (files in
 * test/fixtures/ or generated bodies) with scripted faults, and logs every request with
 * its time (Date.now(), so sinon fake time when a test fakes it).
 *
 *   const api = await startReplayServer();
 *   api.fixture('/dataset/PowerSystemRightNow', 'statnett/PowerSystemRightNow_sample_2024-07-05....json');
 *   api.route('/data/3.0/onecall', (req) => oneCallWithRain({ lat: +req.query.get('lat')!, ... }));
 *   api.fault('/data/3.0/onecall', { kind: 'status', status: 429, retryAfter: '2' }, { kind: 'garbage' });
 *   ... api.requests('/data/3.0/onecall') ... await api.close();
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplayRequest {
  method: string;
  path: string; // pathname
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

export interface LoggedRequest extends ReplayRequest {
  time: number; // Date.now() at arrival
  url: string; // path + query as received
  outcome: string; // "200", "429", "hang", "garbage", ...
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'hang' } // never answers; the client must time out
  | { kind: 'delay'; ms: number } // answers normally after ms (real or fake time)
  | { kind: 'garbage' } // 200 with an HTML error page
  | { kind: 'truncated' } // 200 with the normal JSON cut in half
  | { kind: 'large'; factor?: number } // the normal body with its biggest list repeated (100×)
  | { kind: 'reset' }; // socket destroyed without a response

/** A body (JSON-able value) for a request, or a full response. */
export type Responder = (req: ReplayRequest) => unknown;

export interface ReplayServer {
  url: string;
  port: number;
  log: LoggedRequest[];
  /** Requests being answered right now (hung ones included). */
  readonly inFlight: number;
  /** Requests being answered right now, hung ones not counted: 0 = nothing on its way back. */
  readonly answering: number;
  /** Hung requests still open. */
  readonly hanging: number;
  /** Answer `path` with the value (as JSON) or with what the responder returns. */
  route(path: string, body: Responder | object): ReplayServer;
  /** Answer `path` with a file from test/fixtures/ (served as is). */
  fixture(path: string, fixtureFile: string): ReplayServer;
  /** Faults for the next requests to `path` ('*' = any path), one per request, in order. */
  fault(path: string, ...faults: Fault[]): ReplayServer;
  requests(path?: string): LoggedRequest[];
  /** Stop accepting connections (clients get "connection refused") / accept again, same port. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  close(): Promise<void>;
}

export const FIXTURES_DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures');

export function readFixture(file: string): string {
  return readFileSync(join(FIXTURES_DIR, file), 'utf8');
}

export async function startReplayServer(): Promise<ReplayServer> {
  const routes = new Map<string, Responder>();
  const faults = new Map<string, Fault[]>();
  const sockets = new Set<Socket>();
  const log: LoggedRequest[] = [];
  let inFlight = 0;
  let hung = 0;

  const nextFault = (path: string): Fault | undefined =>
    faults.get(path)?.shift() ?? faults.get('*')?.shift();

  const server = http.createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://replay');
    const request: ReplayRequest = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      query: parsed.searchParams,
      headers: req.headers,
    };
    const entry: LoggedRequest = { ...request, time: Date.now(), url: req.url ?? '/', outcome: '' };
    log.push(entry);
    inFlight++;
    let counted = true;
    const done = () => {
      if (counted) {
        inFlight--;
        if (entry.outcome === 'hang') hung--;
      }
      counted = false;
    };
    res.on('close', done);
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      entry.outcome ||= String(status);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };
    const responder = routes.get(request.path);
    const normalBody = (): string | undefined => {
      if (!responder) return undefined;
      const value = responder(request);
      return typeof value === 'string' ? value : JSON.stringify(value);
    };
    const answer = () => {
      const body = normalBody();
      if (body === undefined) return send(404, JSON.stringify({ error: `no route for ${request.path}` }));
      send(200, body);
    };
    const fault = nextFault(request.path);
    if (!fault) return answer();
    switch (fault.kind) {
      case 'status':
        entry.outcome = String(fault.status);
        return send(
          fault.status,
          fault.body ?? JSON.stringify({ error: `scripted ${fault.status}` }),
          fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
        );
      case 'hang':
        entry.outcome = 'hang';
        hung++;
        return;
      case 'delay':
        entry.outcome = 'delay';
        setTimeout(answer, fault.ms);
        return;
      case 'garbage':
        entry.outcome = 'garbage';
        return send(200, '<html><body>502 Bad Gateway from a proxy</body></html>', {
          'content-type': 'text/html',
        });
      case 'truncated': {
        entry.outcome = 'truncated';
        const body = normalBody() ?? '{"records":[]}';
        return send(200, body.slice(0, Math.floor(body.length / 2)));
      }
      case 'large': {
        entry.outcome = 'large';
        const body = normalBody();
        if (body === undefined) return answer();
        return send(200, JSON.stringify(multiplyLists(JSON.parse(body), fault.factor ?? 100)));
      }
      case 'reset':
        entry.outcome = 'reset';
        req.socket.destroy();
        return;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;

  const api: ReplayServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    get inFlight() {
      return inFlight;
    },
    get answering() {
      return inFlight - hung;
    },
    get hanging() {
      return hung;
    },
    route(path, body) {
      routes.set(path, typeof body === 'function' ? (body as Responder) : () => body);
      return api;
    },
    fixture(path, file) {
      const text = readFixture(file);
      routes.set(path, () => text);
      return api;
    },
    fault(path, ...list) {
      faults.set(path, [...(faults.get(path) ?? []), ...list]);
      return api;
    },
    requests(path) {
      return path ? log.filter((r) => r.path === path) : [...log];
    },
    refuse: stopListening,
    accept: () => listen(port),
    close: async () => {
      if (server.listening) await stopListening();
    },
  };
  return api;
}

/** The body with every top-level list repeated `factor` times (a "100× response"). */
function multiplyLists(body: unknown, factor: number): unknown {
  if (Array.isArray(body)) return Array.from({ length: factor }, () => body).flat();
  if (!body || typeof body !== 'object') return body;
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => [
      k,
      Array.isArray(v) ? Array.from({ length: factor }, () => v).flat() : v,
    ]),
  );
}

/** The Energi Data Service record template: the newest record of the 2024-07-05 fixture. */
export function powerSystemRecordTemplate(): Record<string, number | string | null> {
  const body = JSON.parse(
    readFixture('statnett/PowerSystemRightNow_sample_2024-07-05.extracted_from_code_example.json'),
  ) as { records: Record<string, number | string | null>[] };
  return body.records[0];
}

/**
 * A PowerSystemRightNow response as `start=now-PT<minutes>M` returns it at `nowMs`:
 * one record per whole minute in (now - minutes, now], newest first, zone-less UTC times.
 * `valueAt(field, minuteMs)` sets the numbers (default: the fixture's values).
 */
export function powerSystemRightNow({
  nowMs,
  minutes = 10,
  valueAt,
}: {
  nowMs: number;
  minutes?: number;
  valueAt?: (field: string, minuteMs: number, fixtureValue: number) => number | null;
}): { total: number; limit: number; dataset: string; records: Record<string, unknown>[] } {
  const template = powerSystemRecordTemplate();
  const newest = Math.floor(nowMs / 60_000) * 60_000;
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < minutes; i++) {
    const t = newest - i * 60_000;
    const record: Record<string, unknown> = {
      Minutes1UTC: new Date(t).toISOString().slice(0, 19),
      Minutes1DK: new Date(t + 2 * 3_600_000).toISOString().slice(0, 19),
    };
    for (const [field, value] of Object.entries(template)) {
      if (field === 'Minutes1UTC' || field === 'Minutes1DK') continue;
      record[field] = typeof value === 'number' && valueAt ? valueAt(field, t, value) : value;
    }
    records.push(record);
  }
  return { total: 3_000_000, limit: 100, dataset: 'PowerSystemRightNow', records };
}

/**
 * A One Call 3.0 response for (lat, lon) at `nowMs`, shaped like the recorded samples
 * (test/fixtures/owm), with `minutely` precipitation in mm/h from `rainMmPerHour(i)`
 * for minute i = 0…60 (default: the same rate for every minute).
 */
export function oneCallWithRain({
  lat,
  lon,
  nowMs,
  rainMmPerHour,
}: {
  lat: number;
  lon: number;
  nowMs: number;
  rainMmPerHour: number | ((minute: number) => number);
}): Record<string, unknown> {
  const sample = JSON.parse(readFixture('owm/onecall_devights.json')) as Record<string, unknown>;
  const nowSec = Math.floor(nowMs / 1000);
  const firstMinute = Math.floor(nowSec / 60) * 60;
  const rate = typeof rainMmPerHour === 'number' ? () => rainMmPerHour : rainMmPerHour;
  return {
    ...sample,
    lat,
    lon,
    current: { ...(sample.current as object), dt: nowSec },
    minutely: Array.from({ length: 61 }, (_x, i) => ({ dt: firstMinute + i * 60, precipitation: rate(i) })),
  };
}
