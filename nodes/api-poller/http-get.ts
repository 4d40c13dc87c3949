/**
 * One GET with a hard timeout (set with the global setTimeout, so fake timers drive it
 * in tests), a body size cap and JSON decoding. Every outcome is a value, never a throw:
 * the poll loop decides what to retry.
 */
import http from 'node:http';
import https from 'node:https';

export type GetOutcome =
  | { kind: 'ok'; status: number; body: unknown; bytes: number }
  | { kind: 'http'; status: number; text: string; retryAfter?: string }
  | { kind: 'malformed'; status: number; firstBytes: string; reason: string }
  | { kind: 'network'; reason: string } // refused, reset, DNS, too large
  | { kind: 'timeout'; afterMs: number };

export interface GetOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
  agent?: http.Agent;
}

export interface PendingGet {
  result: Promise<GetOutcome>;
  abort(): void;
}

let active = 0;

/** GETs in flight in this process (tests wait for 0 before moving fake time on). */
export function activeRequests(): number {
  return active;
}

export function httpGet(url: string, { headers, timeoutMs, maxBytes, agent }: GetOptions): PendingGet {
  let abort = () => {};
  const result = new Promise<GetOutcome>((resolve) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    active++;
    const timer = setTimeout(() => {
      finish({ kind: 'timeout', afterMs: timeoutMs });
      req?.destroy();
    }, timeoutMs);
    const finish = (outcome: GetOutcome) => {
      if (settled) return;
      settled = true;
      active--;
      clearTimeout(timer);
      resolve(outcome);
    };
    const client = url.startsWith('https:') ? https : http;
    try {
      req = client.get(url, { headers: { accept: 'application/json', ...headers }, agent }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            finish({ kind: 'network', reason: `response larger than ${maxBytes} bytes; stopped reading` });
            req?.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => finish({ kind: 'network', reason: describe(err) }));
        res.on('aborted', () => finish({ kind: 'network', reason: 'connection closed mid-response' }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const retryAfter = res.headers['retry-after'];
            return finish({
              kind: 'http',
              status,
              text,
              retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            });
          }
          try {
            finish({ kind: 'ok', status, body: JSON.parse(text), bytes });
          } catch (err) {
            finish({
              kind: 'malformed',
              status,
              firstBytes: text.slice(0, 80),
              reason: (err as Error).message,
            });
          }
        });
      });
    } catch (err) {
      return finish({ kind: 'network', reason: describe(err) });
    }
    req?.on('error', (err) => finish({ kind: 'network', reason: describe(err) }));
    abort = () => {
      finish({ kind: 'network', reason: 'aborted' });
      req?.destroy();
    };
  });
  return { result, abort: () => abort() };
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNREFUSED') return 'connection refused';
  if (e?.code === 'ECONNRESET') return 'connection reset';
  if (e?.code === 'ENOTFOUND') return 'host not found';
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}
