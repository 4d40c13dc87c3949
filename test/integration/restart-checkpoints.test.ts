/**
 * Every stateful node survives a SIGKILL of the app (issue 15): the app as a user starts it
 * (test/harness/app.ts) runs one tab with cov-filter, cov-resampler, turbine-stats,
 * anomaly-flagger (stream), forecaster and api-poller (dedupe against a local HTTP API),
 * each fed through `POST /r/<case>` and checkpointing every second (checkpointSeconds 1).
 * Each case sends its first half, the test waits until the context store's file on disk
 * holds that state (the store flushes every 5 s: settings.ts), kills the app, restarts it,
 * sends the second half, and expects what an uninterrupted run gives. No sleeps: every wait
 * is for a file's content or an output.
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, startApp, type RunningApp } from '../harness/app';
import { eventually } from '../harness/eventually';

const Z = 'tab.restart';
const T0 = Date.UTC(2024, 5, 1);
const MIN = 60_000;

type Out = Record<string, unknown>;
type Outputs = Record<string, Out[]>;

interface RestartCase {
  name: string;
  node: Record<string, unknown>;
  outputs: number;
  /** Bodies posted before the kill. */
  before: unknown[];
  /** True once the saved state (as on disk) holds every `before` input. */
  saved: (state: unknown) => boolean;
  /** Bodies posted after the restart. */
  after: unknown[];
  /** Checks the outputs after the restart against an uninterrupted run. */
  expect: (out: Out[]) => boolean;
  /** Why `expect` holds in an uninterrupted run. */
  what: string;
}

const sample = (key: string, value: number, time: number) => ({ key, value, time });
const row = (minute: number, power: number) => ({
  turbine_id: 'wt1',
  timestamp: new Date(T0 + minute * MIN).toISOString(),
  power_output: power,
});

let apiRecords: Array<{ time: number; v: number }> = [];

const CASES: RestartCase[] = [
  {
    name: 'cov-filter',
    node: { absolute: 1, property: 'payload.value', keyProperty: 'payload.key', timeProperty: '' },
    outputs: 1,
    before: [sample('k', 10, 0), sample('k', 10.5, 0)],
    saved: (s) => (s as { keys?: Record<string, { value: number }> }).keys?.k?.value === 10,
    after: [sample('k', 10.6, 0), sample('k', 11.2, 0)],
    expect: (out) => out.length === 1 && (out[0].cov as { previous?: number } | undefined)?.previous === 10,
    what: '10.6 is within 1 of the last passed 10 (blocked); 11.2 passes against 10',
  },
  {
    name: 'anomaly-flagger',
    node: {
      mode: 'stream',
      version: 1,
      sigmas: 3,
      property: 'payload.value',
      keyProperty: 'payload.key',
      windowSize: 10,
      minCount: 3,
    },
    outputs: 2,
    before: [10, 11, 10, 11, 10].map((v, i) => sample('k', v, i)),
    saved: (s) => (s as Record<string, { values?: number[] }>).k?.values?.length === 5,
    after: [sample('k', 10.5, 5)],
    expect: (out) => out.length === 1 && (out[0].payload as { count?: number }).count === 5,
    what: 'the value is scored against the 5 values before it',
  },
  {
    name: 'turbine-stats',
    node: {
      turbineProperty: 'turbine_id',
      timeProperty: 'timestamp',
      powerProperty: 'power_output',
      periodSeconds: 86400,
      timezone: 'UTC',
      closeOnData: true,
    },
    outputs: 2,
    before: [row(0, 100), row(10, 200), row(20, 300)],
    saved: (s) => (s as { turbines?: Array<{ samples: unknown[] }> }).turbines?.[0]?.samples?.length === 3,
    after: [row(24 * 60 + 5, 50)],
    expect: (out) => {
      const stats = out.find((o) => o.port === 0)?.payload as Array<{ count: number; mean: number }>;
      return stats?.length === 1 && stats[0].count === 3 && stats[0].mean === 200;
    },
    what: 'the first day closes with its 3 rows (mean 200) when a row of the next day arrives',
  },
  {
    name: 'cov-resampler',
    node: {
      property: 'payload.value',
      timeProperty: 'payload.time',
      keyProperty: 'payload.key',
      bucketSeconds: 60,
      method: 'locf',
    },
    outputs: 1,
    before: [sample('k', 10, 0), sample('k', 20, MIN / 2)],
    saved: (s) => (s as Record<string, { times?: number[] }>).k?.times?.includes(T0 + MIN / 2) === true,
    after: [sample('k', 20, MIN)],
    expect: (out) => {
      const b = out[0]?.payload as { mean?: number; count?: number } | undefined;
      return out.length === 1 && b?.mean === 15 && b.count === 2;
    },
    what: 'the first minute holds 10 for 30 s and 20 for 30 s: mean 15 of 2 readings',
  },
  {
    name: 'forecaster',
    node: {
      model: 'persistence',
      stepSeconds: 60,
      historySteps: 10,
      property: 'payload.value',
      timeProperty: 'payload.time',
      keyProperty: 'payload.key',
      retrainAt: '',
    },
    outputs: 2,
    before: [0, 1, 2, 3].map((i) => sample('k', 10 + i, i * MIN)),
    saved: (s) =>
      (s as { keys?: Record<string, { series?: { values?: number[] } }> }).keys?.k?.series?.values?.length ===
      4,
    after: [sample('k', 14, 4 * MIN)],
    expect: (out) => {
      const acc = out.find((o) => o.port === 1)?.payload as { n?: number; mae?: number } | undefined;
      return acc?.n === 4 && acc.mae === 1;
    },
    what: 'the accuracy count continues (4 forecasts scored), persistence off by 1 per step',
  },
  {
    name: 'api-poller',
    node: {
      endpoint: 'r.api',
      url: '/records',
      schedule: 'msg',
      pollOnStart: false,
      timeField: 'time',
      output: 'record',
      maxFutureSeconds: 0,
    },
    outputs: 1,
    before: [{ poll: 1 }],
    saved: (s) => Object.values(s as Record<string, number>).includes(T0 + MIN),
    after: [{ poll: 2 }],
    expect: (out) => out.length === 1 && (out[0].payload as { time: number }).time === T0 + 2 * MIN,
    what: 'only the record that is new since the last poll is sent again',
  },
];

function restartTab(apiUrl: string): unknown[] {
  const nodes: unknown[] = [
    { id: Z, type: 'tab', label: 'restart', disabled: false, info: '' },
    {
      id: 'r.api',
      type: 'api-endpoint',
      baseUrl: apiUrl,
      authIn: 'none',
      keyRequired: false,
      timeoutSeconds: 5,
    },
    { id: 'r.ok', type: 'http response', z: Z, statusCode: '200', headers: {}, wires: [] },
    {
      id: 'r.in-out',
      type: 'http in',
      z: Z,
      url: '/r/out',
      method: 'get',
      upload: false,
      wires: [['r.out']],
    },
    {
      id: 'r.out',
      type: 'function',
      z: Z,
      func: "msg.payload = global.get('out', 'memory') || {};\nreturn msg;",
      outputs: 1,
      wires: [['r.ok']],
    },
  ];
  for (const c of CASES) {
    const id = `r.${c.name}`;
    const keepers = Array.from({ length: c.outputs }, (_, port) => `${id}.keep${port}`);
    nodes.push(
      {
        id: `${id}.in`,
        type: 'http in',
        z: Z,
        url: `/r/${c.name}`,
        method: 'post',
        upload: false,
        wires: [[id, 'r.ok']],
      },
      { id, type: c.name, z: Z, name: '', checkpointSeconds: 1, ...c.node, wires: keepers.map((k) => [k]) },
      ...keepers.map((k, port) => ({
        id: k,
        type: 'function',
        z: Z,
        func:
          "const out = global.get('out', 'memory') || {};\n" +
          `(out['${c.name}'] = out['${c.name}'] || []).push({ port: ${port}, payload: msg.payload, cov: msg.cov });\n` +
          "global.set('out', out, 'memory');\nreturn null;",
        outputs: 1,
        wires: [[]],
      })),
    );
  }
  return nodes;
}

/** The node's context file as the store last wrote it to disk ({ state, stateVersion }). */
function savedContext(
  userDir: string,
  nodeId: string,
): { state?: unknown; stateVersion?: number } | undefined {
  const dir = join(userDir, 'context');
  if (!existsSync(dir)) return undefined;
  for (const sub of readdirSync(dir)) {
    const file = join(dir, sub, `${nodeId}.json`);
    if (!existsSync(file)) continue;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { state?: unknown; stateVersion?: number };
    } catch {
      return undefined; // caught mid-write
    }
  }
  return undefined;
}

describe('restart: every stateful node continues after a SIGKILL as if uninterrupted (app, checkpointSeconds 1)', function () {
  this.timeout(120_000);
  let app: RunningApp;
  let api: Server;
  let userDir: string;

  const post = async (path: string, body: unknown) => {
    await postJson(app, path, body);
  };
  const outputs = async () => (await (await fetch(`${app.url}/r/out`)).json()) as Outputs;
  /** A body with times as offsets from T0 made absolute. */
  const absolute = (body: unknown) => {
    const b = body as { time?: number };
    return typeof b.time === 'number' ? { ...b, time: T0 + b.time } : body;
  };

  before(async () => {
    api = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(apiRecords));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    userDir = mkdtempSync(join(tmpdir(), 'gridflow-restart-'));
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(restartTab(apiUrl), null, 2));
    app = await startApp({ userDir });
  });

  after(async () => {
    await app?.dispose();
    await new Promise((resolve) => api?.close(resolve));
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('saves each node within its checkpoint interval, restores it after the kill, and the results continue', async () => {
    apiRecords = [
      { time: T0, v: 1 },
      { time: T0 + MIN, v: 2 },
    ];
    for (const c of CASES) for (const body of c.before) await post(`/r/${c.name}`, absolute(body));
    await eventually('the api-poller sent both records', 30_000, async () =>
      (await outputs())['api-poller']?.length === 2 ? true : undefined,
    );
    // Killed only once every node's state is on disk: no wall-clock bound to overrun.
    for (const c of CASES)
      await eventually(`${c.name} state on disk`, 30_000, async () => {
        const saved = savedContext(userDir, `r.${c.name}`);
        return saved?.stateVersion === 1 && saved.state !== undefined && c.saved(saved.state)
          ? true
          : undefined;
      });

    await app.kill();
    await app.restart();

    apiRecords = [...apiRecords, { time: T0 + 2 * MIN, v: 3 }];
    for (const c of CASES) for (const body of c.after) await post(`/r/${c.name}`, absolute(body));
    const failures: string[] = [];
    for (const c of CASES) {
      const out = await eventually(`${c.name} output after the restart`, 30_000, async () => {
        const o = (await outputs())[c.name] ?? [];
        return c.expect(o) ? o : undefined;
      }).catch(async () => {
        failures.push(
          `${c.name}: expected ${c.what}; got ${JSON.stringify((await outputs())[c.name] ?? [])}`,
        );
      });
      void out;
    }
    assert.deepEqual(failures, []);
  });
});
