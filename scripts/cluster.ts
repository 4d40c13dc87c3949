/**
 * `npm run cluster`: a scale-out demo on this machine, each part on its own free loopback
 * ports under CLUSTER_DIR [.gridflow/cluster]: 3 clustered nats-server (JetStream, MQTT,
 * the partition mapping), an InfluxDB and CLUSTER_WORKERS [2] gridflow apps running the
 * "Scale-out worker" tab. Prints `gridflow cluster ready: <json>` when all are up;
 * Ctrl-C or SIGTERM stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect } from 'nats';
import { freePort } from '../app/free-port';
import { startPrivateInfluxd, type PrivateInfluxd } from '../app/private-influxd';
import { ensureStreamLayout } from '../nodes/nats-connection/nats-streams';
import { startNatsCluster, type NatsCluster } from './cluster-nats';

const repoRoot = resolve(__dirname, '..', '..');
const START_SCRIPT = join(repoRoot, 'dist', 'app', 'start.js');
const PARTITIONS = 8; // as the worker tab's nats-in node

interface Worker {
  id: string;
  http: string;
  child: ChildProcess;
}

function startWorker(id: string, dir: string, env: Record<string, string>): Promise<Worker> {
  return (async () => {
    const port = await freePort();
    const mqttPort = await freePort();
    const child = spawn(process.execPath, [START_SCRIPT], {
      env: {
        ...process.env,
        ...env,
        GRIDFLOW_USER_DIR: join(dir, id),
        GRIDFLOW_WORKER_ID: id,
        PORT: String(port),
        MQTT_PORT: String(mqttPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolveReady, reject) => {
      let output = '';
      const onData = (d: Buffer) => {
        output += d.toString();
        process.stderr.write(d.toString().replace(/^(?=.)/gm, `[${id}] `));
        if (/gridflow ready/.test(output)) resolveReady();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker ${id} exited with ${code} while starting`)));
    });
    return { id, http: `http://127.0.0.1:${port}`, child };
  })();
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolveExit();
    });
    child.kill('SIGINT');
  });
}

async function main(): Promise<void> {
  const dir = resolve(process.env.CLUSTER_DIR || join('.gridflow', 'cluster'));
  const workerCount = Number(process.env.CLUSTER_WORKERS || 2);
  if (!Number.isInteger(workerCount) || workerCount < 1)
    throw new Error(`CLUSTER_WORKERS="${process.env.CLUSTER_WORKERS}" must be a whole number ≥ 1`);
  mkdirSync(dir, { recursive: true });
  const database = process.env.INFLUX_DB || 'gridflow';
  let nats: NatsCluster | undefined;
  let influx: PrivateInfluxd | undefined;
  const workers: Worker[] = [];
  let stopping = false;
  const stopAll = async () => {
    await Promise.all(workers.map((w) => stopChild(w.child)));
    await influx?.stop();
    await nats?.stop();
  };
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`gridflow cluster: ${signal}, stopping`);
    stopAll().finally(() => process.exit(0));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    [nats, influx] = await Promise.all([
      startNatsCluster(join(dir, 'nats'), { size: 3, partitions: PARTITIONS }),
      startPrivateInfluxd(join(dir, 'influxdb'), { database }),
    ]);
    const nc = await connect({ servers: nats.urls });
    await ensureStreamLayout(nc, { replicas: 3 });
    await nc.close();
    const env = { GRIDFLOW_NATS_URL: nats.urls.join(','), INFLUX_URL: influx.url, INFLUX_DB: database };
    for (let i = 1; i <= workerCount; i++) workers.push(await startWorker(`worker-${i}`, dir, env));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const ready = {
    mqtt: nats.servers.map((s) => s.mqttPort),
    nats: nats.urls,
    influx: influx.url,
    database,
    workers: workers.map((w) => ({ id: w.id, pid: w.child.pid, http: w.http })),
    servers: nats.servers.map((s) => ({ name: s.name, pid: s.pid })),
  };
  console.log(`gridflow cluster ready: ${JSON.stringify(ready)}`);
}

main().catch((err: Error) => {
  console.error(`gridflow cluster: could not start: ${err.message}`);
  process.exit(1);
});
