/**
 * Which database the app uses: INFLUX_URL when set; else a private InfluxDB in the userDir,
 * installing influxd first (scripts/setup.sh start, as the test setup does) when it is
 * missing; else none, with the one command the user should run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { influxdInstalled, startPrivateInfluxd, type PrivateInfluxd } from './private-influxd';

export type DatabaseChoice =
  | { kind: 'external'; url: string; description: string }
  | { kind: 'private'; url: string; influx: PrivateInfluxd; description: string }
  | { kind: 'none'; hint: string; description: string };

/** setup.sh prints this prefix before the command it could not run itself. */
const RUN_PREFIX = 'setup: run: ';
export const DEFAULT_INSTALL_COMMAND = 'sudo apt-get install -y influxdb';

export interface SetupResult {
  exitCode: number | null;
  /** The command setup.sh asks the user to run, when it could not install. */
  command?: string;
}

/** Runs `bash scripts/setup.sh start`, passing its output through, and reads its verdict. */
export function runSetup(repoRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<SetupResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(repoRoot, 'scripts', 'setup.sh'), 'start'], {
      env,
      stdio: ['inherit', 'pipe', 'pipe'],
    });
    let output = '';
    const pass = (sink: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      sink.write(chunk);
    };
    child.stdout.on('data', pass(process.stdout));
    child.stderr.on('data', pass(process.stderr));
    child.once('error', (err) => {
      output += `${RUN_PREFIX}${DEFAULT_INSTALL_COMMAND}\n`;
      process.stderr.write(`gridflow: could not run scripts/setup.sh: ${err.message}\n`);
    });
    child.once('close', (exitCode) => {
      const line = output.split('\n').find((l) => l.startsWith(RUN_PREFIX));
      resolve({ exitCode, command: line?.slice(RUN_PREFIX.length).trim() });
    });
  });
}

function noDatabaseHint(command: string): string {
  return `INFLUX_URL is unset and influxd is not installed: run \`${command}\` and restart the app, or set INFLUX_URL (and INFLUX_DB) to your InfluxDB`;
}

export async function chooseDatabase(
  userDir: string,
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = console.log,
): Promise<DatabaseChoice> {
  if (env.INFLUX_URL) return { kind: 'external', url: env.INFLUX_URL, description: env.INFLUX_URL };
  if (!influxdInstalled()) {
    log(
      'gridflow: INFLUX_URL is unset and influxd is missing: installing InfluxDB 1.x (scripts/setup.sh start)',
    );
    const setup = await runSetup(repoRoot, env);
    if (!influxdInstalled()) {
      const hint = noDatabaseHint(setup.command || DEFAULT_INSTALL_COMMAND);
      return { kind: 'none', hint, description: 'none (writes wait in the disk buffer)' };
    }
  }
  try {
    const dir = join(userDir, 'influxdb');
    const influx = await startPrivateInfluxd(dir, { database: env.INFLUX_DB || 'gridflow' });
    return {
      kind: 'private',
      url: influx.url,
      influx,
      description: `private InfluxDB at ${influx.url} (data in ${influx.dir})`,
    };
  } catch (err) {
    const hint = `the private InfluxDB did not start (${(err as Error).message}; see ${join(userDir, 'influxdb', 'influxd.log')}): fix it and restart the app, or set INFLUX_URL`;
    return { kind: 'none', hint, description: 'none (writes wait in the disk buffer)' };
  }
}
