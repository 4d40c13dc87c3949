/**
 * Scale-out on NATS JetStream (issue 17): samples/s through 1 worker vs 2 workers on a
 * 3-server cluster (R3 streams, 8 partitions), the CPU each part spends per sample
 * (nats-server share), and the per-sample cost against the single-process path: an
 * embedded aedes broker with an MQTT subscriber folding into the same partition windows.
 *
 * Each NATS run: workers (bench/nats-worker-process.ts, the WorkerGroup that nats-in runs)
 * start on an empty stream and settle their leases; then KEYS × SAMPLES samples are
 * published as fast as one client can, and the run ends when the workers have consumed
 * all of them. Runs alternate 1, 2, 1, 2… workers (NATS_BENCH_RUNS pairs, default 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { connect, type NatsConnection } from 'nats';
import { freePort } from '../app/free-port';
import { PartitionWindows } from '../nodes/core/partition-windows';
import { ensureStreamLayout, INPUT_STREAM } from '../nodes/nats-connection/nats-streams';
import { startNatsCluster, type NatsCluster } from '../scripts/cluster-nats';

const KEYS = Number(process.env.NATS_BENCH_KEYS) || 500;
const SAMPLES = Number(process.env.NATS_BENCH_SAMPLES) || 200;
const RUNS = Number(process.env.NATS_BENCH_RUNS) || 2;
const PARTITIONS = 8;
const TOTAL = KEYS * SAMPLES;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const TICK_SECONDS = 100; // /proc/<pid>/stat clock ticks

function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK_SECONDS;
}

function body(k: number, i: number): string {
  return JSON.stringify({ time: T0 + i * 1000, value: (k * 31 + i) % 1000 });
}

interface WorkerProcess {
  child: ChildProcess;
  consumed: number;
  owned: number;
}

function startWorker(id: string, urls: string[], group: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'nats-worker-process.js'), id, urls.join(','), String(PARTITIONS), group],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const worker: WorkerProcess = { child, consumed: 0, owned: 0 };
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const consumed = /^consumed (\d+)/.exec(line);
      if (consumed) worker.consumed = Number(consumed[1]);
      const owns = /^owns (.*)$/.exec(line);
      if (owns) worker.owned = owns[1] === '' ? 0 : owns[1].split(',').length;
    }
  });
  return worker;
}

async function until(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function publishBacklog(nc: NatsConnection): Promise<void> {
  for (let i = 0; i < SAMPLES; i++) {
    for (let k = 0; k < KEYS; k++) nc.publish(`gridflow.in.bench.k${k}`, body(k, i));
    if (i % 20 === 19) await nc.flush();
  }
  await nc.flush();
}

interface RunResult {
  workers: number;
  ingestPerSecond: number;
  ingestServerCpuUsPerSample: number;
  samplesPerSecond: number;
  serverCpuUsPerSample: number;
  workerCpuUsPerSample: number;
  serverShare: number;
}

async function natsRun(
  cluster: NatsCluster,
  nc: NatsConnection,
  workers: number,
  run: number,
): Promise<RunResult> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.purge(INPUT_STREAM);
  // The backlog is stored first: on 2 shared cores, ingest at full speed and consumption at
  // once starve the KV round trips the leases need, which measures the machine, not the workers.
  const serverPids = cluster.servers.map((s) => s.pid);
  const serverCpu = () => serverPids.reduce<number>((a, pid) => a + cpuSeconds(pid), 0);
  const ingestCpuBefore = serverCpu();
  const ingestStarted = process.hrtime.bigint();
  await publishBacklog(nc);
  for (let stored = 0; stored < TOTAL; await new Promise((r) => setTimeout(r, 50)))
    stored = await jsm.streams.info(INPUT_STREAM).then(
      (info) => info.state.messages,
      () => stored, // a busy server answers late: ask again
    );
  const ingestSeconds = Number(process.hrtime.bigint() - ingestStarted) / 1e9;
  const ingestServerCpu = serverCpu() - ingestCpuBefore;
  const group = `bench${run}`;
  // Workers start on a settled group (no rebalance during the drain, whose counts would
  // then restart from a checkpoint), on a second copy of the backlog published after.
  const procs = Array.from({ length: workers }, (_, i) =>
    startWorker(`${group}-w${i + 1}`, cluster.urls, group),
  );
  await until('leases settle', 120_000, () => procs.every((p) => p.owned === PARTITIONS / workers));
  // The first copy is drained when the counts stop moving (a handover restarts a count).
  let last = -1;
  let still = 0;
  await until('first backlog drained', 300_000, () => {
    const now = procs.reduce((a, p) => a + p.consumed, 0);
    still = now === last ? still + 1 : 0;
    last = now;
    return still >= 50; // 50 polls of 20 ms
  });
  const base = last;
  const serversBefore = serverCpu();
  const workersBefore = procs.reduce((a, p) => a + cpuSeconds(p.child.pid), 0);
  const started = process.hrtime.bigint();
  await publishBacklog(nc);
  try {
    let drained = 0;
    const workerCpu = () => procs.reduce((a, p) => a + cpuSeconds(p.child.pid), 0);
    let lastWorkerCpu = 0;
    await until('backlog drained', 300_000, () => {
      lastWorkerCpu = workerCpu() - workersBefore;
      drained = procs.reduce((a, p) => a + p.consumed, 0);
      return drained - base >= TOTAL;
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const drainServerCpu = serverCpu() - serversBefore;
    return {
      workers,
      ingestPerSecond: TOTAL / ingestSeconds,
      ingestServerCpuUsPerSample: (ingestServerCpu / TOTAL) * 1e6,
      samplesPerSecond: TOTAL / seconds,
      serverCpuUsPerSample: (drainServerCpu / TOTAL) * 1e6,
      workerCpuUsPerSample: (lastWorkerCpu / TOTAL) * 1e6,
      serverShare: drainServerCpu / (drainServerCpu + lastWorkerCpu),
    };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once('exit', r)))),
    );
  }
}

/** The single-process path: aedes + a subscriber folding into the same windows, publisher alongside. */
async function aedesRun(): Promise<{ samplesPerSecond: number; cpuUsPerSample: number }> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const port = await freePort();
  const server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const windows = new PartitionWindows(300_000, 60_000);
  let received = 0;
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  subscriber.on('message', (topic, payload) => {
    const sample = JSON.parse(payload.toString()) as { time: number; value: number };
    received++;
    windows.add(topic, sample.time, sample.value, received);
  });
  await subscriber.subscribeAsync('gridflow/in/#', { qos: 0 });
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < SAMPLES; i++) {
    const round: Promise<unknown>[] = [];
    for (let k = 0; k < KEYS; k++) round.push(publisher.publishAsync(`gridflow/in/bench/k${k}`, body(k, i)));
    await Promise.all(round);
  }
  await until('aedes path drained', 300_000, () => received >= TOTAL);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  await publisher.endAsync();
  await subscriber.endAsync();
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  return { samplesPerSecond: TOTAL / seconds, cpuUsPerSample: (cpu.user + cpu.system) / TOTAL };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-nats-bench-'));
  const cluster = await startNatsCluster(dir, { partitions: PARTITIONS });
  const nc = await connect({ servers: cluster.urls });
  try {
    await ensureStreamLayout(nc, { replicas: 3 });
    console.log(`${fmt(TOTAL)} samples (${KEYS} keys × ${SAMPLES}), 3 servers, R3, ${PARTITIONS} partitions`);
    const results: RunResult[] = [];
    for (let r = 0; r < RUNS; r++)
      for (const workers of [1, 2]) {
        const result = await natsRun(cluster, nc, workers, results.length);
        results.push(result);
        console.log(
          `  run ${results.length}: ingest ${fmt(result.ingestPerSecond)} samples/s (servers ${result.ingestServerCpuUsPerSample.toFixed(1)} CPU µs/sample); ${workers} worker(s) drain ${fmt(result.samplesPerSecond)} samples/s, CPU µs/sample: servers ${result.serverCpuUsPerSample.toFixed(1)}, workers ${result.workerCpuUsPerSample.toFixed(1)} (servers ${(100 * result.serverShare).toFixed(0)} %)`,
        );
      }
    const aedes = await aedesRun();
    const one = results.filter((r) => r.workers === 1);
    const two = results.filter((r) => r.workers === 2);
    const ratios = two.map((r, i) => r.samplesPerSecond / one[i].samplesPerSecond);
    const natsCost = median(
      results.map((r) => r.ingestServerCpuUsPerSample + r.serverCpuUsPerSample + r.workerCpuUsPerSample),
    );
    console.log(
      `NATS ingest (one client, R3): median ${fmt(median(results.map((r) => r.ingestPerSecond)))} samples/s, servers ${median(results.map((r) => r.ingestServerCpuUsPerSample)).toFixed(1)} CPU µs/sample`,
    );
    console.log('| path | samples/s (median) | CPU µs per sample (consume) |');
    console.log('|---|---|---|');
    console.log(
      `| NATS, 1 worker | ${fmt(median(one.map((r) => r.samplesPerSecond)))} | ${median(one.map((r) => r.serverCpuUsPerSample + r.workerCpuUsPerSample)).toFixed(1)} |`,
    );
    console.log(
      `| NATS, 2 workers | ${fmt(median(two.map((r) => r.samplesPerSecond)))} | ${median(two.map((r) => r.serverCpuUsPerSample + r.workerCpuUsPerSample)).toFixed(1)} |`,
    );
    console.log(
      `| single process, aedes | ${fmt(aedes.samplesPerSecond)} | ${aedes.cpuUsPerSample.toFixed(1)} |`,
    );
    console.log(
      `2 workers / 1 worker: median ${median(ratios).toFixed(2)}× (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}); nats-server share of CPU: median ${(100 * median(results.map((r) => r.serverShare))).toFixed(0)} %; NATS path (ingest + consume) / aedes path CPU per sample: ${(natsCost / aedes.cpuUsPerSample).toFixed(1)}×`,
    );
  } finally {
    await nc.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
