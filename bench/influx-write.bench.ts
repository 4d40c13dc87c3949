/**
 * influx-write against the limit and the alternative, same points, same run:
 * - raw: the points as line protocol, pre-built, 5,000 per POST over one keep-alive
 *   connection, one request in flight (the limit on this machine);
 * - influx-write in the embedded Node-RED runtime (bench/node-red-runtime.ts: RED.init, no
 *   editor), fed 5,000-point msgs, done when its receipts add up to every point;
 * - node-red-contrib-influxdb's `influxdb batch` node (1.x, node-influx), fed the same msgs,
 *   done when a `complete` node has seen every msg.
 * A fresh series (tag `run`) per run; rounds alternate; median and min–max points/s.
 * 500k points per run by default, 2M with BENCH_FULL=1; BENCH_ROUNDS=n rounds [3, 5 full].
 * BENCH_TRACE=1 names each run as it ends.
 *
 * Each run also gives the client CPU per point (process.cpuUsage, user + system, over the
 * same window as the wall clock): on this 2-core machine shared with other jobs the wall
 * figures swing ±50 % from run to run, CPU per point much less. BENCH_WRITERS=raw,influx-write
 * runs only those; BENCH_BASELINE=<a dist/ copied before a change> adds that build's
 * influx-write as `baseline` to the same alternating rounds.
 *
 * Where the time goes per point (node --cpu-prof of BENCH_WRITERS=influx-write, and of the
 * writer alone with a client that answers at once; 2026-12-02, load average 13–16):
 * - raw: ≈ 0.3–0.5 CPU-µs a point, nearly all writev of the bodies into the socket;
 *   influxd ≈ 3 CPU-µs a point in its own process.
 * - influx-write: ≈ 2 CPU-µs a point in the bench (1.3–2.3 across runs): writev as raw
 *   (≈ 0.6), building the line into the batch bytes (LineBuilder.write + the sink's byte
 *   loop, ≈ 0.5–0.9 µs before the changes below), addWith + the input handler (≈ 0.3),
 *   GC (the bench's own 500k point objects count here too).
 * - Changes measured side by side (writer + LineBuilder alone, old and new build alternating
 *   in one process, 21 rounds of 200k points, CPU per point): reusing the escaped series of
 *   the last point 0.86× (0.63–1.28); handing a full batch buffer over instead of copying
 *   it 0.71× (0.49–1.13); writing cached epoch-ms digits as two pieces instead of one
 *   13-character rope 0.97× (0.55–1.22): not kept.
 * - Two batches in flight (when their time ranges are apart, so order could not matter):
 *   0.81× the points/s (0.58–1.05) and 1.30× the client CPU of one in flight, 7 alternating
 *   rounds: influxd (one shard, one write lock, 2 busy cores) gains nothing from two
 *   concurrent writes, and a second body waiting in the socket costs partial writes and
 *   wake-ups. Not kept: one request in flight, as raw.
 * - Not measured: gzip (would add compression on the client and decompression in influxd on
 *   the same 2 cores, for bytes that only cross loopback); the keep-alive agent is already
 *   one warm connection per writer.
 * On the embedded runtime (this file used node-red-node-test-helper before, whose spies keep
 * every msg), 2026-12-02 13:18 UTC, quiet machine (load < 0.3; an empty change hop ran at
 * 390–405k msgs/s in the streaming bench just before): influx-write 601k points/s (576–674k)
 * vs raw 772k, 0.84× (0.74–0.87), 1.71× contrib batch (351k). Profile of the same run
 * (BENCH_WRITERS=influx-write, --cpu-prof): the process is idle ~60 % of the time, waiting on
 * influxd; its own ≈ 0.5 CPU-µs a point is LineBuilder.write ≈ 200 ns (with the pieces it
 * inlines), the batch's byte copy (OpenBatch.text) 65, number and time text ≈ 40, writev 80,
 * GC ≈ 170 (the bench's 500k point objects a run count here too). influxd shares the same
 * 2 cores and is the limit: raw's client takes 0.09 µs a point, so the CPU influx-write
 * spends is what separates the two. Collecting the last run's garbage (gc()) before each
 * run's clock was tried: 0.94–0.96×, but by raw getting slower (672–677k, 0.18 CPU-µs a
 * point: likely the collector's concurrent sweeping sharing the cores with influxd), influx-write
 * the same (597–629k); not kept.
 * Whole epoch ms written as digits straight into the batch bytes (LineSink.digits, writeDigits
 * in nodes/core/line-protocol.ts), not a string per point that the byte copy then flattens
 * (a rope of cached high digits, padding and low digits): LineBuilder.write into a byte sink
 * alone (bench/line-builder.bench.ts, BENCH_BASELINE = the build before, 21 alternating
 * rounds of 200k points, two runs), these frequency points 489 → 434 and 473 → 421 ns a
 * point, new/old median 0.89× and 0.88× (rounds 0.60–1.45: the machine's noise); turbine
 * rows 0.96× and 0.95×. Number fields the same way next (writeFloat in nodes/core/float-text.ts,
 * sharing floatText's split of a short decimal; String's text where floatText falls back to
 * it): against the build before both, frequency points 0.84× and 0.83× (464 → 392, 509 → 411
 * ns), turbine rows 0.88× and 0.88× (699 → 597, 698 → 587 ns). End to end, 7 rounds against the build before
 * (BENCH_BASELINE): points/s 1.00× (0.91–1.10), client CPU per point 0.94× (0.52–1.51):
 * influxd is the limit, as above.
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { LineBuilder, type Point } from '../nodes/core/line-protocol';
import { startTestInfluxd } from '../test/harness/influxd';
import { deployFlow, type NodeInstance, type Red } from './embedded-red';
import { nodeFileAs, startBenchRuntime } from './node-red-runtime';

const FULL = process.env.BENCH_FULL === '1';
/** Which writers to run, e.g. `raw,influx-write` (for a profile of one): all by default. */
const WRITERS = process.env.BENCH_WRITERS?.split(',').map((w) => w.trim());
/**
 * A dist/ of an earlier build (e.g. a copy made before a change): its influx-write runs as
 * `baseline` in the same rounds, so a change is measured side by side with what it replaces.
 * Copy it inside the project (`cp -r dist bench-results/dist-before`, ignored by git), where
 * its requires find node_modules.
 */
const BASELINE = process.env.BENCH_BASELINE;
const POINTS = FULL ? 2_000_000 : 500_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || (FULL ? 5 : 3);
const BATCH = 5000;
const START_MS = Date.UTC(2021, 4, 1);

/** The baseline build's influx-write, registered beside the current one. */
const BASELINE_TYPE = 'influx-write-baseline';

/** 5,000-point msgs shaped as a flow sends them: grid frequency every 30 s, one series per run. */
function pointMsgs(run: string): Point[][] {
  const msgs: Point[][] = [];
  for (let i = 0; i < POINTS; i += BATCH) {
    const points: Point[] = new Array(BATCH);
    for (let j = 0; j < BATCH; j++) {
      const k = i + j;
      points[j] = {
        measurement: 'grid_frequency',
        tags: { series: 'bench', run },
        fields: { hz: 50 + ((k % 21) - 10) / 1000 },
        timestamp: START_MS + k * 30_000,
      };
    }
    msgs.push(points);
  }
  return msgs;
}

/** The msgs as line-protocol bodies, built before the raw run starts its clock. */
function rawBodies(msgs: Point[][]): Buffer[] {
  const builder = new LineBuilder('ms');
  return msgs.map((points) =>
    Buffer.from(points.map((p) => (builder.line(p, undefined, 0) as { line: string }).line).join('\n')),
  );
}

async function rawRun(url: string, bodies: Buffer[]): Promise<RunFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const post = (body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const req = request(`${url}/write?db=gridflow&precision=ms`, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204 ? resolve() : reject(new Error(`raw write: ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  const stop = startClock();
  for (const body of bodies) await post(body);
  const figures = stop();
  agent.destroy();
  return figures;
}

/**
 * Hands the msgs to the node one per event-loop turn, as Node-RED delivers msgs between
 * nodes (each hop is a setImmediate): a writer can send batch n while batch n+1 arrives.
 * Receiving all 100 msgs in one synchronous loop would hold every request until the last
 * point was serialized, which no flow does.
 */
async function deliver(node: NodeInstance, msgs: Point[][]): Promise<void> {
  for (const points of msgs) {
    node.receive({ payload: points });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

let deployment = 0;

/**
 * Deploys `nodes` (ids local to this run; a `sink` change node with no rules ends it) and
 * resolves with the node `first` and the sink. The embedded runtime keeps no msg alive:
 * node-red-node-test-helper, used here before, keeps every msg its spies saw.
 */
async function deploy(
  RED: Red,
  nodes: Record<string, unknown>[],
  first: string,
): Promise<{ node: NodeInstance; sink: NodeInstance }> {
  const tag = `r${++deployment}`;
  const local = (id: string) => `${tag}.${id}`;
  const flow = [
    { id: local('tab'), type: 'tab', label: 'influx-write bench' },
    ...[...nodes, { id: 'sink', type: 'change', rules: [] }].map((n) => ({
      ...n,
      id: local(n.id as string),
      ...(n.type === 'influx-connection' || n.type === 'influxdb' ? {} : { z: local('tab') }),
      ...Object.fromEntries(
        ['connection', 'influxdb']
          .filter((p) => typeof n[p] === 'string')
          .map((p) => [p, local(n[p] as string)]),
      ),
      ...(n.scope ? { scope: (n.scope as string[]).map(local) } : {}),
      wires: ((n.wires as string[][] | undefined) ?? []).map((port) => port.map(local)),
    })),
  ];
  const node = await deployFlow(RED, flow, local(first));
  const sink = RED.nodes.getNode(local('sink'));
  if (!sink) throw new Error('the bench flow did not start (no sink)');
  return { node, sink };
}

/** What one run measured, from its first point sent to its last acknowledged. */
interface RunFigures {
  pointsPerSecond: number;
  /** Client CPU (user + system) per point, µs: flow loading is outside, as for the wall clock. */
  cpuPerPoint: number;
}

function startClock(): () => RunFigures {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    return {
      pointsPerSecond: POINTS / ((performance.now() - t0) / 1000),
      cpuPerPoint: (cpu.user + cpu.system) / POINTS,
    };
  };
}

async function influxWriteRun(RED: Red, url: string, msgs: Point[][], type: string): Promise<RunFigures> {
  const { node, sink } = await deploy(
    RED,
    [
      { id: 'conn', type: 'influx-connection', url, apiVersion: 'v1', database: 'gridflow' },
      {
        id: 'w',
        type,
        connection: 'conn',
        measurement: '',
        precision: 'ms',
        batchSize: BATCH,
        flushSeconds: 1,
        bufferMegabytes: 1000,
        wires: [['sink'], []],
      },
    ],
    'w',
  );
  let written = 0;
  const stop = startClock();
  const finished = new Promise<void>((resolve) =>
    sink.on('input', (msg) => {
      written += (msg.payload as { points: number }).points;
      // >=: a batch retried after a timeout it had in fact survived is counted twice
      if (written >= POINTS) resolve();
    }),
  );
  await deliver(node, msgs);
  await finished;
  return stop();
}

async function contribRun(RED: Red, port: number, msgs: Point[][]): Promise<RunFigures> {
  const { node, sink } = await deploy(
    RED,
    [
      {
        id: 'cfg',
        type: 'influxdb',
        hostname: '127.0.0.1',
        port: String(port),
        protocol: 'http',
        database: 'gridflow',
        influxdbVersion: '1.x',
      },
      { id: 'b', type: 'influxdb batch', influxdb: 'cfg', precision: 'ms', retentionPolicy: '' },
      { id: 'c', type: 'complete', scope: ['b'], uncaught: false, wires: [['sink']] },
    ],
    'b',
  );
  let done = 0;
  const stop = startClock();
  const finished = new Promise<void>((resolve) =>
    sink.on('input', () => {
      if (++done === msgs.length) resolve();
    }),
  );
  await deliver(node, msgs);
  await finished;
  return stop();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const k = (n: number) => `${Math.round(n / 1000)}k`;

export async function run(): Promise<void> {
  const influxd = await startTestInfluxd('gridflow');
  const nodeFile = (type: string) => join(__dirname, '..', 'nodes', type, `${type}.js`);
  const runtime = await startBenchRuntime({
    nodeFiles: [
      nodeFile('influx-connection'),
      nodeFile('influx-write'),
      ...(BASELINE
        ? [nodeFileAs(join(BASELINE, 'nodes/influx-write/influx-write'), 'influx-write', BASELINE_TYPE)]
        : []),
    ], // node-red-contrib-influxdb is found by Node-RED in the project's node_modules
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as Red;
  const writers = ['raw', 'influx-write', 'contrib batch', ...(BASELINE ? ['baseline'] : [])].filter(
    (w) => !WRITERS || WRITERS.includes(w),
  );
  const figures: Record<string, number[]> = Object.fromEntries(writers.map((w) => [w, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(writers.map((w) => [w, []]));
  const ratios: Record<string, number[]> = { raw: [], 'contrib batch': [], baseline: [] };
  const cpuRatioBaseline: number[] = [];
  try {
    let runNo = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? writers : [...writers].reverse();
      const results: Record<string, number> = {};
      const cpuUs: Record<string, number> = {};
      for (const name of order) {
        const msgs = pointMsgs(`r${++runNo}`);
        const bodies = name === 'raw' ? rawBodies(msgs) : [];
        const run =
          name === 'raw'
            ? await rawRun(influxd.url, bodies)
            : name === 'influx-write'
              ? await influxWriteRun(RED, influxd.url, msgs, 'influx-write')
              : name === 'baseline'
                ? await influxWriteRun(RED, influxd.url, msgs, BASELINE_TYPE)
                : await contribRun(RED, influxd.port, msgs);
        results[name] = run.pointsPerSecond;
        cpuUs[name] = run.cpuPerPoint;
        if (process.env.BENCH_TRACE) console.error(`${name}: ${k(results[name])}/s`);
        figures[name].push(results[name]);
        cpu[name].push(cpuUs[name]);
      }
      for (const other of Object.keys(ratios))
        if (results[other] && results['influx-write'])
          ratios[other].push(results['influx-write'] / results[other]);
      if (cpuUs.baseline && cpuUs['influx-write'])
        cpuRatioBaseline.push(cpuUs['influx-write'] / cpuUs.baseline);
      console.log(
        `round ${round + 1}: ` +
          order.map((w) => `${w} ${k(results[w])}/s ${cpuUs[w].toFixed(2)} CPU-µs/pt`).join(', '),
      );
    }
    const count = await influxd.query('SELECT count("hz") FROM grid_frequency');
    const expected = POINTS * ROUNDS * writers.length;
    if (Number(count[0]?.count) !== expected)
      throw new Error(`InfluxDB holds ${count[0]?.count} points, expected ${expected}`);
    console.log(
      `\n${POINTS.toLocaleString('en')} points per run, batches of ${BATCH}, ${ROUNDS} alternating rounds`,
    );
    console.log('| writer | points/s median | min–max | client CPU-µs/point median |');
    console.log('|---|---|---|---|');
    for (const [name, xs] of Object.entries(figures))
      console.log(
        `| ${name} | ${k(median(xs))} | ${k(Math.min(...xs))}–${k(Math.max(...xs))} | ${median(cpu[name]).toFixed(2)} |`,
      );
    const r = (xs: number[]) =>
      `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    if (ratios.raw.length) console.log(`influx-write / raw: ${r(ratios.raw)}   (target ≥ 0.85)`);
    if (ratios['contrib batch'].length)
      console.log(`influx-write / contrib batch: ${r(ratios['contrib batch'])}   (target ≥ 1.4)`);
    if (ratios.baseline.length) {
      console.log(`influx-write / baseline, points/s: ${r(ratios.baseline)}`);
      console.log(`influx-write / baseline, client CPU per point: ${r(cpuRatioBaseline)}`);
    }
  } finally {
    await runtime.stop();
    await influxd.dispose();
  }
}
