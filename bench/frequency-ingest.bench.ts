/**
 * Swissgrid frequency ingest, as the Grid frequency tab does it: the generated Sollfrequenz
 * CSV (`npm run gen:frequency`) → csv-source (Swissgrid time, Europe/Zurich, points) →
 * influx-write (5k batches) → a real influxd, inside an embedded Node-RED runtime
 * (bench/node-red-runtime.ts). Beside it, in the same run and alternating with it, the raw
 * line-protocol limit: the same points pre-built as 5,000-line bodies, POSTed over one
 * keep-alive connection, one request in flight. Every run writes a new series.
 *
 * Default: the 61-day file at 30 s (175,680 rows), 9 rounds. BENCH_FULL=1 adds the 365-day
 * file at 1 s (31.5M rows), 1 round, with the raw limit taken on its first 2M rows before
 * and after (pre-building 31.5M lines would need over a gigabyte).
 */
import { linkSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchRuntime } from './node-red-runtime';
import { startTestInfluxd } from '../test/harness/influxd';
import {
  frequencyCsvChunks,
  frequencyRange,
  writeFrequencyCsv,
  type FrequencyCsvOptions,
} from '../scripts/gen-frequency';
import { SWISSGRID_CSV_SOURCE } from './swissgrid-csv-source';
import { deployFlow, type Red } from './embedded-red';

const BATCH = 5000;
const RAW_SAMPLE_ROWS = 2_000_000;

/** The points of the file as line protocol bodies (5,000 lines each), for at most `limit` rows. */
function rawBodies(
  options: FrequencyCsvOptions,
  series: string,
  limit: number,
): { bodies: string[]; rows: number } {
  const { startMs } = frequencyRange(options);
  const step = options.stepMs ?? 30_000;
  const bodies: string[] = [];
  let lines: string[] = [];
  let i = 0;
  for (const chunk of frequencyCsvChunks(options, 50_000)) {
    for (const line of chunk.split('\n')) {
      if (!line || line.startsWith('Datum')) continue;
      if (i >= limit) break;
      lines.push(
        `grid_frequency,series=${series} hz=${line.slice(line.indexOf(';') + 1)} ${startMs + i * step}`,
      );
      i++;
      if (lines.length === BATCH) {
        bodies.push(lines.join('\n'));
        lines = [];
      }
    }
    if (i >= limit) break;
  }
  if (lines.length) bodies.push(lines.join('\n'));
  return { bodies, rows: i };
}

/** Raw limit: POSTs the bodies one after another over a keep-alive connection; rows/s. */
async function rawRun(url: string, bodies: string[], rows: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`/write?${new URLSearchParams({ db: 'gridflow', precision: 'ms' })}`, url);
  const started = process.hrtime.bigint();
  for (const body of bodies) {
    await new Promise<void>((resolve, reject) => {
      const req = request(target, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204 ? resolve() : reject(new Error(`raw write: HTTP ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return rows / seconds;
}

let deployment = 0;

/**
 * csv-source → influx-write as in flows/grid-frequency.json, deployed into the running
 * runtime; time from the read request to the last batch acknowledged by InfluxDB.
 */
async function flowRun(
  RED: Red,
  influxUrl: string,
  file: string,
  rows: number,
): Promise<{ rowsPerSecond: number; seconds: number }> {
  const tag = `fi${++deployment}`;
  const flow = [
    { id: `${tag}.tab`, type: 'tab', label: 'frequency ingest bench' },
    {
      id: `${tag}.influx`,
      type: 'influx-connection',
      url: influxUrl,
      apiVersion: 'v1',
      database: 'gridflow',
      retentionPolicy: '',
      org: '',
      bucket: '',
    },
    {
      id: `${tag}.csv`,
      z: `${tag}.tab`,
      type: 'csv-source',
      x: 100,
      y: 100,
      path: file,
      ...SWISSGRID_CSV_SOURCE,
      batchSize: BATCH,
      readOnStart: false,
      watch: false,
      doneFolder: '',
      wires: [[`${tag}.write`], []],
    },
    {
      id: `${tag}.write`,
      z: `${tag}.tab`,
      type: 'influx-write',
      x: 300,
      y: 100,
      connection: `${tag}.influx`,
      measurement: '',
      precision: 'ms',
      batchSize: BATCH,
      // the shipped flow flushes a partial batch after 1 s; here only the last 680 rows are a
      // partial batch, and waiting a second for them would be most of a 1.5 s run
      flushSeconds: 0.05,
      bufferMegabytes: 100,
      wires: [[`${tag}.acks`], [`${tag}.rejected`]],
    },
    { id: `${tag}.acks`, z: `${tag}.tab`, type: 'change', x: 500, y: 100, rules: [], wires: [] },
    { id: `${tag}.rejected`, z: `${tag}.tab`, type: 'change', x: 500, y: 140, rules: [], wires: [] },
  ];
  const source = await deployFlow(RED, flow, `${tag}.csv`);
  const acks = RED.nodes.getNode(`${tag}.acks`);
  const rejected = RED.nodes.getNode(`${tag}.rejected`);
  if (!acks || !rejected)
    throw new Error('the bench flow did not start (are csv-source and influx-write built?)');
  let written = 0;
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${written} of ${rows} points acknowledged`)),
      30 * 60_000,
    );
    acks.on('input', (msg) => {
      written += (msg.payload as { points: number }).points;
      if (written >= rows) {
        clearTimeout(timer);
        resolve();
      }
    });
    rejected.on('input', (msg) => reject(new Error(`InfluxDB refused points: ${JSON.stringify(msg.error)}`)));
  });
  const started = process.hrtime.bigint();
  source.receive({ filename: file });
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rowsPerSecond: rows / seconds, seconds };
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

const k = (n: number) => `${Math.round(n / 1000)}k`;
const range = (values: number[], fmt: (n: number) => string) => {
  const s = summary(values);
  return values.length > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median);
};

interface Case {
  label: string;
  options: FrequencyCsvOptions;
  rounds: number;
  rawLimit: number;
}

export async function run(): Promise<void> {
  const cases: Case[] = [
    {
      label: '61 days at 30 s',
      options: { start: '2021-05-01', days: 61, stepMs: 30_000 },
      rounds: 9,
      rawLimit: Infinity,
    },
  ];
  if (process.env.BENCH_FULL === '1') {
    cases.push({
      label: '365 days at 1 s',
      options: { start: '2021-05-01', days: 365, stepMs: 1000 },
      rounds: 1,
      rawLimit: RAW_SAMPLE_ROWS,
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'frequency-ingest-bench-'));
  const influxd = await startTestInfluxd('gridflow');
  const runtime = await startBenchRuntime({
    nodeFiles: ['csv-source', 'influx-connection', 'influx-write'].map((n) =>
      join(__dirname, '..', 'nodes', n, `${n}.js`),
    ),
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as Red;
  const table: string[] = [];
  try {
    for (const c of cases) {
      const base = join(dir, `sollfrequenz-${c.options.days}d.csv`);
      const generated = await writeFrequencyCsv(base, c.options);
      console.log(
        `${c.label}: generated ${generated.rows.toLocaleString('en')} rows (${(generated.bytes / 1e6).toFixed(0)} MB) in ${(generated.durationMs / 1000).toFixed(1)} s`,
      );
      const raw: number[] = [];
      const flow: number[] = [];
      const seconds: number[] = [];
      const rawOnce = async (name: string) => {
        const { bodies, rows } = rawBodies(c.options, name, c.rawLimit);
        raw.push(await rawRun(influxd.url, bodies, rows));
      };
      for (let round = 0; round < c.rounds; round++) {
        // a new series per run: the file name is the series tag, so each run reads a new hard link
        const file = join(dir, `run${deployment + 1}-${c.options.days}d.csv`);
        linkSync(base, file);
        if (c.rounds === 1) await rawOnce(`raw-before-${c.options.days}d`);
        else if (round % 2 === 0) await rawOnce(`raw-${round}-${c.options.days}d`);
        const f = await flowRun(RED, influxd.url, file, generated.rows);
        flow.push(f.rowsPerSecond);
        seconds.push(f.seconds);
        if (c.rounds === 1) await rawOnce(`raw-after-${c.options.days}d`);
        else if (round % 2 === 1) await rawOnce(`raw-${round}-${c.options.days}d`);
        rmSync(file);
      }
      // each flow run against the raw run next to it (the one before or after it in time)
      const ratios = flow.map((f, i) => f / (c.rounds === 1 ? summary(raw).median : raw[i]));
      const rawNote = Number.isFinite(c.rawLimit) ? ` (raw on the first ${k(c.rawLimit)} rows)` : '';
      table.push(
        `| ${c.label}, ${generated.rows.toLocaleString('en')} rows | ${range(raw, k)}${rawNote} | ${range(flow, k)} | ${range(seconds, (s) => s.toFixed(1))} | ${range(ratios, (r) => r.toFixed(2))} |`,
      );
    }
  } finally {
    await runtime.stop();
    await influxd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    'Swissgrid CSV → csv-source → influx-write → influxd (embedded Node-RED), rows/s median (min–max)',
  );
  console.log(
    '| file | raw line protocol, 5k/POST, 1 in flight | csv-source → influx-write | total s | × raw |',
  );
  console.log('|---|---|---|---|---|');
  for (const line of table) console.log(line);
  console.log('targets: ≥ 300k rows/s end to end and ≥ 0.7× raw (design/performance.md)');
}
