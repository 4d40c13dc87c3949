/**
 * Retention per rollup level (docs/adr/0090): the app creates `rollup_1m`, `rollup_15m`,
 * `rollup_1h` and `rollup_1d` on the InfluxDB 1.x database before the flows start, with the
 * durations of GRIDFLOW_RETENTION (e.g. `raw=30d,1m=365d`; unnamed levels keep their data
 * forever). `raw` sets the duration of the database's default policy, where every tab's raw
 * points live.
 */
export const ROLLUP_LEVEL_NAMES = ['1m', '15m', '1h', '1d'] as const;
export type RetentionLevel = 'raw' | (typeof ROLLUP_LEVEL_NAMES)[number];

/** `rollup_<level>`: the policy series-rollup writes each level to and series-request reads. */
export function rollupPolicyName(level: string): string {
  return `rollup_${level}`;
}

/** "raw=30d,1m=365d,1d=INF" → durations in InfluxQL form; throws naming the bad entry. */
export function parseRetention(text: string | undefined): Map<RetentionLevel, string> {
  const durations = new Map<RetentionLevel, string>();
  for (const entry of (text ?? '').split(',')) {
    if (!entry.trim()) continue;
    const m = /^\s*(raw|1m|15m|1h|1d)\s*=\s*(INF|inf|[1-9]\d{0,6}[hdw])\s*$/.exec(entry);
    if (!m) {
      throw new Error(
        `GRIDFLOW_RETENTION entry "${entry.trim()}" must be <raw|1m|15m|1h|1d>=<whole number of h, d or w, or INF>, e.g. raw=30d,1m=52w`,
      );
    }
    durations.set(m[1] as RetentionLevel, m[2].toUpperCase() === 'INF' ? 'INF' : m[2]);
  }
  return durations;
}

/** The InfluxQL statements that set retention up; each is idempotent. */
export function retentionStatements(database: string, durations: Map<RetentionLevel, string>): string[] {
  const db = `"${database.replace(/"/g, '\\"')}"`;
  const statements = [`CREATE DATABASE ${db}`];
  for (const level of ROLLUP_LEVEL_NAMES) {
    const policy = `"${rollupPolicyName(level)}" ON ${db} DURATION ${durations.get(level) ?? 'INF'} REPLICATION 1`;
    // CREATE fails when the policy exists with another duration: ALTER sets it then
    statements.push(`CREATE RETENTION POLICY ${policy}`, `ALTER RETENTION POLICY ${policy}`);
  }
  const raw = durations.get('raw');
  if (raw) statements.push(`ALTER RETENTION POLICY "autogen" ON ${db} DURATION ${raw}`);
  return statements;
}

/**
 * Runs the statements against an InfluxDB 1.x `/query`. A statement the server refuses
 * (no admin rights, a policy it cannot alter) is reported, not fatal: writes to a missing
 * policy wait in influx-write's buffer.
 */
export async function setUpRetention(
  url: string,
  database: string,
  durations: Map<RetentionLevel, string>,
  auth: { username?: string; password?: string } = {},
): Promise<string[]> {
  const problems: string[] = [];
  const headers: Record<string, string> = {};
  if (auth.username || auth.password) {
    headers.Authorization = `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`;
  }
  const statements = retentionStatements(database, durations);
  for (let i = 0; i < statements.length; i++) {
    const q = statements[i];
    const res = await fetch(`${url.replace(/\/+$/, '')}/query`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ q }),
    });
    const text = await res.text();
    const createOfExisting = q.startsWith('CREATE RETENTION POLICY') && /already exists/.test(text);
    if ((!res.ok || /"error"/.test(text)) && !createOfExisting) problems.push(`${q}: ${text.trim()}`);
  }
  return problems;
}
