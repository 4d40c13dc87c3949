/**
 * CSV → InfluxDB: csv-source → influx-write deployed into the embedded Node-RED runtime
 * (bench/node-red-runtime.ts, as frequency-ingest does), against the raw line-protocol limit
 * measured in the same run (pre-built 5,000-line bodies POSTed over one keep-alive
 * connection, one request in flight).
 * Two generated files: turbine columns (timestamp,turbine_id,wind_speed,wind_direction,
 * power_output; ISO-like UTC times) and the Swissgrid format (local Zurich time, `;`).
 * 1 million rows each by default, 10 million with BENCH_FULL=1. Rounds alternate;
 * the table gives the median and min–max rows/s, the ratio to raw and this process's CPU
 * per row in the gridflow runs (steadier than rows/s when other work shares the 2 cores).
 *
 * Where the time goes per row. Before (node --cpu-prof of csv-source's reader alone on the
 * 1M-row Swissgrid file, 2026-12-02, load average 15–18: 1.5–6 µs a row): the line scan with
 * slice + split ≈ 30 %, UTF-8 decoding of the read chunks ≈ 14 %, GC ≈ 14 %, the
 * Swissgrid time ≈ 12 %, decimal-comma numbers ≈ 3 %, the point object ≈ 3 %.
 * Now the reader takes bytes: one loop finds the delimiters, times and plain decimals are
 * parsed from the bytes, only tag values become strings (issue 16). Reader alone, CPU ms
 * for 1M rows, 5 rounds alternating builds in one run (2026-12-02, load average 15):
 * Swissgrid 1410 → 698 → 665, turbine 1994 → 876 → 757 (byte reader, then the boundary
 * copy, tag-string cache and UTC day cache): ≈ 0.7 µs a row.
 * End to end now (node --cpu-prof of one Swissgrid run, 2026-12-02 07:21, node CPU 4.6 s
 * for 1M rows, busy samples): reader (scan + points) ≈ 30 %, influx-write's line building
 * (LineBuilder.write + the batch's byte copy) ≈ 25 %, the HTTP socket write ≈ 11 %, GC
 * ≈ 19 %, Node-RED delivery the rest; the process is idle 28 % of the run, waiting for
 * influxd. On 2 shared cores Node's CPU is taken from influxd: the write side is now the
 * larger part of what csv-source → influx-write costs per row.
 *
 * Turbine file (5 columns, one tag that cycles through 15 turbines, 3 float fields, ≈ 88
 * bytes of line protocol a row). Before (node --cpu-prof of readCsv → LineBuilder.write →
 * influx-write's batches, no Node-RED, 1M rows, 2026-12-02 10:15, ≈ 2.1 µs CPU a row): the
 * write side ≈ 58 %: LineBuilder.write with the batch's inlined byte copy ≈ 22 %, number →
 * text (String of each float) ≈ 14 %, the byte copy not inlined ≈ 9 %, escaping the series
 * again on every row ≈ 9 % (the last-series check misses: consecutive rows are other
 * turbines); the reader ≈ 25 % (mapBytes 10 %, the scan 6 %, times 3 %); GC ≈ 6 %.
 * Changed (issue 16): floats printed by floatText (integer + power of ten, String only as
 * the fallback; 110 → 25–33 ns a number), series texts cached in a trie by measurement, tag
 * key and value, `,key=` as one cached piece, the point's timestamp in its literal (one
 * allocation less a row). Same path, both builds in one process, 7–9 rounds alternating,
 * CPU ms for 1M rows: 1809 → 1704, 2046 → 1318, 1907 → 1608 (0.84× median of three runs;
 * per commit: 0.70× and 0.78× on the write side alone, then 0.96×, 0.75× on the path).
 * Now (same profile, 10:55): the batch's byte copy ≈ 30 % (one char at a time, ≈ 88 a
 * row: the next thing to cut, e.g. cached pieces kept as bytes), mapBytes ≈ 16 %, the scan
 * ≈ 6 %, number text ≈ 6 %, series lookup ≈ 5 %, GC ≈ 6 %.
 * Harness: through node-red-node-test-helper (before 2026-12-02 11:00) the heap grew by
 * ≈ 250 MB per 1M rows: its sinon spies on Node.prototype.send/status/… record every
 * call with an Error stack whose frames hold the msg being delivered (5,000 points), so
 * the points of a run all stayed alive; scavenges then copied them (GC ≈ 10 % of the
 * samples, allocation in mapBytes ≈ 16 %). A deployed flow keeps nothing: the runs now use
 * the embedded runtime, as users and frequency-ingest run the nodes.
 * End to end, turbine row, the build before issue 16's turbine work (05acba7) against this
 * one, whole bench runs alternating (3 rounds each), medians of the runs' medians
 * (2026-12-02 10:43–11:14, load average 2.3–9.4, other agents running):
 * - embedded runtime, 5 runs each: 0.68× raw (0.44–0.77), 118k rows/s, 3.69 CPU-µs a row
 *   → 0.82× raw (0.75–1.27), 188k rows/s, 2.91 CPU-µs a row (0.79×);
 * - test helper, 4 runs each: 0.65× (0.59–0.71) → 0.73× (0.62–0.84); the quietest pair
 *   (load 2.5): 0.67× (0.64–0.72) → 0.77× (0.75–0.80).
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestInfluxd } from '../test/harness/influxd';
import { deployFlow, type Red } from './embedded-red';
import { startBenchRuntime } from './node-red-runtime';

const FULL = process.env.BENCH_FULL === '1';
const ROWS = FULL ? 10_000_000 : 1_000_000;
const ROUNDS = FULL ? 2 : 3;
const BATCH = 5000;
const WEEKDAYS = ['So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa'];
const START_MS = Date.UTC(2021, 4, 1);

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

async function writeLines(path: string, header: string, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  let chunk: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    chunk.push(line(i));
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  out.write(chunk.length ? `${chunk.join('\n')}\n` : '');
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

function turbineLine(i: number): string {
  const t = new Date(START_MS + Math.floor(i / 15) * 60_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)},${(i % 15) + 1},${(9 + (i % 60) / 10).toFixed(1)},${i % 360},${(1.5 + (i % 31) / 10).toFixed(1)}`;
}

function swissgridLine(i: number): string {
  // Zurich local time is UTC+2 in summer; 30-second steps from 1 May 2021
  const d = new Date(START_MS + 2 * 3_600_000 + i * 30_000);
  const text = `${WEEKDAYS[d.getUTCDay()]}. ${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${text};${i % 11 === 0 ? '49,99' : i % 13 === 0 ? '50,01' : '50'}`;
}

/** Raw limit: the same points as line protocol, pre-built, 5k per POST, keep-alive. */
async function rawRun(url: string, db: string, lineOf: (i: number) => string): Promise<number> {
  const bodies: string[] = [];
  let lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    lines.push(lineOf(i));
    if (lines.length === BATCH) {
      bodies.push(lines.join('\n'));
      lines = [];
    }
  }
  if (lines.length) bodies.push(lines.join('\n'));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`/write?${new URLSearchParams({ db, precision: 'ms' })}`, url);
  const started = process.hrtime.bigint();
  for (const body of bodies) {
    await new Promise<void>((resolve, reject) => {
      const req = request(target, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204 ? resolve() : reject(new Error(`raw write ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return ROWS / seconds;
}

let deployment = 0;

/**
 * csv-source → influx-write deployed into the embedded runtime (as a user's flow runs); rows/s
 * from the read request to the last write acknowledged.
 */
async function gridflowRun(
  RED: Red,
  url: string,
  db: string,
  file: string,
  source: Record<string, unknown>,
): Promise<{ rowsPerSecond: number; cpuMicrosPerRow: number }> {
  const tag = `ci${++deployment}`;
  const flow = [
    { id: `${tag}.tab`, type: 'tab', label: 'csv ingest bench' },
    { id: `${tag}.conn`, type: 'influx-connection', url, apiVersion: 'v1', database: db },
    {
      id: `${tag}.src`,
      z: `${tag}.tab`,
      type: 'csv-source',
      batchSize: BATCH,
      output: 'points',
      readOnStart: false,
      watch: false,
      doneFolder: '',
      ...source,
      wires: [[`${tag}.w`], []],
    },
    {
      id: `${tag}.w`,
      z: `${tag}.tab`,
      type: 'influx-write',
      connection: `${tag}.conn`,
      measurement: '',
      precision: 'ms',
      batchSize: BATCH,
      flushSeconds: 0.2,
      bufferMegabytes: 100,
      wires: [[`${tag}.written`], [`${tag}.rejected`]],
    },
    { id: `${tag}.written`, z: `${tag}.tab`, type: 'change', rules: [], wires: [] },
    { id: `${tag}.rejected`, z: `${tag}.tab`, type: 'change', rules: [], wires: [] },
  ];
  const src = await deployFlow(RED, flow, `${tag}.src`);
  const written = RED.nodes.getNode(`${tag}.written`);
  const rejected = RED.nodes.getNode(`${tag}.rejected`);
  if (!written || !rejected) throw new Error('the bench flow did not start (are the nodes built?)');
  let points = 0;
  const finished = new Promise<void>((resolve, reject) => {
    written.on('input', (msg) => {
      points += (msg.payload as { points: number }).points;
      if (points >= ROWS) resolve();
    });
    rejected.on('input', (msg) =>
      reject(new Error(`rejected: ${(msg.error as { message: string }).message}`)),
    );
  });
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  src.receive({ filename: file });
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { rowsPerSecond: ROWS / seconds, cpuMicrosPerRow: (cpu.user + cpu.system) / ROWS };
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

const k = (n: number) => `${Math.round(n / 1000)}k`;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'csv-ingest-bench-'));
  const influxd = await startTestInfluxd('bench');
  const runtime = await startBenchRuntime({
    nodeFiles: ['csv-source', 'influx-connection', 'influx-write'].map((n) =>
      join(__dirname, '..', 'nodes', n, `${n}.js`),
    ),
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as Red;
  try {
    const turbineFile = join(dir, 'turbines.csv');
    const swissFile = join(dir, 'sollfrequenz.csv');
    await writeLines(turbineFile, 'timestamp,turbine_id,wind_speed,wind_direction,power_output', turbineLine);
    await writeLines(swissFile, 'Datum Zeit;A:f_soll_aktiv [Hz]', swissgridLine);
    const results: Record<string, number[]> = {
      rawTurbine: [],
      turbine: [],
      rawSwissgrid: [],
      swissgrid: [],
    };
    /** This process's CPU (user + system) per row in the gridflow runs: steadier than rows/s on a shared machine. */
    const cpu: Record<string, number[]> = { turbine: [], swissgrid: [] };
    const gridflow = (
      name: 'turbine' | 'swissgrid',
      run: { rowsPerSecond: number; cpuMicrosPerRow: number },
    ) => {
      results[name].push(run.rowsPerSecond);
      cpu[name].push(run.cpuMicrosPerRow);
    };
    for (let round = 0; round < ROUNDS; round++) {
      // a new series per run, so no run overwrites another's points
      results.rawTurbine.push(
        await rawRun(
          influxd.url,
          'bench',
          (i) =>
            `raw_turbine_${round},turbine_id=${(i % 15) + 1} wind_speed=${(9 + (i % 60) / 10).toFixed(1)},wind_direction=${i % 360},power_output=${(1.5 + (i % 31) / 10).toFixed(1)} ${START_MS + Math.floor(i / 15) * 60_000}`,
        ),
      );
      results.rawSwissgrid.push(
        await rawRun(
          influxd.url,
          'bench',
          (i) =>
            `raw_frequency_${round},series=sollfrequenz hz=${i % 11 === 0 ? '49.99' : i % 13 === 0 ? '50.01' : '50'} ${START_MS + i * 30_000}`,
        ),
      );
      gridflow(
        'turbine',
        await gridflowRun(RED, influxd.url, 'bench', turbineFile, {
          timeColumn: 'timestamp',
          timeFormat: 'datetime',
          measurement: `turbine_${round}`,
          tagColumns: 'turbine_id',
        }),
      );
      gridflow(
        'swissgrid',
        await gridflowRun(RED, influxd.url, 'bench', swissFile, {
          delimiter: ';',
          columns: 'time,hz',
          timeColumn: 'time',
          timeFormat: 'swissgrid',
          timezone: 'Europe/Zurich',
          measurement: `frequency_${round}`,
          fileTag: 'series',
        }),
      );
    }
    console.log(
      `${ROWS.toLocaleString('en')} rows per file, ${ROUNDS} rounds alternating, rows/s median (min–max)`,
    );
    console.log('| path | rows/s | × raw line protocol (same points) | node CPU µs/row |');
    console.log('|---|---|---|---|');
    const rows: [string, string, string | undefined][] = [
      ['raw line protocol, turbine points, 5k/POST, 1 in flight', 'rawTurbine', undefined],
      ['csv-source → influx-write, turbine columns', 'turbine', 'rawTurbine'],
      ['raw line protocol, frequency points, 5k/POST, 1 in flight', 'rawSwissgrid', undefined],
      ['csv-source → influx-write, Swissgrid (Zurich time)', 'swissgrid', 'rawSwissgrid'],
    ];
    for (const [label, name, base] of rows) {
      const s = summary(results[name]);
      const ratio = base ? summary(results[name].map((v, i) => v / results[base][i])) : undefined;
      const c = cpu[name] ? summary(cpu[name]) : undefined;
      console.log(
        `| ${label} | ${k(s.median)} (${k(s.min)}–${k(s.max)}) | ${ratio ? `${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})` : '1'} | ${c ? `${c.median.toFixed(2)} (${c.min.toFixed(2)}–${c.max.toFixed(2)})` : '–'} |`,
      );
    }
    console.log('targets: Swissgrid ≥ 300k rows/s end to end and ≥ 0.7× raw');
  } finally {
    await runtime.stop();
    await influxd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
