/**
 * A private InfluxDB 1.x (Debian's `influxd`) in a directory of ours, on free loopback
 * ports: the app's default database when INFLUX_URL is unset, and the tests' real server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { stopChild } from './stop-child';
import { quoteIdentifier } from '../nodes/core/influxql';

export const INFLUXD_INSTALL_HINT =
  'influxd (InfluxDB 1.x) is not installed: run `sudo apt-get install -y influxdb` (Debian/Ubuntu), ' +
  'or `npm test`, whose setup installs it';

export interface PrivateInfluxd {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s). Data stays in `dir`. */
  stop(): Promise<void>;
  /** Kills the server at once, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  readonly running: boolean;
}

export function influxdInstalled(): boolean {
  return spawnSync('influxd', ['version'], { stdio: 'ignore' }).status === 0;
}

function configText(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
  max-series-per-database = 0
  max-values-per-tag = 0
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  pprof-enabled = false
  max-body-size = 0
[logging]
  level = "warn"
  suppress-logo = true
`;
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`influxd exited with code ${child.exitCode} while starting`);
    try {
      const res = await fetch(`${url}/ping`);
      if (res.status === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`influxd did not answer ${url}/ping within ${timeoutMs} ms`);
}

export async function startPrivateInfluxd(
  dir: string,
  { database = 'gridflow', timeoutMs = 30_000 } = {},
): Promise<PrivateInfluxd> {
  if (!influxdInstalled()) throw new Error(INFLUXD_INSTALL_HINT);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const rpcPort = await freePort();
  const configPath = join(dir, 'influxdb.conf');
  writeFileSync(configPath, configText(dir, port, rpcPort));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const pidFile = join(dir, 'influxd.pid');
  const launch = async () => {
    await killLeftover(pidFile);
    const log = openSync(join(dir, 'influxd.log'), 'a');
    child = spawn('influxd', ['-config', configPath], { stdio: ['ignore', log, log] });
    writeFileSync(pidFile, String(child.pid));
    await waitForPing(url, child, timeoutMs);
  };
  const waitExit = (signal: NodeJS.Signals) => stopChild(child, signal);

  await launch();
  if (database) await createDatabase(url, database);
  return {
    url,
    port,
    dir,
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    restart: launch,
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
  };
}

/** An influxd left running by a crashed app holds the data dir's lock: stop it first. */
async function killLeftover(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0 || !isInfluxd(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isInfluxd(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isInfluxd(pid)) process.kill(pid, 'SIGKILL');
}

function isInfluxd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('influxd');
  } catch {
    return false;
  }
}

/** CREATE DATABASE (idempotent in InfluxDB 1.x). */
export async function createDatabase(url: string, database: string): Promise<void> {
  const body = new URLSearchParams({ q: `CREATE DATABASE ${quoteIdentifier(database)}` });
  const res = await fetch(`${url}/query`, { method: 'POST', body });
  if (!res.ok) throw new Error(`CREATE DATABASE ${database} failed: ${res.status} ${await res.text()}`);
}
