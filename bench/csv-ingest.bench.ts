/**
 * CSV → InfluxDB: csv-source → influx-write inside Node-RED (embedded through the test
 * helper), against the raw line-protocol limit measured in the same run (pre-built
 * 5,000-line bodies POSTed over one keep-alive connection, one request in flight).
 * Two generated files: turbine columns (timestamp,turbine_id,wind_speed,wind_direction,
 * power_output; ISO-like UTC times) and the Swissgrid format (local Zurich time, `;`).
 * 1 million rows each by default, 10 million with BENCH_FULL=1. Rounds alternate;
 * the table gives the median and min–max rows/s and the ratio to raw.
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
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import csvSourceNode from '../nodes/csv-source/csv-source';
import influxConnection from '../nodes/influx-connection/influx-connection';
import influxWrite from '../nodes/influx-write/influx-write';
import { startTestInfluxd } from '../test/harness/influxd';

helper.init(require.resolve('node-red'));

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

/** csv-source → influx-write in Node-RED; rows/s from the read request to the last write acknowledged. */
async function gridflowRun(
  url: string,
  db: string,
  file: string,
  source: Record<string, unknown>,
): Promise<number> {
  await helper.load([csvSourceNode, influxConnection, influxWrite], [
    { id: 'conn', type: 'influx-connection', url, apiVersion: 'v1', database: db },
    { id: 'src', type: 'csv-source', batchSize: BATCH, output: 'points', ...source, wires: [['w'], []] },
    {
      id: 'w',
      type: 'influx-write',
      connection: 'conn',
      measurement: '',
      precision: 'ms',
      batchSize: BATCH,
      flushSeconds: 0.2,
      bufferMegabytes: 100,
      wires: [['written'], ['rejected']],
    },
    { id: 'written', type: 'helper' },
    { id: 'rejected', type: 'helper' },
  ] as Parameters<typeof helper.load>[1]);
  let written = 0;
  const finished = new Promise<void>((resolve, reject) => {
    const on = (id: string, fn: (msg: Record<string, unknown>) => void) =>
      (helper.getNode(id) as unknown as { on(e: string, f: (m: Record<string, unknown>) => void): void }).on(
        'input',
        fn,
      );
    on('written', (msg) => {
      written += (msg.payload as { points: number }).points;
      if (written >= ROWS) resolve();
    });
    on('rejected', (msg) => reject(new Error(`rejected: ${(msg.error as { message: string }).message}`)));
  });
  const started = process.hrtime.bigint();
  helper.getNode('src').receive({ filename: file });
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await helper.unload();
  return ROWS / seconds;
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
      results.turbine.push(
        await gridflowRun(influxd.url, 'bench', turbineFile, {
          timeColumn: 'timestamp',
          timeFormat: 'datetime',
          measurement: `turbine_${round}`,
          tagColumns: 'turbine_id',
        }),
      );
      results.swissgrid.push(
        await gridflowRun(influxd.url, 'bench', swissFile, {
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
    console.log('| path | rows/s | × raw line protocol (same points) |');
    console.log('|---|---|---|');
    const rows: [string, string, string | undefined][] = [
      ['raw line protocol, turbine points, 5k/POST, 1 in flight', 'rawTurbine', undefined],
      ['csv-source → influx-write, turbine columns', 'turbine', 'rawTurbine'],
      ['raw line protocol, frequency points, 5k/POST, 1 in flight', 'rawSwissgrid', undefined],
      ['csv-source → influx-write, Swissgrid (Zurich time)', 'swissgrid', 'rawSwissgrid'],
    ];
    for (const [label, name, base] of rows) {
      const s = summary(results[name]);
      const ratio = base ? summary(results[name].map((v, i) => v / results[base][i])) : undefined;
      console.log(
        `| ${label} | ${k(s.median)} (${k(s.min)}–${k(s.max)}) | ${ratio ? `${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})` : '1'} |`,
      );
    }
    console.log('targets: Swissgrid ≥ 300k rows/s end to end and ≥ 0.7× raw');
  } finally {
    await influxd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
