import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import influxConnection from '../../nodes/influx-connection/influx-connection';
import influxWrite from '../../nodes/influx-write/influx-write';
import { useNodeRedTestServer, useTestInfluxd } from '../harness/node-red-test-server';
import { startTestVictoriaMetrics, type TestVictoriaMetrics } from '../harness/victoria-metrics';
import { quoteIdentifier } from '../../nodes/core/influxql';
import { eventually } from '../harness/eventually';
import { mountTmpfs, remountReadOnly, unmount } from '../harness/tmpfs';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown>;
interface HelperNode {
  receive(msg: Msg): void;
  on(event: string, cb: (msg: Msg) => void): void;
  status: { (s: unknown): void };
}

/** InfluxQL over HTTP with RFC 3339 times (nanoseconds survive, unlike epoch numbers in JSON). */
async function rows(url: string, q: string, db = 'gridflow'): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q })}`);
  const body = (await res.json()) as {
    results: { error?: string; series?: { columns: string[]; values: unknown[][]; tags?: object }[] }[];
  };
  if (body.results[0].error) throw new Error(body.results[0].error);
  return (body.results[0].series ?? []).flatMap((s) =>
    s.values.map((v) => Object.assign({ ...s.tags }, ...s.columns.map((c, i) => ({ [c]: v[i] })))),
  );
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) =>
  eventually(what, timeoutMs, probe, 100);

const countOf = async (url: string, measurement: string, db = 'gridflow') => {
  const r = await rows(url, `SELECT count("v"), sum("v") FROM ${quoteIdentifier(measurement)}`, db);
  return { count: Number(r[0]?.count ?? 0), sum: Number(r[0]?.sum ?? 0) };
};

/**
 * A real HTTP proxy in front of the server that counts write requests and their lines, and
 * the lines of every write the server acknowledged: InfluxDB stores a point written twice
 * (same series and time) once, so only these receipts can show a duplicate write. While
 * `down` it answers 503 itself, an outage that starts and ends exactly when a test says.
 */
async function countingProxy(upstream: () => string) {
  const writes: { path: string; lines: number }[] = [];
  const acknowledged: string[] = [];
  const state = { down: false };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const isWrite = req.url?.includes('write') ?? false;
      const lines = body.toString().split('\n').filter(Boolean);
      if (isWrite) writes.push({ path: req.url!, lines: lines.length });
      if (state.down) return res.writeHead(503).end('proxy: down');
      try {
        const up = await fetch(upstream() + req.url, {
          method: req.method,
          headers: { 'content-type': String(req.headers['content-type'] ?? 'text/plain') },
          body: req.method === 'POST' ? body : undefined,
        });
        const answer = Buffer.from(await up.arrayBuffer());
        if (isWrite && up.status >= 200 && up.status < 300) acknowledged.push(...lines);
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' });
        res.end(answer);
      } catch {
        res.writeHead(503).end('upstream down');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    writes,
    acknowledged,
    state,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

/** Each acknowledged line once: the lines written twice, none when all is well. */
function duplicates(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((l) => (seen.has(l) ? true : (seen.add(l), false)));
}

function flowFor(url: string, write: Record<string, unknown>, connection: Record<string, unknown> = {}) {
  return [
    { id: 'conn', type: 'influx-connection', url, apiVersion: 'v1', database: 'gridflow', ...connection },
    {
      id: 'w',
      type: 'influx-write',
      connection: 'conn',
      measurement: '',
      precision: 'ms',
      batchSize: 5000,
      flushSeconds: 0.2,
      bufferMegabytes: 100,
      ...write,
      wires: [['written'], ['rejected']],
    },
    { id: 'written', type: 'helper' },
    { id: 'rejected', type: 'helper' },
  ];
}

describe('influx-write against a real InfluxDB 1.x', function () {
  this.timeout(60_000);
  const influxd = useTestInfluxd('gridflow');
  const userDir = useNodeRedTestServer('gridflow-write-');

  const load = (flow: object[], credentials: object = {}) =>
    new Promise<void>((resolve) =>
      helper.load([influxConnection, influxWrite], flow as never, credentials, () => resolve()),
    );
  const node = (id: string) => helper.getNode(id) as unknown as HelperNode;

  it('lands epoch ms, ISO strings and Dates on the right instant in every precision, with every field type', async () => {
    const iso = '2024-07-05T12:01:00.123456789Z';
    const ms = Date.parse('2024-07-05T12:01:00.123Z');
    const expected: Record<string, Record<string, string>> = {
      s: { ms: '2024-07-05T12:01:00Z', iso: '2024-07-05T12:01:00Z', date: '2024-07-05T12:01:00Z' },
      ms: {
        ms: '2024-07-05T12:01:00.123Z',
        iso: '2024-07-05T12:01:00.123Z',
        date: '2024-07-05T12:01:00.123Z',
      },
      us: {
        ms: '2024-07-05T12:01:00.123Z',
        iso: '2024-07-05T12:01:00.123456Z',
        date: '2024-07-05T12:01:00.123Z',
      },
      ns: { ms: '2024-07-05T12:01:00.123Z', iso, date: '2024-07-05T12:01:00.123Z' },
    };
    for (const precision of Object.keys(expected)) {
      const measurement = `types_${precision}`;
      const flow = flowFor(influxd().url, { id: `w`, precision, measurement });
      await load(flow);
      const fields = {
        f: 1.5,
        whole: 2,
        i: { int: 7 },
        big: 9007199254740993n,
        b: true,
        s: 'a "quoted"\\ text\nline 2',
      };
      node('w').receive({ payload: [{ tags: { form: 'ms' }, fields, timestamp: ms }] });
      node('w').receive({ payload: { tags: { form: 'iso' }, fields, timestamp: iso }, flush: true });
      node('w').receive({
        payload: { tags: { form: 'date' }, fields, timestamp: new Date(ms) },
        flush: true,
      });
      const got = await until(`3 rows in ${measurement}`, async () => {
        const r = await rows(influxd().url, `SELECT * FROM ${measurement} GROUP BY "form"`);
        return r.length === 3 ? r : undefined;
      });
      for (const row of got) {
        assert.equal(row.time, expected[precision][row.form as string], `${precision} ${row.form}`);
        assert.equal(row.f, 1.5);
        assert.equal(row.whole, 2);
        assert.equal(row.i, 7);
        assert.equal(row.b, true);
        assert.equal(row.s, fields.s);
      }
      const types = await rows(influxd().url, `SHOW FIELD KEYS FROM ${measurement}`);
      assert.deepEqual(Object.fromEntries(types.map((t) => [t.fieldKey, t.fieldType])), {
        b: 'boolean',
        big: 'integer',
        f: 'float',
        i: 'integer',
        s: 'string',
        whole: 'float',
      });
      const big = await fetch(
        `${influxd().url}/query?${new URLSearchParams({ db: 'gridflow', q: `SELECT big FROM ${measurement} LIMIT 1` })}`,
      );
      assert.match(await big.text(), /9007199254740993/);
      await helper.unload();
    }
  });

  it('escapes names, tag values and strings so they read back as written (generated strings)', async () => {
    const unit = fc.constantFrom(
      'a',
      'Z',
      '0',
      ' ',
      ',',
      '=',
      '"',
      "'",
      '\\',
      '\t',
      'é',
      '€',
      '😀',
      '#',
      '$',
    );
    const text = fc
      .string({ unit, minLength: 1, maxLength: 10 })
      .filter((s) => !/\\$|\\[ ,=]/.test(s) && s.trim() !== '');
    const samples = fc.sample(text, { numRuns: 150, seed: 42 });
    samples.push(
      'a b',
      'a,b',
      'a=b',
      'say "hi"',
      'back\\slash',
      'ünïcødé ☃',
      'x\u0000y'.replace('\u0000', ''),
    );
    await load(flowFor(influxd().url, {}));
    const points = samples.map((s, i) => ({
      measurement: 'escaping',
      tags: { idx: String(i), [`tag ${s}`]: s },
      fields: { [`f ${s}`]: i, str: s },
      timestamp: 1_000 + i,
    }));
    points.push({
      measurement: 'odd, measurement = "x"',
      tags: { idx: 'm' },
      fields: { 'f ,m': 1, str: 'm' },
      timestamp: 1,
    });
    node('w').receive({ payload: points, flush: true });
    const got = await until('every escaping row', async () => {
      const r = await rows(influxd().url, 'SELECT * FROM escaping');
      return r.length === samples.length ? r : undefined;
    });
    for (const row of got) {
      const i = Number(row.idx);
      assert.equal(row.str, samples[i], `string field of sample ${i}`);
      assert.equal(row[`tag ${samples[i]}`], samples[i], `tag of sample ${i}`);
      assert.equal(row[`f ${samples[i]}`], i, `field key of sample ${i}`);
    }
    const odd = await rows(influxd().url, `SELECT * FROM ${quoteIdentifier('odd, measurement = "x"')}`);
    assert.equal(odd.length, 1);
    assert.equal(odd[0]['f ,m'], 1);
  });

  it('sends one HTTP write per batch, by size and by interval', async () => {
    const proxy = await countingProxy(() => influxd().url);
    try {
      await load(flowFor(proxy.url, { measurement: 'batching', batchSize: 1000, flushSeconds: 0.3 }));
      const written: Msg[] = [];
      node('written').on('input', (m) => written.push(m));
      let t = 0;
      for (let m = 0; m < 5; m++)
        node('w').receive({
          payload: Array.from({ length: 1000 }, () => ({ fields: { v: 1 }, timestamp: ++t })),
        });
      node('w').receive({
        payload: Array.from({ length: 500 }, () => ({ fields: { v: 1 }, timestamp: ++t })),
      });
      await until('5,500 points', async () =>
        (await countOf(influxd().url, 'batching')).count === 5500 ? true : undefined,
      );
      await until('6 receipts', async () => (written.length === 6 ? true : undefined));
      assert.deepEqual(
        proxy.writes.map((w) => w.lines),
        [1000, 1000, 1000, 1000, 1000, 500],
      );
      assert.deepEqual(written.at(-1)?.payload, { points: 500 });
    } finally {
      await proxy.close();
    }
  });

  it('sends points InfluxDB rejects (400) to output 2 with its message, and does not retry them', async () => {
    const proxy = await countingProxy(() => influxd().url);
    try {
      await load(flowFor(proxy.url, { measurement: 'conflict' }));
      const rejected: Msg[] = [];
      node('rejected').on('input', (m) => rejected.push(m));
      node('w').receive({ payload: { v: 1.5 }, timestamp: 1, flush: true });
      await until('first point', async () =>
        (await countOf(influxd().url, 'conflict')).count === 1 ? true : undefined,
      );
      node('w').receive({ payload: { v: 'text' }, timestamp: 2, flush: true });
      await until('a rejection', async () => (rejected.length === 1 ? true : undefined));
      assert.deepEqual(rejected[0].payload, ['conflict v="text" 2']);
      const error = rejected[0].error as { status: number; message: string };
      assert.equal(error.status, 400);
      assert.match(error.message, /field type conflict/);
      await new Promise((r) => setTimeout(r, 1200)); // a retry would come after 0.5–1 s
      assert.equal(proxy.writes.length, 2);
      // invalid points never reach the server: output 2 at once, the msg's valid points still go
      node('w').receive({
        payload: [{ fields: { v: NaN } }, { fields: { v: 3 }, timestamp: 3 }],
        flush: true,
      });
      await until('the invalid point', async () => (rejected.length === 2 ? true : undefined));
      assert.match((rejected[1].error as { message: string }).message, /NaN/);
      await until('the valid point', async () =>
        (await countOf(influxd().url, 'conflict')).count === 2 ? true : undefined,
      );
    } finally {
      await proxy.close();
    }
  });

  it('creates a missing database on the first write', async () => {
    await load(flowFor(influxd().url, { measurement: 'fresh' }, { database: 'first_run' }));
    node('w').receive({ payload: 42, timestamp: 5, flush: true });
    const r = await until('the point in the new database', async () => {
      const got = await rows(influxd().url, 'SELECT value FROM fresh', 'first_run').catch(() => []);
      return got.length === 1 ? got : undefined;
    });
    assert.equal(r[0].value, 42);
  });

  it('creates only the configured database unless createDatabases allows any', async () => {
    const databases = async () =>
      (await rows(influxd().url, 'SHOW DATABASES', '_internal').catch(() => [])).map((r) => r.name);
    await load(flowFor(influxd().url, { measurement: 'elsewhere' }));
    const rejected: Msg[] = [];
    node('rejected').on('input', (m) => rejected.push(m));
    node('w').receive({ payload: 1, timestamp: 5, database: 'made_up_by_a_msg', flush: true });
    await until('a rejection', async () => (rejected.length === 1 ? true : undefined));
    assert.match(
      (rejected[0].error as { message: string }).message,
      /database "made_up_by_a_msg" does not exist, and createDatabases is "configured"/,
    );
    assert.ok(!(await databases()).includes('made_up_by_a_msg'));
    await helper.unload();
    await load(flowFor(influxd().url, { measurement: 'elsewhere', createDatabases: 'any' }));
    node('w').receive({ payload: 2, timestamp: 6, database: 'made_up_by_a_msg', flush: true });
    const r = await until('the point in the msg database', async () => {
      const got = await rows(influxd().url, 'SELECT value FROM elsewhere', 'made_up_by_a_msg').catch(
        () => [],
      );
      return got.length === 1 ? got : undefined;
    });
    assert.equal(r[0].value, 2);
  });

  it('keeps points on disk when the url is not configured, and says so', async () => {
    await load(flowFor('${INFLUX_URL}', { measurement: 'nowhere' }));
    const statuses: unknown[] = [];
    const w = helper.getNode('w') as unknown as { status: (s: unknown) => void; receive(m: Msg): void };
    const original = w.status.bind(w);
    w.status = (s) => {
      statuses.push(s);
      original(s);
    };
    w.receive({
      payload: Array.from({ length: 10 }, (_, i) => ({ fields: { v: i }, timestamp: i })),
      flush: true,
    });
    const dir = join(userDir(), 'gridflow-buffer', 'w');
    await until('a buffered batch', async () =>
      readdirSync(dir).some((f) => f.endsWith('-10.lpq')) ? true : undefined,
    );
    await until('status buffered 10', async () =>
      statuses.some((s) => (s as { text?: string }).text === 'buffered 10') ? true : undefined,
    );
  });

  it('writes every one of 100,000 points exactly once across an InfluxDB outage', async () => {
    const total = 100_000;
    const proxy = await countingProxy(() => influxd().url);
    after(() => proxy.close());
    await load(flowFor(proxy.url, { measurement: 'outage', batchSize: 5000, flushSeconds: 0.1 }));
    const base = Date.parse('2024-01-01T00:00:00Z');
    let sent = 0;
    const sendChunk = () => {
      const payload = Array.from({ length: 1000 }, () => {
        const i = sent++;
        return { fields: { v: i }, timestamp: base + i };
      });
      node('w').receive({ payload });
    };
    for (let c = 0; c < 30; c++) sendChunk();
    await influxd().stop();
    for (let c = 0; c < 40; c++) {
      sendChunk();
      await new Promise((r) => setTimeout(r, 25));
    }
    await until('points waiting on disk', async () =>
      readdirSync(join(userDir(), 'gridflow-buffer', 'w')).length > 0 ? true : undefined,
    );
    await influxd().restart();
    while (sent < total) sendChunk();
    const got = await until(
      'all 100,000 points',
      async () => {
        const c = await countOf(influxd().url, 'outage');
        return c.count === total ? c : undefined;
      },
      45_000,
    );
    assert.equal(got.sum, (total * (total - 1)) / 2);
    await until('an empty disk buffer', async () =>
      readdirSync(join(userDir(), 'gridflow-buffer', 'w')).length === 0 ? true : undefined,
    );
    assert.deepEqual(duplicates(proxy.acknowledged), [], 'points InfluxDB acknowledged twice');
    assert.equal(proxy.acknowledged.length, total);
  });

  describe('disk faults of the buffer (a real tmpfs, full or read-only)', () => {
    const bufferDir = () => join(userDir(), 'gridflow-buffer', 'w');
    afterEach(() => unmount(bufferDir()));

    /** Statuses and errors of node `w`, as the editor and the log would show them. */
    function watch() {
      const seen = { statuses: [] as { fill?: string; text?: string }[], errors: [] as string[] };
      const w = helper.getNode('w') as unknown as {
        status: (s: unknown) => void;
        error: (e: unknown) => void;
      };
      const status = w.status.bind(w);
      const error = w.error.bind(w);
      w.status = (s) => {
        seen.statuses.push(s as { fill?: string; text?: string });
        status(s);
      };
      w.error = (e) => {
        seen.errors.push(String(e));
        error(e);
      };
      return seen;
    }
    const points = (first: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        fields: { v: first + i },
        timestamp: 1_700_000_000_000 + first + i,
      }));

    it('a full disk (ENOSPC) while spilling: red status, points kept in memory, each arrives once after the outage', async () => {
      const total = 20_000;
      mountTmpfs(bufferDir(), '64k');
      const proxy = await countingProxy(() => influxd().url);
      after(() => proxy.close());
      proxy.state.down = true;
      await load(flowFor(proxy.url, { measurement: 'enospc', batchSize: 500, flushSeconds: 0.05 }));
      const seen = watch();
      for (let first = 0; first < total; first += 1000) node('w').receive({ payload: points(first, 1000) });
      await until('status disk: ENOSPC', async () =>
        seen.statuses.some((s) => s.fill === 'red' && s.text === 'disk: ENOSPC') ? true : undefined,
      );
      assert.ok(
        seen.errors.some((e) => /disk buffer: cannot store a batch in .*: ENOSPC/.test(e)),
        seen.errors.join('\n'),
      );
      proxy.state.down = false;
      const got = await until(
        `${total} points`,
        async () => {
          const c = await countOf(influxd().url, 'enospc');
          return c.count === total ? c : undefined;
        },
        45_000,
      );
      assert.equal(got.sum, (total * (total - 1)) / 2);
      await until('every point acknowledged', async () =>
        proxy.acknowledged.length >= total ? true : undefined,
      );
      assert.deepEqual(duplicates(proxy.acknowledged), []);
      assert.equal(proxy.acknowledged.length, total);
      await until('an empty disk buffer', async () =>
        readdirSync(bufferDir()).length === 0 ? true : undefined,
      );
      await until('status yellow once nothing waits in memory', async () =>
        seen.statuses.at(-1)?.fill === 'yellow' && seen.statuses.at(-1)?.text === 'disk: ENOSPC'
          ? true
          : undefined,
      );
    });

    it('a buffer made read-only mid-run (EROFS): red status, the flow goes on, each point arrives once', async () => {
      mountTmpfs(bufferDir(), '4m');
      const proxy = await countingProxy(() => influxd().url);
      after(() => proxy.close());
      proxy.state.down = true;
      await load(flowFor(proxy.url, { measurement: 'erofs', batchSize: 500, flushSeconds: 0.05 }));
      const seen = watch();
      node('w').receive({ payload: points(0, 2000), flush: true });
      await until('2,000 points on disk', async () =>
        readdirSync(bufferDir()).filter((f) => f.endsWith('.lpq')).length === 4 ? true : undefined,
      );
      remountReadOnly(bufferDir());
      node('w').receive({ payload: points(2000, 3000), flush: true });
      await until('status disk: EROFS', async () =>
        seen.statuses.some((s) => s.fill === 'red' && s.text === 'disk: EROFS') ? true : undefined,
      );
      proxy.state.down = false;
      const got = await until(
        '5,000 points',
        async () => {
          const c = await countOf(influxd().url, 'erofs');
          return c.count === 5000 ? c : undefined;
        },
        45_000,
      );
      assert.equal(got.sum, (5000 * 4999) / 2);
      await until('every point acknowledged', async () =>
        proxy.acknowledged.length >= 5000 ? true : undefined,
      );
      assert.deepEqual(duplicates(proxy.acknowledged), []);
      assert.equal(proxy.acknowledged.length, 5000);
      // the sent files could not be deleted: said so, not thrown
      assert.ok(
        seen.errors.some((e) => /cannot delete a sent batch .*: EROFS/.test(e)),
        seen.errors.join('\n'),
      );
    });

    it('a corrupt buffer file at start is quarantined (renamed), the rest replayed once', async () => {
      mkdirSync(bufferDir(), { recursive: true });
      writeFileSync(join(bufferDir(), '0000001000000000-3.lpq'), '{"database":"gridfl');
      writeFileSync(
        join(bufferDir(), '0000001000000001-2.lpq'),
        '{}\ncorrupt v=1 1700000000001\ncorrupt v=2 1700000000002\n',
      );
      const proxy = await countingProxy(() => influxd().url);
      after(() => proxy.close());
      await load(flowFor(proxy.url, { measurement: 'corrupt' }));
      const seen = watch();
      node('w').receive({ payload: points(3, 3), flush: true });
      await until('5 points', async () =>
        (await countOf(influxd().url, 'corrupt')).count === 5 ? true : undefined,
      );
      await until('status quarantined 3', async () =>
        seen.statuses.some((s) => s.fill === 'red' && s.text === 'quarantined 3') ? true : undefined,
      );
      assert.deepEqual(readdirSync(bufferDir()), ['0000001000000000-3.lpq.corrupt']);
      assert.equal(proxy.acknowledged.length, 5);
      assert.deepEqual(duplicates(proxy.acknowledged), []);
    });
  });
});

describe('influx-write in a Node-RED process that is killed', function () {
  this.timeout(60_000);
  const influxd = useTestInfluxd('gridflow');
  let userDir: string;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  before(async () => {
    proxy = await countingProxy(() => influxd().url);
    userDir = mkdtempSync(join(tmpdir(), 'gridflow-kill-'));
  });
  after(async () => {
    await proxy?.close();
    rmSync(userDir, { recursive: true, force: true });
  });

  const child = (points: number, first: number) => {
    const proc = spawn(process.execPath, [join(__dirname, '..', 'harness', 'influx-write-process.js')], {
      env: {
        ...process.env,
        USER_DIR: userDir,
        INFLUX_URL: proxy.url,
        POINTS: String(points),
        FIRST: String(first),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d));
    proc.stderr.on('data', (d: Buffer) => (output += d));
    return { proc, output: () => output };
  };
  const bufferedPoints = () => {
    const dir = join(userDir, 'gridflow-buffer', 'w');
    if (!existsSync(dir)) return 0;
    return readdirSync(dir)
      .map((f) => /-(\d+)\.lpq$/.exec(f))
      .reduce((n, m) => n + (m ? Number(m[1]) : 0), 0);
  };

  it('replays the disk buffer after a kill: nothing lost, nothing twice', async () => {
    await influxd().stop();
    const a = child(20_000, 0);
    await until(
      '20,000 points on disk',
      async () => (bufferedPoints() === 20_000 ? true : undefined),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.output()}`);
    });
    a.proc.kill('SIGKILL');
    await new Promise((r) => a.proc.once('exit', r));
    await influxd().restart();
    const b = child(10_000, 20_000);
    try {
      const got = await until('30,000 points', async () => {
        const c = await countOf(influxd().url, 'killed');
        return c.count === 30_000 ? c : undefined;
      });
      assert.equal(got.sum, (30_000 * 29_999) / 2);
      await until('an empty disk buffer', async () => (bufferedPoints() === 0 ? true : undefined));
      assert.deepEqual(duplicates(proxy.acknowledged), [], 'points InfluxDB acknowledged twice');
      assert.equal(proxy.acknowledged.length, 30_000);
    } finally {
      b.proc.kill('SIGKILL');
    }
  });
});

describe('influx-write v2 API against a real VictoriaMetrics', function () {
  this.timeout(60_000);
  let vm: TestVictoriaMetrics;
  let userDir: string;
  before(async () => {
    vm = await startTestVictoriaMetrics();
    userDir = mkdtempSync(join(tmpdir(), 'gridflow-v2-'));
    helper.settings({ userDir });
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await vm?.dispose();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('writes through /api/v2/write with the token, in ns and s precision', async () => {
    for (const precision of ['ns', 's']) {
      const flow = flowFor(
        vm.url,
        { precision, measurement: `v2_${precision}` },
        { apiVersion: 'v2', org: 'gridflow', bucket: 'gridflow' },
      );
      await new Promise<void>((r) =>
        helper.load([influxConnection, influxWrite], flow as never, { conn: { token: 'secret' } }, () => r()),
      );
      const written: Msg[] = [];
      (helper.getNode('written') as unknown as HelperNode).on('input', (m) => written.push(m));
      (helper.getNode('w') as unknown as HelperNode).receive({
        payload: [
          {
            tags: { site: 'a b' },
            fields: { power: 1.5, n: { int: 3 } },
            timestamp: '2024-07-05T12:01:00.250Z',
          },
          {
            tags: { site: 'a b' },
            fields: { power: 2.5, n: { int: 4 } },
            timestamp: Date.parse('2024-07-05T12:01:01.750Z'),
          },
        ],
        flush: true,
      });
      await until('a receipt', async () => (written.length === 1 ? true : undefined));
      assert.deepEqual(written[0].payload, { points: 2 });
      const series = await until('exported series', async () => {
        const s = await vm.exportSeries(`v2_${precision}_.*`);
        return s.length === 2 ? s : undefined;
      });
      const power = series.find((s) => s.metric.__name__ === `v2_${precision}_power`)!;
      assert.deepEqual(power.metric, { __name__: `v2_${precision}_power`, site: 'a b' });
      assert.deepEqual(power.values, [1.5, 2.5]);
      const t0 = Date.parse('2024-07-05T12:01:00.250Z');
      assert.deepEqual(power.timestamps, precision === 'ns' ? [t0, t0 + 1500] : [t0 - 250, t0 + 750]);
      await helper.unload();
    }
  });
});
