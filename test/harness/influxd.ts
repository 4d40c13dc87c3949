/**
 * The real InfluxDB for tests: Debian's influxd on a free port in a temp dir. Fails
 * loudly (never skips) when influxd is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateInfluxd, type PrivateInfluxd } from '../../app/private-influxd';

export interface TestInfluxd extends PrivateInfluxd {
  /** Runs InfluxQL and returns the rows of the first series of the first statement. */
  query(q: string, database?: string): Promise<Record<string, unknown>[]>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

export async function startTestInfluxd(database = 'gridflow'): Promise<TestInfluxd> {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-influxd-'));
  const server = await startPrivateInfluxd(dir, { database });
  return Object.assign(server, {
    query: (q: string, db = database) => influxQuery(server.url, q, db),
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export async function influxQuery(
  url: string,
  q: string,
  database: string,
): Promise<Record<string, unknown>[]> {
  const params = new URLSearchParams({ db: database, q, epoch: 'ms' });
  const res = await fetch(`${url}/query?${params}`);
  const body = (await res.json()) as {
    results?: {
      error?: string;
      series?: { columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
    }[];
    error?: string;
  };
  if (body.error) throw new Error(body.error);
  const result = body.results?.[0];
  if (result?.error) throw new Error(result.error);
  const rows: Record<string, unknown>[] = [];
  for (const series of result?.series ?? []) {
    for (const values of series.values) {
      const row: Record<string, unknown> = { ...series.tags };
      series.columns.forEach((c, i) => (row[c] = values[i]));
      rows.push(row);
    }
  }
  return rows;
}
