/**
 * Issue 20: rollups at ingest and the series API, in an embedded Node-RED runtime
 * (bench/node-red-runtime.ts) with a real influxd.
 *
 * 1. Ingest: N generated Swissgrid files at 1 s through the Grid frequency tab's path,
 *    csv-source → influx-write, without and with series-rollup between them (plus the
 *    end-of-file flush), alternating rounds, each round on new series. Files are read one
 *    after another, each once the previous one's points (raw and rollup) are acknowledged
 *    by InfluxDB; time from the first read request to the last acknowledgement.
 * 2. Queries: 200 requests of random series, ranges and resolutions ≥ 1 min, each sent to
 *    series-request → influx-query → series-response twice, alternating: once reading the
 *    rollups (the shipped configuration), once with rollups off (a GROUP BY over the raw
 *    points, what the API did before). Latency from the request msg to the answer msg
 *    (the HTTP server itself is left out). Both answers are compared (1e-9).
 *
 * Default: 4 series × 2 days at 1 s (691k rows per ingest case). BENCH_FULL=1: 20 series
 * × 7 days at 1 s (12.1M rows per case), as the issue asks.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchRuntime } from './node-red-runtime';
import { startTestInfluxd } from '../test/harness/influxd';
import { setUpRetention, parseRetention } from '../app/retention';
import {
  frequencyRange,
  seededRandom,
  writeFrequencyCsv,
  type FrequencyCsvOptions,
} from '../scripts/gen-frequency';
import { SWISSGRID_CSV_SOURCE } from './swissgrid-csv-source';
import { deployFlow, type Red } from './embedded-red';

const BATCH = 5000;

const connection = (id: string, url: string) => ({
  id,
  type: 'influx-connection',
  url,
  apiVersion: 'v1',
  database: 'gridflow',
  retentionPolicy: '',
  org: '',
  bucket: '',
});

let deployment = 0;

/**
 * One ingest run over the files, one after another (each file's points acknowledged before
 * the next is read: InfluxDB, not the disk buffer, absorbs the load); seconds in all.
 */
async function ingest(
  RED: Red,
  influxUrl: string,
  files: { path: string; points: number }[],
  rollups: boolean,
) {
  const tag = `si${++deployment}`;
  const z = `${tag}.tab`;
  const flow: Record<string, unknown>[] = [
    { id: z, type: 'tab', label: 'series api bench' },
    connection(`${tag}.influx`, influxUrl),
    {
      id: `${tag}.csv`,
      z,
      type: 'csv-source',
      path: '',
      ...SWISSGRID_CSV_SOURCE,
      batchSize: BATCH,
      readOnStart: false,
      watch: false,
      doneFolder: '',
      wires: rollups ? [[`${tag}.rollup`], [`${tag}.eof`]] : [[`${tag}.write`], []],
    },
    {
      id: `${tag}.eof`,
      z,
      type: 'change',
      rules: [
        { t: 'set', p: 'flush', pt: 'msg', to: 'true', tot: 'bool' },
        { t: 'delete', p: 'payload', pt: 'msg' },
      ],
      wires: [[`${tag}.rollup`]],
    },
    {
      id: `${tag}.rollup`,
      z,
      type: 'series-rollup',
      levels: '1m,15m,1h,1d',
      field: 'hz',
      tag: 'series',
      latenessSeconds: 0,
      retentionPolicy: 'rollup_{level}',
      wires: [[`${tag}.write`], [`${tag}.write`]],
    },
    {
      id: `${tag}.write`,
      z,
      type: 'influx-write',
      connection: `${tag}.influx`,
      measurement: '',
      precision: 'ms',
      batchSize: BATCH,
      flushSeconds: 0.05,
      bufferMegabytes: 100,
      wires: [[`${tag}.acks`], [`${tag}.rejected`]],
    },
    { id: `${tag}.acks`, z, type: 'change', rules: [], wires: [] },
    { id: `${tag}.rejected`, z, type: 'change', rules: [], wires: [] },
  ];
  await deployFlow(RED, flow, `${tag}.acks`);
  const source = RED.nodes.getNode(`${tag}.csv`)!;
  let written = 0;
  let waiting: { until: number; resolve: () => void; reject: (err: Error) => void } | undefined;
  let failure: Error | undefined;
  RED.nodes.getNode(`${tag}.acks`)!.on('input', (msg) => {
    written += (msg.payload as { points: number }).points;
    if (waiting && written >= waiting.until) waiting.resolve();
  });
  RED.nodes.getNode(`${tag}.rejected`)!.on('input', (msg) => {
    failure = new Error(`InfluxDB refused points: ${JSON.stringify(msg.error)}`);
    waiting?.reject(failure);
  });
  const started = process.hrtime.bigint();
  let expected = 0;
  for (const file of files) {
    expected += file.points;
    const until = expected;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(failure ?? new Error(`only ${written} of ${until} points acknowledged`)),
        1_800_000,
      );
      waiting = {
        until,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject,
      };
      source.receive({ filename: file.path });
    });
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

type Answer = { time: string; value: number }[];

/** series-request (rollups on, and off) → influx-query → series-response → a sink per path. */
async function deployApi(RED: Red, influxUrl: string) {
  const z = 'api.tab';
  const path = (name: string, rollupLevels: string) => [
    {
      id: `api.${name}.req`,
      z,
      type: 'series-request',
      measurement: 'grid_frequency',
      field: 'hz',
      tag: 'series',
      maxPoints: 100_000,
      rollupLevels,
      rollupRetentionPolicy: 'rollup_{level}',
      wires: [[`api.${name}.q`], [`api.${name}.out`]],
    },
    {
      id: `api.${name}.q`,
      z,
      type: 'influx-query',
      connection: 'api.influx',
      query: '',
      wires: [[`api.${name}.res`]],
    },
    { id: `api.${name}.res`, z, type: 'series-response', wires: [[`api.${name}.out`]] },
    { id: `api.${name}.out`, z, type: 'change', rules: [], wires: [] },
  ];
  await deployFlow(
    RED,
    [
      { id: z, type: 'tab', label: 'series api' },
      connection('api.influx', influxUrl),
      ...path('rollup', '1m,15m,1h,1d'),
      ...path('raw', ''),
    ],
    'api.raw.out',
  );
  const ask = (name: string, series: string, query: Record<string, string>) =>
    new Promise<{ ms: number; answer: Answer }>((resolve, reject) => {
      const out = RED.nodes.getNode(`api.${name}.out`)!;
      const marker = { req: { params: { series }, query }, res: {}, benchId: Math.random() };
      const started = process.hrtime.bigint();
      const listener = (msg: Record<string, unknown>) => {
        if (msg.benchId !== marker.benchId) return;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (msg.statusCode !== 200)
          reject(new Error(`${name}: ${msg.statusCode} ${JSON.stringify(msg.payload)}`));
        else resolve({ ms, answer: msg.payload as Answer });
      };
      out.on('input', listener);
      RED.nodes.getNode(`api.${name}.req`)!.receive(marker);
    });
  return ask;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export async function run(): Promise<void> {
  const full = process.env.BENCH_FULL === '1';
  const seriesCount = full ? 20 : 4;
  const options: FrequencyCsvOptions = { start: '2021-05-01', days: full ? 7 : 2, stepMs: 1000 };
  const rounds = full ? 1 : 3;
  const requests = 200;
  const dir = mkdtempSync(join(tmpdir(), 'series-api-bench-'));
  const influxd = await startTestInfluxd('gridflow');
  const problems = await setUpRetention(influxd.url, 'gridflow', parseRetention(''));
  if (problems.length > 0) throw new Error(problems.join('; '));
  const runtime = await startBenchRuntime({
    nodeFiles: [
      'csv-source',
      'influx-connection',
      'influx-write',
      'influx-query',
      'series-rollup',
      'series-request',
      'series-response',
    ].map((n) => join(__dirname, '..', 'nodes', n, `${n}.js`)),
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as Red;
  const plain: number[] = [];
  const withRollups: number[] = [];
  let rows = 0;
  const rollupSeries: string[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const rollups of round % 2 === 0 ? [false, true] : [true, false]) {
        const caseDir = join(dir, `r${round}-${rollups ? 'rollup' : 'plain'}`);
        mkdirSync(caseDir);
        rows = 0;
        const files: { path: string; points: number }[] = [];
        for (let s = 0; s < seriesCount; s++) {
          const name = `${rollups ? 'roll' : 'plain'}${round}-${s}`;
          const path = join(caseDir, `${name}.csv`);
          const written = await writeFrequencyCsv(path, { ...options, seed: s + 1 });
          rows += written.rows;
          files.push({ path, points: written.rows + (rollups ? rollupBuckets(options) : 0) });
          if (rollups && round === 0) rollupSeries.push(name);
        }
        const seconds = await ingest(RED, influxd.url, files, rollups);
        (rollups ? withRollups : plain).push(rows / seconds);
        console.log(
          `ingest ${rollups ? 'with' : 'without'} rollups: ${rows.toLocaleString('en')} rows in ${seconds.toFixed(1)} s`,
        );
        rmSync(caseDir, { recursive: true, force: true });
      }
    }

    const ask = await deployApi(RED, influxd.url);
    const random = seededRandom(42);
    const resolutions: [string, number][] = [
      ['1m', 60_000],
      ['5m', 300_000],
      ['7m', 420_000],
      ['15m', 900_000],
      ['30m', 1_800_000],
      ['1h', 3_600_000],
      ['3h', 10_800_000],
      ['1d', 86_400_000],
    ];
    const dataStart = Date.parse('2021-04-30T22:00:00Z');
    const span = options.days! * 86_400_000;
    const latency = { rollup: [] as number[], raw: [] as number[] };
    for (let i = 0; i < requests; i++) {
      const series = rollupSeries[Math.floor(random() * rollupSeries.length)];
      const [resolution] = resolutions[Math.floor(random() * resolutions.length)];
      const a = dataStart + Math.floor(random() * span);
      const b = dataStart + Math.floor(random() * span);
      const query = {
        start: new Date(Math.min(a, b)).toISOString(),
        end: new Date(Math.max(a, b)).toISOString(),
        resolution,
      };
      const order = i % 2 === 0 ? (['rollup', 'raw'] as const) : (['raw', 'rollup'] as const);
      const answers: Record<string, Answer> = {};
      for (const name of order) {
        const { ms, answer } = await ask(name, series, query);
        latency[name].push(ms);
        answers[name] = answer;
      }
      const [r, w] = [answers.rollup, answers.raw];
      if (
        r.length !== w.length ||
        r.some((p, j) => p.time !== w[j].time || Math.abs(p.value - w[j].value) > 1e-9)
      ) {
        throw new Error(`rollup and raw answers differ for ${series} ${JSON.stringify(query)}`);
      }
    }
    const median = (v: number[]) => percentile(v, 50);
    console.log(
      `\nSeries API over ${seriesCount} series × ${options.days} days at 1 s (${rows.toLocaleString('en')} rows per ingest case), real influxd, embedded Node-RED`,
    );
    console.log('| ingest (rows/s, median of rounds) | without rollups | with rollups | × |');
    console.log('|---|---|---|---|');
    console.log(
      `| ${rounds} round(s) each, alternating | ${Math.round(median(plain) / 1000)}k (${plain.map((v) => Math.round(v / 1000)).join(', ')}) | ${Math.round(median(withRollups) / 1000)}k (${withRollups.map((v) => Math.round(v / 1000)).join(', ')}) | ${(median(withRollups) / median(plain)).toFixed(2)} |`,
    );
    console.log(
      `\n| ${requests} requests ≥ 1 min, random series/range/resolution | p50 ms | p95 ms | max ms |`,
    );
    console.log('|---|---|---|---|');
    for (const name of ['rollup', 'raw'] as const) {
      const v = latency[name];
      console.log(
        `| ${name === 'rollup' ? 'rollups (shipped)' : 'raw GROUP BY (rollups off)'} | ${percentile(v, 50).toFixed(1)} | ${percentile(v, 95).toFixed(1)} | ${Math.max(...v).toFixed(1)} |`,
      );
    }
    console.log('every answer from the rollups equal to the raw GROUP BY (1e-9)');
    console.log('targets: p95 < 100 ms; ingest with rollups ≥ 0.8× without (issue 20)');
  } finally {
    await runtime.stop();
    await influxd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rollup buckets one file makes: 1m, 15m, 1h and 1d buckets (UTC) its rows touch. */
function rollupBuckets(options: FrequencyCsvOptions): number {
  const { startMs, endMs } = frequencyRange(options);
  const lastMs = endMs - (options.stepMs ?? 30_000);
  let buckets = 0;
  for (const ms of [60_000, 900_000, 3_600_000, 86_400_000]) {
    buckets += Math.floor(lastMs / ms) - Math.floor(startMs / ms) + 1;
  }
  return buckets;
}
