/**
 * A NATS JetStream cluster of Debian's `nats-server` processes on free loopback ports:
 * clustered, JetStream on, the MQTT listener on, and the partition mapping that sends
 * `gridflow.in.<stream>.<key>` to `gridflow.part.<p>.<stream>.<key>` (docs/scale-out.md).
 * Used by `npm run cluster` and by the tests (test/harness/nats-cluster.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../app/free-port';
import { stopChild } from '../app/stop-child';
import { partitionMapping } from '../nodes/nats-connection/nats-streams';

export const NATS_SERVER_INSTALL_HINT =
  'nats-server is not installed: run `sudo apt-get install -y nats-server` (Debian 12 ships 2.9), ' +
  'or `bash scripts/setup.sh`, which installs it';

export interface NatsServerProcess {
  name: string;
  clientPort: number;
  mqttPort: number;
  url: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM (lame duck skipped), waits for the exit. */
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts it again with the same ports and store. */
  start(): Promise<void>;
}

export interface NatsCluster {
  servers: NatsServerProcess[];
  /** Every server's client URL, for a client that may use any of them. */
  urls: string[];
  partitions: number;
  stop(): Promise<void>;
}

export function natsServerInstalled(): boolean {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

interface Ports {
  client: number;
  cluster: number;
  http: number;
  mqtt: number;
}

function configText(name: string, dir: string, own: Ports, all: Ports[], partitions: number): string {
  const routes = all
    .filter((p) => p !== own)
    .map((p) => `nats-route://127.0.0.1:${p.cluster}`)
    .join(', ');
  const mapping = partitionMapping(partitions);
  // A lone server (tests) runs JetStream standalone: a cluster block would wait for peers.
  // MQTT session/message streams R3: left to itself 2.9 made them R2 here, and a server stop
  // then left $MQTT_sess without quorum, so no MQTT client could (re)connect (docs/scale-out.md).
  const mqttReplicas = all.length >= 3 ? '  stream_replicas: 3\n' : '';
  const cluster =
    all.length > 1
      ? `cluster {
  name: gridflow
  listen: 127.0.0.1:${own.cluster}
  routes: [${routes}]
}
`
      : '';
  return `server_name: ${name}
listen: 127.0.0.1:${own.client}
http: 127.0.0.1:${own.http}
max_payload: 8MB
jetstream {
  store_dir: "${join(dir, 'jetstream')}"
  max_memory_store: 256MB
  max_file_store: 4GB
}
${cluster}mqtt {
  listen: 127.0.0.1:${own.mqtt}
${mqttReplicas}}
mappings {
  "${mapping.from}": "${mapping.to}"
}
`;
}

/** nats-server could not bind a port: another process took it between freePort() and the start. */
class PortTakenError extends Error {}

function lastLines(path: string, n: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join(' | ');
  } catch {
    return '';
  }
}

async function waitHealthy(
  httpPort: number,
  child: ChildProcess,
  timeoutMs: number,
  logPath: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = lastLines(logPath, 3);
      const message = `nats-server exited with code ${child.exitCode} while starting: ${log}`;
      throw /address already in use/i.test(log) ? new PortTakenError(message) : new Error(message);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nats-server did not report healthy on port ${httpPort} within ${timeoutMs} ms`);
}

function serverProcess(name: string, dir: string, ports: Ports, configPath: string): NatsServerProcess {
  let child: ChildProcess | undefined;
  const exited = (signal: NodeJS.Signals) => stopChild(child, signal);
  return {
    name,
    clientPort: ports.client,
    mqttPort: ports.mqtt,
    url: `nats://127.0.0.1:${ports.client}`,
    get pid() {
      return child?.pid;
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    stop: () => exited('SIGTERM'),
    kill: () => exited('SIGKILL'),
    start: async () => {
      const logPath = join(dir, 'nats-server.log');
      const log = openSync(logPath, 'a');
      child = spawn('nats-server', ['-c', configPath], { stdio: ['ignore', log, log] });
      await waitHealthy(ports.http, child, 30_000, logPath);
    },
  };
}

const START_ATTEMPTS = 3;

/**
 * Starts `size` clustered servers in `dir` and waits until every one is healthy. Ports are
 * picked free but may be taken by another process before nats-server binds them: then the
 * cluster is started again on new ports (up to START_ATTEMPTS times).
 */
export async function startNatsCluster(dir: string, { size = 3, partitions = 8 } = {}): Promise<NatsCluster> {
  if (!natsServerInstalled()) throw new Error(NATS_SERVER_INSTALL_HINT);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNatsClusterOnce(dir, size, partitions);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

async function startNatsClusterOnce(dir: string, size: number, partitions: number): Promise<NatsCluster> {
  const ports: Ports[] = [];
  for (let i = 0; i < size; i++) {
    ports.push({
      client: await freePort(),
      cluster: await freePort(),
      http: await freePort(),
      mqtt: await freePort(),
    });
  }
  const servers = ports.map((own, i) => {
    const name = `n${i + 1}`;
    const serverDir = join(dir, name);
    rmSync(serverDir, { recursive: true, force: true }); // a failed attempt's store and log
    mkdirSync(serverDir, { recursive: true });
    const configPath = join(serverDir, 'nats-server.conf');
    writeFileSync(configPath, configText(name, serverDir, own, ports, partitions));
    return serverProcess(name, serverDir, own, configPath);
  });
  // Health needs a JetStream meta leader, which needs a quorum: start all, then wait.
  const started = await Promise.allSettled(servers.map((s) => s.start()));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  return {
    servers,
    urls: servers.map((s) => s.url),
    partitions,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
