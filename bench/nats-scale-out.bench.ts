/**
 * Scale-out on NATS JetStream (issue 17): samples/s through 1 worker vs 2 workers on a
 * 3-server cluster (R3 streams, 8 partitions), the CPU each part spends per sample
 * (nats-server share), and the per-sample cost against the single-process path: an
 * embedded aedes broker with an MQTT subscriber folding into the same partition windows.
 *
 * Each NATS run: workers (bench/nats-worker-process.ts, the WorkerGroup that nats-in runs)
 * start on an empty stream and settle their leases; then KEYS × SAMPLES samples are
 * published as fast as one client can, and the run ends when the workers have consumed
 * all of them: every partition's last stream position folded in (positions survive a lease
 * handover under load, message counts do not). Ingest alone is measured once first. The
 * aedes figure includes its publisher (one process); the NATS figures do not include the
 * publishing client. Runs alternate 1, 2, 1, 2… workers (NATS_BENCH_RUNS pairs, default 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { connect, DeliverPolicy, type JetStreamManager, type NatsConnection } from 'nats';
import { freePort } from '../app/free-port';
import { PartitionWindows } from '../nodes/core/partition-windows';
import { ensureStreamLayout, INPUT_STREAM, partitionSubject } from '../nodes/nats-connection/nats-streams';
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
  owned: number;
}

/**
 * `reached` gets, per partition, the furthest stream position any worker reported: a
 * position survives a handover (the new owner restarts from the checkpoint, behind it),
 * where a per-consumer message count restarts at 0 and never adds up to the total.
 */
function startWorker(id: string, urls: string[], group: string, reached: Map<number, number>): WorkerProcess {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'nats-worker-process.js'), id, urls.join(','), String(PARTITIONS), group],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const worker: WorkerProcess = { child, owned: 0 };
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const at = /^consumed \d+ windows \d+ at (.*)$/.exec(line);
      for (const pair of at?.[1].split(',').filter(Boolean) ?? []) {
        const [partition, seq] = pair.split(':').map(Number);
        if (seq > (reached.get(partition) ?? 0)) reached.set(partition, seq);
      }
      const owns = /^owns (.*)$/.exec(line);
      if (owns) worker.owned = owns[1] === '' ? 0 : owns[1].split(',').length;
    }
  });
  return worker;
}

async function until(what: string, timeoutMs: number, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
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

async function storedCount(jsm: JetStreamManager): Promise<number> {
  return jsm.streams.info(INPUT_STREAM).then(
    (info) => info.state.messages,
    () => 0, // a busy server answers late: ask again
  );
}

/** The stream position of each partition's last message (what a worker must reach). */
async function partitionEnds(nc: NatsConnection): Promise<Map<number, number>> {
  const ends = new Map<number, number>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const consumer = await nc.jetstream().consumers.get(INPUT_STREAM, {
      filterSubjects: partitionSubject(partition),
      deliver_policy: DeliverPolicy.Last,
    });
    const last = await consumer.next({ expires: 10_000 });
    if (last) ends.set(partition, last.seq);
    await consumer.delete().catch(() => undefined);
  }
  return ends;
}

interface IngestResult {
  samplesPerSecond: number;
  serverCpuUsPerSample: number;
}

/** Ingest alone: one NATS client publishing into the R3 stream, no worker running. */
async function ingestRun(cluster: NatsCluster, nc: NatsConnection): Promise<IngestResult> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.purge(INPUT_STREAM);
  const cpuBefore = serverCpu(cluster);
  const started = process.hrtime.bigint();
  await publishBacklog(nc);
  await until('backlog stored', 300_000, async () => (await storedCount(jsm)) >= TOTAL);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    samplesPerSecond: TOTAL / seconds,
    serverCpuUsPerSample: ((serverCpu(cluster) - cpuBefore) / TOTAL) * 1e6,
  };
}

const serverCpu = (cluster: NatsCluster) => cluster.servers.reduce((a, s) => a + cpuSeconds(s.pid), 0);

interface RunResult {
  workers: number;
  samplesPerSecond: number;
  serverCpuUsPerSample: number;
  workerCpuUsPerSample: number;
  serverShare: number;
}

/**
 * Workers settle their leases on an empty stream (a fresh group, so no checkpoint), then
 * the backlog is published while they consume: samples/s from the first publish until
 * every partition's last message is folded in.
 */
async function natsRun(
  cluster: NatsCluster,
  nc: NatsConnection,
  workers: number,
  run: number,
): Promise<RunResult> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.purge(INPUT_STREAM);
  const group = `bench${run}`;
  const reached = new Map<number, number>();
  const procs = Array.from({ length: workers }, (_, i) =>
    startWorker(`${group}-w${i + 1}`, cluster.urls, group, reached),
  );
  const workerCpu = () => procs.reduce((a, p) => a + cpuSeconds(p.child.pid), 0);
  try {
    await until('leases settle', 120_000, () => procs.every((p) => p.owned === PARTITIONS / workers));
    const serversBefore = serverCpu(cluster);
    const workersBefore = workerCpu();
    const started = process.hrtime.bigint();
    await publishBacklog(nc);
    await until('backlog stored', 300_000, async () => (await storedCount(jsm)) >= TOTAL);
    const ends = await partitionEnds(nc);
    let workerSeconds = 0;
    await until('every partition drained', 300_000, () => {
      workerSeconds = workerCpu() - workersBefore; // read while the workers are alive
      return [...ends].every(([partition, end]) => (reached.get(partition) ?? 0) >= end);
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const serverSeconds = serverCpu(cluster) - serversBefore;
    return {
      workers,
      samplesPerSecond: TOTAL / seconds,
      serverCpuUsPerSample: (serverSeconds / TOTAL) * 1e6,
      workerCpuUsPerSample: (workerSeconds / TOTAL) * 1e6,
      serverShare: serverSeconds / (serverSeconds + workerSeconds),
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

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-nats-bench-'));
  const cluster = await startNatsCluster(dir, { partitions: PARTITIONS });
  const nc = await connect({ servers: cluster.urls });
  try {
    await ensureStreamLayout(nc, { replicas: 3 });
    console.log(`${fmt(TOTAL)} samples (${KEYS} keys × ${SAMPLES}), 3 servers, R3, ${PARTITIONS} partitions`);
    const ingest = await ingestRun(cluster, nc);
    console.log(
      `  ingest alone (one NATS client, R3): ${fmt(ingest.samplesPerSecond)} samples/s, servers ${ingest.serverCpuUsPerSample.toFixed(1)} CPU µs/sample`,
    );
    const results: RunResult[] = [];
    for (let r = 0; r < RUNS; r++)
      for (const workers of [1, 2]) {
        const result = await natsRun(cluster, nc, workers, results.length);
        results.push(result);
        console.log(
          `  run ${results.length}: ${workers} worker(s), ingest + consume ${fmt(result.samplesPerSecond)} samples/s, CPU µs/sample: servers ${result.serverCpuUsPerSample.toFixed(1)}, workers ${result.workerCpuUsPerSample.toFixed(1)} (servers ${(100 * result.serverShare).toFixed(0)} %)`,
        );
      }
    const aedes = await aedesRun();
    const one = results.filter((r) => r.workers === 1);
    const two = results.filter((r) => r.workers === 2);
    const ratios = two.map((r, i) => r.samplesPerSecond / one[i].samplesPerSecond);
    const natsCost = median(results.map((r) => r.serverCpuUsPerSample + r.workerCpuUsPerSample));
    const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
    console.log('| path | samples/s median (min–max) | CPU µs per sample, median |');
    console.log('|---|---|---|');
    for (const [name, rs] of [
      ['NATS, 1 worker', one],
      ['NATS, 2 workers', two],
    ] as const)
      console.log(
        `| ${name} | ${fmt(median(rs.map((r) => r.samplesPerSecond)))} (${range(rs.map((r) => r.samplesPerSecond))}) | ${median(rs.map((r) => r.serverCpuUsPerSample + r.workerCpuUsPerSample)).toFixed(1)} (servers ${median(rs.map((r) => r.serverCpuUsPerSample)).toFixed(1)} + workers ${median(rs.map((r) => r.workerCpuUsPerSample)).toFixed(1)}) |`,
      );
    console.log(
      `| single process, aedes | ${fmt(aedes.samplesPerSecond)} | ${aedes.cpuUsPerSample.toFixed(1)} |`,
    );
    console.log(
      `2 workers / 1 worker: median ${median(ratios).toFixed(2)}× (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}); nats-server share of CPU: median ${(100 * median(results.map((r) => r.serverShare))).toFixed(0)} %; NATS path / aedes path CPU per sample: ${(natsCost / aedes.cpuUsPerSample).toFixed(1)}×; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await nc.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
