import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import csvSourceNode from '../../nodes/csv-source/csv-source';
import type { Msg } from '../../nodes/shared/node-red-types';

helper.init(require.resolve('node-red'));

const ROOT = join(__dirname, '..', '..', '..');
const DATA = join(ROOT, 'data');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'windmill');
const BAD = join(FIXTURES, 'will-wright113_colibri-coding-challenge_testfixtures', 'bad_data.csv');

type TestNode = {
  on(event: string, fn: (msg: Msg) => void): void;
  receive(msg: object): void;
  warn: { args: unknown[][] } & ((...a: unknown[]) => void);
  error: { args: unknown[][] };
  status: {
    args: { text?: string; fill?: string }[][];
    lastCall?: { args: { text?: string; fill?: string }[] };
  };
  send: (msg: unknown) => void;
};

function flow(config: Record<string, unknown>) {
  return [
    {
      id: 'src',
      type: 'csv-source',
      name: '',
      delimiter: ',',
      quote: '"',
      hasHeader: true,
      columns: '',
      timeColumn: 'timestamp',
      timeFormat: 'auto',
      timezone: 'UTC',
      numberColumns: 'turbine_id,wind_speed,wind_direction',
      output: 'rows',
      batchSize: 5000,
      wires: [['batches'], ['reports']],
      ...config,
    },
    { id: 'batches', type: 'helper' },
    { id: 'reports', type: 'helper' },
  ];
}

/** Collects batches and reports until the run report arrives. */
function collectRun(): Promise<{ batches: Msg[]; files: Msg[]; run: Msg }> {
  const batches: Msg[] = [];
  const files: Msg[] = [];
  return new Promise((resolve) => {
    helper.getNode('batches').on('input', (msg: Msg) => batches.push(msg));
    helper.getNode('reports').on('input', (msg: Msg) => {
      if (msg.topic === 'run') resolve({ batches, files, run: msg });
      else files.push(msg);
    });
  });
}

describe('csv-source node', function () {
  this.timeout(20000);
  let tmp: string;
  const savedDataDir = process.env.GRIDFLOW_DATA_DIR;

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'csv-source-'));
    process.env.GRIDFLOW_DATA_DIR = DATA;
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(tmp, { recursive: true, force: true });
    if (savedDataDir === undefined) delete process.env.GRIDFLOW_DATA_DIR;
    else process.env.GRIDFLOW_DATA_DIR = savedDataDir;
  });

  it('reads ${GRIDFLOW_DATA_DIR}/windmill/*.csv in batches of 5,000 rows and reports each file and the run', async () => {
    await helper.load(csvSourceNode, flow({ path: '${GRIDFLOW_DATA_DIR}/windmill/*.csv' }));
    const run = collectRun();
    helper.getNode('src').receive({});
    const { batches, files, run: summary } = await run;
    assert.deepEqual(
      batches.map((b) => (b.payload as unknown[]).length),
      [3720, 3720, 3720],
      'each 3,720-row file fits one batch',
    );
    assert.deepEqual(
      batches.map((b) => b.topic),
      ['data_group_1.csv', 'data_group_2.csv', 'data_group_3.csv'],
    );
    assert.deepEqual((batches[0].payload as unknown[])[0], {
      timestamp: Date.UTC(2022, 2, 1),
      turbine_id: 1,
      wind_speed: 11.8,
      wind_direction: 169,
      power_output: 2.7,
    });
    assert.equal(batches[0].line, 2);
    assert.equal(files.length, 3);
    assert.deepEqual(
      files.map((f) => [(f.payload as { rows: number }).rows, (f.payload as { badRows: number }).badRows]),
      [
        [3720, 0],
        [3720, 0],
        [3720, 0],
      ],
    );
    const payload = summary.payload as {
      rows: number;
      badRows: number;
      files: unknown[];
      rowsPerSecond: number;
    };
    assert.equal(summary.complete, true);
    assert.equal(payload.rows, 11160);
    assert.equal(payload.badRows, 0);
    assert.equal(payload.files.length, 3);
    assert.ok(payload.rowsPerSecond > 0);
    const status = (helper.getNode('src') as unknown as TestNode).status;
    assert.equal(status.lastCall?.args[0].text, '11k rows');
    assert.equal(status.lastCall?.args[0].fill, 'green');
  });

  it('splits a file into batches of the configured size, lines counted from the header', async () => {
    await helper.load(csvSourceNode, flow({ batchSize: 1000 }));
    const run = collectRun();
    helper.getNode('src').receive({ filename: join(DATA, 'windmill', 'data_group_2.csv') });
    const { batches } = await run;
    assert.deepEqual(
      batches.map((b) => (b.payload as unknown[]).length),
      [1000, 1000, 1000, 720],
    );
    assert.deepEqual(
      batches.map((b) => b.line),
      [2, 1002, 2002, 3002],
    );
  });

  it('skips the bad rows of bad_data.csv and reports each with file and line number', async () => {
    await helper.load(csvSourceNode, flow({}));
    const run = collectRun();
    const src = helper.getNode('src') as unknown as TestNode;
    src.receive({ filename: BAD });
    const { batches, files } = await run;
    const report = files[0].payload as {
      rows: number;
      badRows: number;
      bad: { file: string; line: number; reason: string }[];
    };
    assert.equal(report.rows, 5);
    assert.equal(report.badRows, 5);
    assert.deepEqual(
      report.bad.map((b) => [b.line, b.reason]),
      [
        [2, 'time "error" in column timestamp cannot be read'],
        [3, 'turbine_id "error" is not a number'],
        [4, 'wind_speed "error" is not a number'],
        [5, 'wind_direction "error" is not a number'],
        [7, 'time "" in column timestamp cannot be read'],
      ],
    );
    assert.ok(report.bad.every((b) => b.file === BAD));
    const rows = batches[0].payload as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => [r.turbine_id, r.power_output]),
      [
        [5, 'error'],
        [null, 4.2],
        [3, 1.9],
        [4, 2.4],
        [5, null],
      ],
    );
    const warnings = src.warn.args.map((a) => String(a[0]));
    assert.ok(
      warnings.some((w) => w === `${BAD}:2: time "error" in column timestamp cannot be read; row skipped`),
    );
    assert.equal(src.status.lastCall?.args[0].text, '5 rows 5 bad');
  });

  it('parses CSV text in msg.payload', async () => {
    await helper.load(csvSourceNode, flow({ numberColumns: '' }));
    const run = collectRun();
    helper
      .getNode('src')
      .receive({ payload: 'timestamp,turbine_id,power_output\r\n2022-03-01T00:00:00Z,"T 1",2.5\r\n' });
    const { batches, files } = await run;
    assert.deepEqual(batches[0].payload, [
      { timestamp: Date.UTC(2022, 2, 1), turbine_id: 'T 1', power_output: 2.5 },
    ]);
    assert.equal((files[0].payload as { file: string }).file, 'payload');
  });

  it('turns a Swissgrid file into grid_frequency points tagged with the file name, across the DST switch', async () => {
    const file = join(tmp, 'sollfrequenz-2021.csv');
    const lines = ['Datum Zeit;A:f_soll_aktiv [Hz]'];
    // 31 Oct 2021, 01:59:30 to 03:00:00 Zurich time, with 02:xx twice
    lines.push('So. 31.10.21 01:59:30;50');
    for (const pass of [0, 1])
      for (let m = 0; m < 60; m++)
        lines.push(`So. 31.10.21 02:${String(m).padStart(2, '0')}:00;${pass ? '49,99' : '50,01'}`);
    lines.push('So. 31.10.21 03:00:00;50');
    writeFileSync(file, lines.join('\n') + '\n');
    await helper.load(
      csvSourceNode,
      flow({
        delimiter: ';',
        columns: 'time,hz',
        timeColumn: 'time',
        timeFormat: 'swissgrid',
        timezone: 'Europe/Zurich',
        decimalComma: true,
        numberColumns: '',
        output: 'points',
        measurement: 'grid_frequency',
        fileTag: 'series',
      }),
    );
    const run = collectRun();
    helper.getNode('src').receive({ filename: file });
    const { batches } = await run;
    const points = batches.flatMap(
      (b) => b.payload as { tags: object; fields: { hz: number }; timestamp: number }[],
    );
    assert.equal(points.length, 122);
    assert.deepEqual(points[0], {
      measurement: 'grid_frequency',
      tags: { series: 'sollfrequenz-2021' },
      fields: { hz: 50 },
      timestamp: Date.UTC(2021, 9, 30, 23, 59, 30),
    });
    assert.equal(points[1].timestamp, Date.UTC(2021, 9, 31, 0, 0), '02:00 CEST');
    assert.equal(points[61].timestamp, Date.UTC(2021, 9, 31, 1, 0), '02:00 CET, the second time');
    assert.equal(points[121].timestamp, Date.UTC(2021, 9, 31, 2, 0));
    assert.equal(points[61].fields.hz, 49.99);
    for (let i = 1; i < points.length - 1; i++) assert.ok(points[i + 1].timestamp > points[i].timestamp);
  });

  it('moves a file to the done folder after reading it, never deleting it', async () => {
    const file = join(tmp, 'data_group_1.csv');
    copyFileSync(join(DATA, 'windmill', 'data_group_1.csv'), file);
    await helper.load(csvSourceNode, flow({ path: join(tmp, '*.csv'), doneFolder: 'done' }));
    const run = collectRun();
    helper.getNode('src').receive({});
    const { files } = await run;
    assert.equal((files[0].payload as { movedTo: string }).movedTo, join(tmp, 'done', 'data_group_1.csv'));
    assert.equal(existsSync(file), false);
    assert.deepEqual(readdirSync(join(tmp, 'done')), ['data_group_1.csv']);
  });

  it('reads the folder at start and then each new file once it appears', async () => {
    copyFileSync(join(DATA, 'windmill', 'data_group_1.csv'), join(tmp, 'a.csv'));
    let pendingRun: ((m: Msg) => void) | undefined;
    const first = new Promise<Msg>((resolve) => (pendingRun = resolve));
    const runs: Msg[] = [];
    const batches: Msg[] = [];
    await helper.load(csvSourceNode, flow({ path: join(tmp, '*.csv'), readOnStart: true, watch: true }));
    helper.getNode('batches').on('input', (m: Msg) => batches.push(m));
    helper.getNode('reports').on('input', (m: Msg) => {
      if (m.topic !== 'run') return;
      runs.push(m);
      pendingRun?.(m);
    });
    const atStart = await first;
    assert.equal((atStart.payload as { rows: number }).rows, 3720);
    const second = new Promise<Msg>((resolve) => (pendingRun = resolve));
    copyFileSync(
      FIXTURES + '/will-wright113_colibri-coding-challenge_testfixtures/anomalous_data.csv',
      join(tmp, 'b.csv'),
    );
    const afterNewFile = await second;
    assert.deepEqual(
      (afterNewFile.payload as { files: { file: string; rows: number }[] }).files.map((f) => [
        f.file,
        f.rows,
      ]),
      [[join(tmp, 'b.csv'), 2]],
    );
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(runs.length, 2, 'the file read once, a.csv not again');
  });

  it('never runs more than a chunk ahead of the flow: reading waits until sent batches are delivered', async () => {
    const file = join(tmp, 'big.csv');
    const rows = ['timestamp,turbine_id,wind_speed,wind_direction,power_output'];
    for (let i = 0; i < 100_000; i++) rows.push(`${1646092800 + i * 60},${(i % 15) + 1},11.8,169,2.7`);
    writeFileSync(file, rows.join('\n'));
    await helper.load(csvSourceNode, flow({ batchSize: 1000 }));
    const src = helper.getNode('src') as unknown as TestNode;
    let sent = 0;
    let received = 0;
    let maxInFlight = 0;
    const send = src.send.bind(src);
    src.send = (msg: unknown) => {
      if (Array.isArray(msg) && msg[0]) sent++;
      send(msg);
    };
    helper.getNode('batches').on('input', () => {
      received++;
      maxInFlight = Math.max(maxInFlight, sent - received + 1);
    });
    const run = collectRun();
    src.receive({ filename: file });
    await run;
    assert.equal(received, 100);
    // 256 KB chunks of ~30-byte rows hold about 9 batches of 1,000 rows
    assert.ok(maxInFlight <= 10, `at most one chunk of batches in flight, saw ${maxInFlight}`);
  });

  it('shows an error status when points have no measurement', async () => {
    await helper.load(csvSourceNode, flow({ output: 'points', measurement: '' }));
    const src = helper.getNode('src') as unknown as TestNode;
    assert.equal(src.status.lastCall?.args[0].text, 'bad config');
  });
});
