/**
 * Faults, app-level (issue 10): the app as a user starts it, a real InfluxDB that we stop,
 * start and keep down, and a SIGKILL of the app itself. The userDir holds one small test
 * tab (no shipped tabs):
 *   POST /fault/points   (JSON array of points)           → influx-write (+ 200 answer)
 *   GET  /fault/written  → points acknowledged by InfluxDB (influx-write's receipts, counted
 *                          in the memory context store, so it restarts at 0 with the app)
 *   POST /fault/window   {key, value, time} → moving-window (1 h, per sample) → the window
 *   POST /fault/forecast {key, value, time} → forecaster (1-min steps, persistence); its
 *                          accuracy output is kept for GET /fault/accuracy.
 * Exactly once: InfluxDB stores a point again written with the same series and time only
 * once, so a duplicate write cannot be seen in a count. Where the app keeps running, (a)
 * and (b), the receipts must add up to the points sent (a replay written twice would count
 * twice); after the crash, (c), every point must be there with its exact timestamp.
 * State after SIGKILL, (d): the context store is localfilesystem, flushed every 5 s by the
 * app (settings.ts). The forecaster saves after every step; moving-window checkpoints at
 * wall-clock multiples of checkpointSeconds plus half its hop (60: every minute at :30) and on close,
 * which a SIGKILL skips. So before the kill the test waits until the context file on disk
 * holds moving-window's samples (not for a wall-clock bound, which a loaded machine
 * overruns); the flush that wrote them also wrote the forecaster's earlier save.
 * No step relies on timing: the app is used once it is ready (test/harness/app.ts), and
 * points are killed only once the disk buffer holds every one of them.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { eventually } from '../harness/eventually';

const Z = 'tab.faults';

function faultsTab(): unknown[] {
  const ok = 'faults.ok';
  return [
    { id: Z, type: 'tab', label: 'faults', disabled: false, info: '' },
    {
      id: 'faults.comment',
      type: 'comment',
      z: Z,
      name: 'Fault tests: HTTP in → influx-write / moving-window / forecaster',
      info: 'Reads INFLUX_URL and INFLUX_DB (shared gridflow.influx connection).',
      x: 200,
      y: 40,
      wires: [],
    },
    {
      id: 'faults.in-points',
      type: 'http in',
      z: Z,
      url: '/fault/points',
      method: 'post',
      upload: false,
      x: 120,
      y: 100,
      wires: [['faults.write', ok]],
    },
    {
      id: 'faults.write',
      type: 'influx-write',
      z: Z,
      name: '',
      connection: 'gridflow.influx',
      measurement: '',
      precision: 'ms',
      batchSize: 5000,
      flushSeconds: 0.2,
      bufferMegabytes: 10,
      x: 340,
      y: 100,
      wires: [['faults.count'], []],
    },
    {
      id: 'faults.count',
      type: 'function',
      z: Z,
      name: 'count receipts',
      func: "global.set('written', (global.get('written', 'memory') || 0) + msg.payload.points, 'memory');\nreturn null;",
      outputs: 1,
      x: 560,
      y: 100,
      wires: [[]],
    },
    {
      id: 'faults.in-written',
      type: 'http in',
      z: Z,
      url: '/fault/written',
      method: 'get',
      upload: false,
      x: 120,
      y: 160,
      wires: [['faults.written']],
    },
    {
      id: 'faults.written',
      type: 'function',
      z: Z,
      name: 'receipts',
      func: "msg.payload = { written: global.get('written', 'memory') || 0 };\nreturn msg;",
      outputs: 1,
      x: 340,
      y: 160,
      wires: [[ok]],
    },
    {
      id: 'faults.in-window',
      type: 'http in',
      z: Z,
      url: '/fault/window',
      method: 'post',
      upload: false,
      x: 120,
      y: 220,
      wires: [['faults.window']],
    },
    {
      id: 'faults.window',
      type: 'moving-window',
      z: Z,
      name: '',
      property: 'payload.value',
      keyProperty: 'payload.key',
      timeProperty: 'payload.time',
      windowSeconds: 3600,
      hopSeconds: 0,
      countWindow: 0,
      aggregates: ['mean', 'count'],
      latenessSeconds: 0,
      emitEmpty: false,
      x: 340,
      y: 220,
      wires: [[ok], [ok]],
    },
    {
      id: 'faults.in-forecast',
      type: 'http in',
      z: Z,
      url: '/fault/forecast',
      method: 'post',
      upload: false,
      x: 120,
      y: 280,
      wires: [['faults.forecaster', ok]],
    },
    {
      id: 'faults.forecaster',
      type: 'forecaster',
      z: Z,
      name: '',
      model: 'persistence',
      stepSeconds: 60,
      historySteps: 10,
      property: 'payload.value',
      timeProperty: 'payload.time',
      keyProperty: 'payload.key',
      retrainAt: '',
      x: 340,
      y: 280,
      wires: [[], ['faults.keep-accuracy']],
    },
    {
      id: 'faults.keep-accuracy',
      type: 'function',
      z: Z,
      name: 'keep accuracy',
      func: "global.set('accuracy', msg.payload, 'memory');\nreturn null;",
      outputs: 1,
      x: 560,
      y: 280,
      wires: [[]],
    },
    {
      id: 'faults.in-accuracy',
      type: 'http in',
      z: Z,
      url: '/fault/accuracy',
      method: 'get',
      upload: false,
      x: 120,
      y: 340,
      wires: [['faults.accuracy']],
    },
    {
      id: 'faults.accuracy',
      type: 'function',
      z: Z,
      name: 'accuracy',
      func: "msg.payload = global.get('accuracy', 'memory') || null;\nreturn msg;",
      outputs: 1,
      x: 340,
      y: 340,
      wires: [[ok]],
    },
    { id: ok, type: 'http response', z: Z, name: '', statusCode: '', headers: {}, x: 780, y: 200, wires: [] },
    {
      id: 'gridflow.influx',
      type: 'influx-connection',
      name: 'gridflow InfluxDB',
      url: '${INFLUX_URL}',
      apiVersion: '${INFLUX_API}',
      database: '${INFLUX_DB}',
      retentionPolicy: '',
      org: '${INFLUX_ORG}',
      bucket: '${INFLUX_DB}',
    },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function findFile(dir: string, name: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    } else if (entry.name === name) return path;
  }
  return undefined;
}

/** Samples of key `k` in moving-window's state as the context store last wrote it to disk. */
function savedWindowSamples(userDir: string): number | undefined {
  const file = findFile(join(userDir, 'context'), 'faults.window.json');
  if (!file) return undefined;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      state?: { keys?: Record<string, { window?: { times?: unknown[] } }> };
    };
    return saved.state?.keys?.k?.window?.times?.length;
  } catch {
    return undefined; // caught mid-write
  }
}

/** Points waiting in influx-write's disk buffer (each batch file is named `<seq>-<points>.lpq`). */
function bufferedPoints(bufferDir: string): number {
  if (!existsSync(bufferDir)) return 0;
  return readdirSync(bufferDir).reduce((n, f) => n + Number(/^\d{16}-(\d+)\.lpq$/.exec(f)?.[1] ?? 0), 0);
}

describe('faults: InfluxDB outages and a killed app lose and duplicate nothing (app, real InfluxDB)', function () {
  this.timeout(300_000);
  let influx: TestInfluxd;
  let app: RunningApp;
  let userDir: string;

  const post = async (path: string, body: unknown) =>
    JSON.parse(await postJson(app, path, body)) as Record<string, unknown>;
  const get = async (path: string) =>
    (await (await fetch(`${app.url}${path}`)).json()) as Record<string, unknown>;
  const written = async () => Number((await get('/fault/written')).written);

  /** Points of one run: exact, distinct millisecond timestamps. */
  const sent = new Map<string, number[]>();
  const postPoints = async (measurement: string, count: number) => {
    const list = sent.get(measurement) ?? [];
    const base = Date.UTC(2024, 0, 1) + list.length;
    const points = Array.from({ length: count }, (_, i) => ({
      measurement,
      tags: { run: measurement },
      fields: { seq: list.length + i },
      timestamp: base + i,
    }));
    await post('/fault/points', points);
    list.push(...points.map((p) => p.timestamp));
    sent.set(measurement, list);
  };
  /** Posts 5 points every 100 ms until stopped. */
  const writer = (measurement: string) => {
    let running = true;
    const done = (async () => {
      while (running) {
        await postPoints(measurement, 5);
        await sleep(100);
      }
    })();
    return async () => {
      running = false;
      await done;
    };
  };
  const stored = async (measurement: string) =>
    (await influx.query(`SELECT seq FROM "${measurement}"`)).map((r) => Number(r.time));
  const assertAllOnce = async (measurement: string, timeoutMs: number) => {
    const expected = sent.get(measurement) ?? [];
    assert.ok(expected.length > 0, `nothing was sent for ${measurement}`);
    const times = await eventually(
      `all ${expected.length} ${measurement} points in InfluxDB`,
      timeoutMs,
      async () => {
        const t = await stored(measurement);
        return t.length >= expected.length ? t : undefined;
      },
    );
    assert.deepEqual(
      [...times].sort((a, b) => a - b),
      [...expected].sort((a, b) => a - b),
      `${measurement}: exact timestamps, each once`,
    );
  };

  before(async () => {
    influx = await startTestInfluxd('gridflow');
    userDir = mkdtempSync(join(tmpdir(), 'gridflow-faults-'));
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(faultsTab(), null, 2));
    app = await startApp({ userDir, env: { INFLUX_URL: influx.url, INFLUX_DB: 'gridflow' } });
  });

  after(async () => {
    await app?.dispose();
    await influx?.dispose();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  // (d), first half: state to restore later; the kill comes in (c).
  const T0 = Date.UTC(2024, 5, 1);
  const SAMPLES = 8;
  let accuracyBefore = 0;
  it('(d) moving-window and forecaster take their samples (state checked after the kill below)', async () => {
    for (let i = 0; i < SAMPLES; i++) {
      const win = await post('/fault/window', { key: 'k', value: i, time: T0 + i * 60_000 });
      assert.equal((win as { count: number }).count, i + 1);
      await post('/fault/forecast', { key: 'k', value: 10 + i, time: T0 + i * 60_000 });
    }
    const acc = await eventually('forecaster accuracy', 30_000, async () => {
      const a = (await get('/fault/accuracy')) as { n?: number } | null;
      return a && a.n === SAMPLES - 1 ? a : undefined;
    });
    accuracyBefore = acc.n as number;
  });

  it('(a) InfluxDB stopped for 30 s while the flow writes: every point arrives exactly once', async () => {
    const receiptsBefore = await written();
    const stop = writer('fault_a');
    await sleep(2000);
    await influx.stop();
    await sleep(30_000);
    await influx.restart();
    await sleep(2000);
    await stop();
    await assertAllOnce('fault_a', 45_000); // the writer's retry backoff is capped at 30 s
    const expected = sent.get('fault_a')!.length;
    const receipts = await eventually('receipts', 30_000, async () =>
      (await written()) - receiptsBefore >= expected ? (await written()) - receiptsBefore : undefined,
    );
    await sleep(1000);
    assert.equal(
      (await written()) - receiptsBefore,
      expected,
      'points acknowledged = points sent (no replay twice)',
    );
    assert.equal(receipts, expected);
  });

  it('(b) InfluxDB down for the whole run of a writer, then started: every point arrives exactly once', async () => {
    const receiptsBefore = await written();
    await influx.stop();
    const stop = writer('fault_b');
    await sleep(5000);
    await stop();
    await sleep(500);
    assert.equal(await written(), receiptsBefore, 'nothing acknowledged while InfluxDB is down');
    await influx.restart();
    await assertAllOnce('fault_b', 45_000);
    const expected = sent.get('fault_b')!.length;
    await eventually('receipts', 30_000, async () =>
      (await written()) - receiptsBefore >= expected ? true : undefined,
    );
    await sleep(1000);
    assert.equal((await written()) - receiptsBefore, expected, 'points acknowledged = points sent');
  });

  it('(c) the app killed (SIGKILL) with points in the disk buffer, restarted: none missing, none twice; (d) state restored', async () => {
    await influx.stop();
    const bufferDir = join(userDir, 'gridflow-buffer', 'faults.write');
    await postPoints('fault_c', 50); // fails, spills to disk, the writer starts retrying
    await eventually('the first batch in the disk buffer', 30_000, async () =>
      bufferedPoints(bufferDir) === 50 ? true : undefined,
    );
    for (let i = 0; i < 5; i++) await postPoints('fault_c', 20); // straight to disk while retrying
    await eventually('every fault_c point in the disk buffer', 30_000, async () =>
      bufferedPoints(bufferDir) === 150 ? true : undefined,
    );
    // (d): moving-window's state reaches the disk at its next minute tick + the 5 s flush.
    await eventually('moving-window state on disk', 120_000, async () =>
      savedWindowSamples(userDir) === SAMPLES ? true : undefined,
    );

    await app.kill();
    await app.restart();
    // (d) the first window after the restart holds every earlier sample plus this one.
    const win = (await post('/fault/window', { key: 'k', value: SAMPLES, time: T0 + SAMPLES * 60_000 })) as {
      count: number;
      mean: number;
    };
    assert.equal(win.count, SAMPLES + 1, 'moving-window restored its samples');
    assert.equal(win.mean, (SAMPLES * (SAMPLES + 1)) / 2 / (SAMPLES + 1));
    await post('/fault/forecast', { key: 'k', value: 10 + SAMPLES, time: T0 + SAMPLES * 60_000 });
    const acc = await eventually('forecaster accuracy after the restart', 30_000, async () => {
      const a = (await get('/fault/accuracy')) as { n?: number; mae?: number } | null;
      return a && typeof a.n === 'number' ? a : undefined;
    });
    assert.equal(acc.n, accuracyBefore + 1, 'the forecaster accuracy count continues');
    assert.equal(acc.mae, 1, 'persistence is off by exactly 1 per step on this ramp');

    await influx.restart();
    await assertAllOnce('fault_c', 45_000);
  });
});
