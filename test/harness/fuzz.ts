/**
 * The fuzz runner and generators behind test/nodes/<type>.fuzz.test.ts (issue 10, "Bad
 * input"; one spec file per node, issue 18). For every gridflow node that takes input: fast-check
 * streams of random msgs (wrong types, missing fields, NaN/Infinity, -0, huge arrays, deep
 * objects, unicode, timestamps far in the past or future, msg.reset/msg.flush) interleaved
 * with valid msgs, fed to each node type through node-red-node-test-helper.
 *
 * Each run loads one flow with TWO instances of the node: `ref` gets only the valid (and
 * control: reset/flush/retrain) msgs of the stream, `sut` gets the whole stream. Then:
 * - nothing escapes: no 'uncaughtException' / 'unhandledRejection' while the run lasts;
 * - done is called exactly once per msg. How it is observed: Node-RED's documented
 *   `onComplete` messaging hook (@node-red/util hooks) fires once per call of the `done`
 *   that the runtime hands to the node's input handler (Node.prototype._complete), with
 *   the very msg object that was received and the error passed to done. We count those
 *   events per msg object. A handler that throws synchronously never calls done, so it
 *   shows up as 0 calls; one that calls done twice shows 2. (A `complete` node would only
 *   see done() without an error, and a wrapper around the handler would need internals.)
 * - invalid msgs are reported: done(err), node.error(…, msg) (a Catch node in the flow
 *   receives both), or where the node's contract says so a warning (csv rows, turbine
 *   rows) or an HTTP 4xx reply (request nodes). Nodes that report a bad key once (so a
 *   stream of bad msgs does not flood the log) may skip the report for a key that was
 *   reported earlier in the same run;
 * - valid msgs are processed as if the bad ones were not there: the outputs attributed to
 *   each valid msg (msgs are fed one at a time and every output arriving before the next
 *   msg is attributed to the current one) equal those of `ref`;
 * - the runtime is still alive at the end: a canary valid msg still completes.
 * Random msgs never carry reset/flush/retrain (those are control msgs in the valid stream
 * fed to both), and their keys are moved off the valid keys, so they cannot legally
 * change the valid keys' state.
 *
 * Replay a reported failure (`seed S, path P`) with `FUZZ_SEED=S FUZZ_PATH=P npx mocha
 * --config .mocharc.json dist/test/nodes/<type>.fuzz.test.js --grep '<spec name>'`; see
 * replayParameters in ./property-replay (also FUZZ_RUNS).
 */
import { strict as assert } from 'node:assert';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import { freePort } from '../../app/free-port';
import { toEpochMs } from '../../nodes/core/timestamp';
import { eventually } from './eventually';
import { replayParameters } from './property-replay';
import { startTestNatsCluster, type TestNatsCluster } from './nats-cluster';
import { startTestInfluxd, type TestInfluxd } from './influxd';

helper.init(require.resolve('node-red'));

export type Msg = Record<string, unknown>;
export type FlowNode = Record<string, unknown> & { id: string; type: string };
export type NodeModule = (RED: unknown) => void;
export type TestNode = {
  receive(msg: object): void;
  on(event: string, fn: (msg: Msg) => void): void;
  error: (text: unknown, msg?: unknown) => void;
  warn: (text: unknown) => void;
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { hooks } = require('@node-red/util') as {
  hooks: {
    add(name: string, fn: (event: { msg: object; error?: unknown }) => void): void;
    remove(name: string): void;
  };
};

export const ROOT = join(__dirname, '..', '..', '..');
export const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { nodes: Record<string, string> };
};
export const NODE_FILES = PKG['node-red'].nodes;

/** A type takes input when its editor definition says `inputs: 1` (config nodes do not). */
export function takesInput(type: string): boolean {
  const html = readFileSync(join(ROOT, 'nodes', type, `${type}.html`), 'utf8');
  if (/category:\s*['"]config['"]/.test(html)) return false;
  const m = /\binputs\s*:\s*(\d+)/.exec(html);
  return !!m && Number(m[1]) > 0;
}

export function nodeModule(type: string): NodeModule {
  const file = NODE_FILES[type];
  assert.ok(file, `${type} is not listed in package.json node-red.nodes`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(ROOT, file)) as NodeModule;
}

// ---------------------------------------------------------------- arbitraries

export const T0 = Date.UTC(2024, 0, 1);
export const VALID_KEYS = ['v1', 'v2'];
export const validKey = fc.constantFrom(...VALID_KEYS);

/** Times at the edge of (or beyond) what a Date or InfluxDB can hold. */
export const FAR_TIMES: unknown[] = [
  -8.64e15,
  8.64e15,
  8.64e15 + 1,
  1e20,
  -1e20,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  '0001-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00.000Z',
  '1677-09-21T00:12:43Z',
  '2262-04-11T23:47:17Z',
  '99999999999999999999',
  '-99999999999999999999',
  new Date(8.64e15),
  new Date(-8.64e15),
];
export const WEIRD: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  '',
  ' ',
  'NaN',
  'Infinity',
  '-0',
  '12,5',
  '1e400',
  '0x1A',
  null,
  undefined,
  true,
  false,
  [],
  {},
  [null],
  new Date(NaN),
  '\u0000',
  '\ud800',
  'a\u0301🙂',
  '__proto__',
  "'; DROP MEASUREMENT grid_frequency; --",
];
export const unicode = fc.string({ unit: 'binary', maxLength: 30 });
export const hugeArray = fc
  .integer({ min: 20_000, max: 120_000 })
  .map((n) => Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 'x' : i % 13 === 0 ? { v: i } : i)));
export const deepObject = fc.integer({ min: 200, max: 1000 }).map((depth) => {
  let o: Record<string, unknown> = { value: 1, time: T0 };
  // A chain (msgs from JSON or MQTT are trees), alternating objects and arrays.
  for (let i = 0; i < depth; i++)
    o = i % 2 === 0 ? { payload: o, value: i } : ([o, i] as unknown as Record<string, unknown>);
  return o;
});
/**
 * Random values. `far` adds times at the edge of (or beyond) what a Date holds; off only
 * for cov-resampler, whose far-time bug would exhaust the heap of the whole test process
 * (see the isolated test in cov-resampler.fuzz.test.ts).
 */
export function chaosOf(far: boolean): fc.Arbitrary<unknown> {
  const anything = fc.anything({
    maxDepth: 3,
    maxKeys: 5,
    withBigInt: true,
    withDate: far,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
  });
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<unknown>(...WEIRD, ...(far ? FAR_TIMES : [])) },
    { weight: 4, arbitrary: anything },
    { weight: 2, arbitrary: unicode },
    { weight: 2, arbitrary: far ? fc.double() : fc.double({ min: -1e11, max: 1e11 }) },
    { weight: 1, arbitrary: fc.integer({ min: far ? -1e16 : 1e12, max: far ? 1e16 : 2e12 }) },
    { weight: 1, arbitrary: hugeArray },
    { weight: 1, arbitrary: deepObject },
  );
}
export const CHAOS_FIELDS = [
  'timestamp',
  'time',
  'value',
  'key',
  'measurement',
  'tags',
  'fields',
  'database',
  'retentionPolicy',
  'bucket',
  'org',
  'params',
  'query',
  'req',
  'seriesQuery',
  'footprintQuery',
  'target',
  'headers',
  'parts',
];
/** Fields that change state on purpose: only control msgs (fed to both nodes) carry them. */
export const CONTROL_FIELDS = ['reset', 'flush', 'retrain', 'until', 'filename'];

export function randomMsg(chaos: fc.Arbitrary<unknown>): fc.Arbitrary<Msg> {
  return fc
    .record({
      topic: fc.oneof(fc.constant('chaos'), unicode, chaos),
      payload: chaos,
      extra: fc.dictionary(fc.constantFrom(...CHAOS_FIELDS), chaos, { maxKeys: 4 }),
    })
    .map(({ topic, payload, extra }) => ({ ...extra, topic, payload }));
}

/** Every path in a msg (objects and arrays, a few levels deep). */
export function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (prefix.length > 0) out.push(prefix);
  if (prefix.length >= 4 || value === null || typeof value !== 'object') return out;
  const proto = Object.getPrototypeOf(value) as unknown;
  const isArray = Array.isArray(value);
  if (!isArray && proto !== Object.prototype && proto !== null) return out; // Dates, Maps, boxed values…
  const keys: (string | number)[] = isArray
    ? Array.from({ length: Math.min((value as unknown[]).length, 5) }, (_, i) => i)
    : Object.keys(value).slice(0, 8);
  for (const k of keys) pathsOf((value as Record<string | number, unknown>)[k], [...prefix, k], out);
  return out;
}

/** A valid msg with one to three values (anywhere in it) replaced by random ones. */
export function mutated(valid: fc.Arbitrary<Msg>, chaos: fc.Arbitrary<unknown>): fc.Arbitrary<Msg> {
  return fc
    .record({ base: valid, changes: fc.array(fc.tuple(fc.nat(), chaos), { minLength: 1, maxLength: 3 }) })
    .map(({ base, changes }) => {
      const msg = structuredClone(base);
      for (const [pick, value] of changes) {
        const paths = pathsOf(msg).filter((p) => p[0] !== '_fuzz');
        if (paths.length === 0) break;
        const path = paths[pick % paths.length];
        let parent = msg as Record<string | number, unknown>;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
        parent[path[path.length - 1]] = value;
      }
      return msg;
    });
}

export const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });
export const validNumber = fc.oneof(
  finite,
  fc.constant(-0),
  fc.integer({ min: -1000, max: 1000 }).map(String),
);
export const badNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    NaN,
    Infinity,
    -Infinity,
    'abc',
    '12,5',
    '',
    '  ',
    null,
    undefined,
    true,
    {},
    [],
    [1, 2],
  ),
  unicode.filter((s) => s.trim() === '' || !Number.isFinite(Number(s.trim()))),
  hugeArray,
  deepObject,
);
export const eventTime = (maxSeconds: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: maxSeconds }), fc.constantFrom('ms', 'iso', 'date', 'text-ms'))
    .map(([s, form]) => {
      const ms = T0 + s * 1000;
      return form === 'ms'
        ? ms
        : form === 'iso'
          ? new Date(ms).toISOString()
          : form === 'date'
            ? new Date(ms)
            : String(ms);
    });
export const badTime = fc.constantFrom<unknown>(
  'not a time',
  '2024-13-01T00:00:00Z',
  '2023-02-29T00:00:00Z',
  NaN,
  Infinity,
  {},
  [],
  true,
  null,
  undefined,
  new Date(NaN),
  '',
);

// ---------------------------------------------------------------- the per-type table

export interface Env {
  /** The fake HTTP API (api-poller's `/records`). */
  apiUrl: string;
  /** The real test influxd, when the spec file asked for one (`describeFuzz(…, { influxd: true })`). */
  influxd: TestInfluxd | undefined;
  /** A standalone JetStream nats-server (nats-out), when asked for. */
  natsUrl: string;
  closedUrl: string;
  userDir: string;
  apiRequests: () => number;
  /** Notes the API request count before a msg is fed. */
  apiMark: () => void;
  /** Waits until a request after the mark was answered and the API is quiet. */
  apiIdle: (startWithinMs: number) => Promise<void>;
}

export interface Spec {
  /** Node type; `name` tells variants apart. */
  type: string;
  name?: string;
  outputs: number;
  config: (role: 'ref' | 'sut', env: Env) => Record<string, unknown>;
  configNodes?: (role: 'ref' | 'sut', env: Env) => FlowNode[];
  /** Other node types the flow needs (config nodes). */
  uses?: string[];
  valid: fc.Arbitrary<Msg>;
  invalid: fc.Arbitrary<Msg>;
  /** Control msgs (reset, flush, …), fed to both instances. */
  controls?: fc.Arbitrary<Msg>;
  /** Moves a random msg's key off the valid keys (stateful nodes). */
  rekey?: (msg: Msg) => void;
  /** Ways besides done(err)/node.error that the contract reports bad input. */
  reportedBy?: Array<'warn' | 'reply4xx'>;
  /** Nodes that report each bad key once: the key of a msg. */
  dedupeKey?: (msg: Msg) => string;
  /** Waits for a msg's asynchronous effects before the next msg is fed. */
  afterFeed?: (env: Env, msg: Msg, kind: Kind) => Promise<void>;
  /** Compares the set of outputs instead of per-msg outputs (asynchronous sources). */
  compareAsSet?: boolean;
  /** What a valid msg must at least produce (so the comparison cannot pass vacuously). */
  expectValid?: (outs: Out[], msg: Msg) => void;
  /** Prepares the services before each run (e.g. empty databases in the test influxd). */
  beforeRun?: (env: Env) => Promise<void>;
  /**
   * Extra comparison after the run (e.g. what reached InfluxDB); gets the valid msgs fed and
   * every output of each instance so far (live: outputs still arriving are appended).
   */
  afterRun?: (env: Env, validMsgs: Msg[], outputs: RunOutputs) => Promise<void>;
  numRuns?: number;
  doneTimeoutMs?: number;
  /** Keeps only the part of an output that belongs to the valid keys (undefined drops it). */
  keepOutput?: (out: Out) => Out | undefined;
  /** false: outputs are not compared (afterRun compares what matters). */
  compareOutputs?: boolean;
  /** Keeps random times within a few decades of now (see chaosOf). */
  nearTimesOnly?: boolean;
}

export interface Out {
  port: number;
  msg: Msg;
}

/** Every output of each instance in arrival order, before `keepOutput`. */
export interface RunOutputs {
  ref: readonly Out[];
  sut: readonly Out[];
}

export const VALID_TURBINES = ['t1', 't2'];
/**
 * cov-resampler fills every bucket between two readings (LOCF): a random reading decades
 * away makes millions of buckets (the bug the isolated test in cov-resampler.fuzz.test.ts shows). Random msgs for
 * it keep only times within 30 days of the valid ones.
 */
export const nearTimes = (m: Msg) => {
  const near = (v: unknown) => {
    const t = toEpochMs(v);
    return t === undefined || Math.abs(t - T0) < 30 * 86_400_000;
  };
  if (!near(m.timestamp)) delete m.timestamp;
  if (Array.isArray(m.payload))
    for (const p of m.payload as Msg[])
      if (p && typeof p === 'object') {
        if (!near(p.time)) delete p.time;
        if (!near(p.timestamp)) delete p.timestamp;
      }
};
export const topicOff = (msg: Msg) => {
  if (VALID_KEYS.includes(msg.topic as string)) msg.topic = 'chaos';
};
export const perKey = (msg: Msg) => (typeof msg.topic === 'string' ? msg.topic : '');
export const oneOutput = (outs: Out[]) =>
  assert.equal(outs.length, 1, `one output per valid msg, got ${outs.length}`);

export const halfHour = (i: number) => T0 + i * 1_800_000;
export const seriesName = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,10}$/);
export const writeConnection = (role: 'ref' | 'sut', url: string): FlowNode => ({
  id: `conn-${role}`,
  type: 'influx-connection',
  name: '',
  url,
  apiVersion: 'v1',
  database: `fuzz_${role}`,
  retentionPolicy: '',
  org: '',
  bucket: '',
});

// ---------------------------------------------------------------- running one stream

export type Kind = 'valid' | 'invalid' | 'random' | 'control';
export interface Fed {
  kind: Kind;
  msg: Msg;
}

export const completions = new Map<object, unknown[]>();
export const settle = async (turns = 3) => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

export async function waitDone(msg: object, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!completions.has(msg) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

export function streamOf(spec: Spec): fc.Arbitrary<Fed[]> {
  const chaos = chaosOf(!spec.nearTimesOnly);
  const random = fc.oneof(randomMsg(chaos), mutated(spec.valid, chaos)).map((msg) => {
    for (const f of CONTROL_FIELDS) delete msg[f];
    spec.rekey?.(msg);
    return msg;
  });
  const item = fc.oneof(
    { weight: 4, arbitrary: spec.valid.map((msg): Fed => ({ kind: 'valid', msg })) },
    { weight: 2, arbitrary: spec.invalid.map((msg): Fed => ({ kind: 'invalid', msg })) },
    { weight: 3, arbitrary: random.map((msg): Fed => ({ kind: 'random', msg })) },
    ...(spec.controls
      ? [{ weight: 1, arbitrary: spec.controls.map((msg): Fed => ({ kind: 'control', msg })) }]
      : []),
  );
  return fc.array(item, { minLength: 4, maxLength: 24 });
}

export function flowFor(spec: Spec, env: Env): FlowNode[] {
  const flow: FlowNode[] = [{ id: 'tab', type: 'tab', label: 'fuzz' } as FlowNode];
  for (const role of ['ref', 'sut'] as const) {
    for (const c of spec.configNodes?.(role, env) ?? []) flow.push(c);
    const wires = Array.from({ length: spec.outputs }, (_, i) => [`${role}-out${i}`]);
    flow.push({
      id: role,
      z: 'tab',
      x: 0,
      y: 0,
      type: spec.type,
      name: '',
      wires,
      ...spec.config(role, env),
    });
    for (let i = 0; i < spec.outputs; i++)
      flow.push({ id: `${role}-out${i}`, z: 'tab', x: 0, y: 0, type: 'helper' });
  }
  // A Catch node, as users wire one: done(err) and node.error(…, msg) reach it.
  flow.push({
    id: 'catcher',
    z: 'tab',
    x: 0,
    y: 0,
    type: 'catch',
    scope: null,
    uncaught: false,
    wires: [['caught']],
  });
  flow.push({ id: 'caught', z: 'tab', x: 0, y: 0, type: 'helper' });
  return flow;
}

interface Observed {
  outs: Out[][]; // per fed index
  late: Out[]; // after the last msg
  reports: Map<object, string[]>; // error/warn/reply per msg
  orderedErrors: object[]; // msgs with an error report, in order
  all: Out[]; // every output in arrival order, also after the last msg
}

export function observe(
  node: TestNode,
  role: string,
  outputs: number,
  current: () => number,
  keep: (out: Out) => Out | undefined,
): Observed {
  const o: Observed = { outs: [], late: [], reports: new Map(), orderedErrors: [], all: [] };
  const add = (msg: unknown, text: string, isError: boolean) => {
    if (!msg || typeof msg !== 'object') return;
    const list = o.reports.get(msg) ?? [];
    list.push(text);
    o.reports.set(msg, list);
    if (isError) o.orderedErrors.push(msg);
  };
  const error = node.error.bind(node);
  node.error = (text: unknown, msg?: unknown) => {
    add(msg, `error: ${String((text as Error)?.message ?? text)}`, true);
    error(text, msg);
  };
  const warn = node.warn.bind(node);
  let lastMsg: object | undefined;
  node.warn = (text: unknown) => {
    // node.warn has no msg argument: a warning belongs to the msg being handled.
    if (lastMsg) add(lastMsg, `warn: ${String(text)}`, false);
    warn(text);
  };
  (o as Observed & { setCurrent(m: object): void }).setCurrent = (m: object) => (lastMsg = m);
  for (let i = 0; i < outputs; i++) {
    helper.getNode(`${role}-out${i}`).on('input', (msg: Msg) => {
      const out = { port: i, msg: cloneForCompare(msg) };
      o.all.push(out);
      const kept = keep(out);
      if (kept) (o.outs[current()] ??= []).push(kept);
    });
  }
  return o;
}

export function cloneForCompare(msg: Msg): Msg {
  const { _msgid, req, res, ...rest } = msg; // eslint-disable-line @typescript-eslint/no-unused-vars
  let copy: Msg;
  try {
    copy = structuredClone(rest);
  } catch {
    copy = JSON.parse(JSON.stringify(rest)) as Msg;
  }
  return stripVolatile(copy) as Msg;
}

/** Run durations and rates differ between two identical runs. */
export function stripVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripVolatile);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      if (!/durationMs|PerSecond/i.test(k)) out[k] = stripVolatile(v);
    return out;
  }
  return value;
}

export async function feedAll(
  spec: Spec,
  env: Env,
  node: TestNode,
  seen: Observed,
  items: Fed[],
  setIndex: (i: number) => void,
): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    setIndex(i);
    (seen as Observed & { setCurrent(m: object): void }).setCurrent(items[i].msg);
    env.apiMark();
    node.receive(items[i].msg);
    await waitDone(items[i].msg, spec.doneTimeoutMs ?? 3000);
    await settle();
    if (spec.afterFeed) await spec.afterFeed(env, items[i].msg, items[i].kind);
  }
}

export async function runStream(spec: Spec, env: Env, stream: Fed[]): Promise<void> {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  completions.clear();
  await spec.beforeRun?.(env);
  const modules = [spec.type, ...(spec.uses ?? [])].map(nodeModule);
  try {
    await helper.load(modules, flowFor(spec, env));
    const ref = helper.getNode('ref') as unknown as TestNode;
    const sut = helper.getNode('sut') as unknown as TestNode;
    assert.ok(ref && sut, `${spec.type} did not start with the fuzz config`);
    let refAt = 0;
    let sutAt = 0;
    const keep = spec.keepOutput ?? ((out: Out) => out);
    const refSeen = observe(ref, 'ref', spec.outputs, () => refAt, keep);
    const sutSeen = observe(sut, 'sut', spec.outputs, () => sutAt, keep);

    // Each instance gets its own copies: nodes may change the msgs they receive.
    const refItems = stream
      .filter((f) => f.kind === 'valid' || f.kind === 'control')
      .map((f) => ({ ...f, msg: structuredClone(f.msg) }));
    const sutItems = stream.map((f) => ({ ...f, msg: structuredClone(f.msg) }));
    await feedAll(spec, env, ref, refSeen, refItems, (i) => (refAt = i));
    await feedAll(spec, env, sut, sutSeen, sutItems, (i) => (sutAt = i));
    refAt = sutAt = Number.MAX_SAFE_INTEGER;
    await new Promise((r) => setTimeout(r, spec.compareAsSet ? 200 : 5));
    await settle();

    // 1. done exactly once per msg, valid msgs without an error.
    for (const [items, seen, who] of [
      [refItems, refSeen, 'ref'],
      [sutItems, sutSeen, 'sut'],
    ] as const) {
      for (const [i, { kind, msg }] of items.entries()) {
        const calls = completions.get(msg) ?? [];
        check(
          calls.length === 1,
          () => `${who} msg #${i} (${kind}): done called ${calls.length} times for ${show(msg)}`,
        );
        if (kind === 'valid' || kind === 'control') {
          check(
            calls[0] === undefined,
            () => `${who} valid msg #${i} failed: ${String(calls[0])} ${show(msg)}`,
          );
          const errors = (seen.reports.get(msg) ?? []).filter((r) => r.startsWith('error'));
          check(
            errors.length === 0,
            () => `${who} valid msg #${i} reported ${errors.join('; ')}: ${show(msg)}`,
          );
        }
      }
    }
    // 2. invalid msgs are reported.
    const reportedKeys = new Set<string>();
    for (const [i, { kind, msg }] of sutItems.entries()) {
      const reports = sutSeen.reports.get(msg) ?? [];
      const outs = sutSeen.outs[i] ?? [];
      const error = completions.get(msg)?.[0] !== undefined || reports.some((r) => r.startsWith('error'));
      const warned = spec.reportedBy?.includes('warn') && reports.some((r) => r.startsWith('warn'));
      const replied =
        spec.reportedBy?.includes('reply4xx') &&
        outs.some((o) => Number(o.msg.statusCode) >= 400 && Number(o.msg.statusCode) < 500);
      const key = spec.dedupeKey?.(msg);
      if (kind === 'invalid') {
        const earlier = key !== undefined && reportedKeys.has(key);
        check(
          error || warned || replied || earlier,
          () => `sut invalid msg #${i} was not reported: ${show(msg)}`,
        );
      }
      // A node that reports each key once may have spent that report on a warning.
      if (key !== undefined && (error || reports.length > 0)) reportedKeys.add(key);
    }
    // 3. the valid msgs' outputs are those of the valid msgs alone.
    const validOuts = (items: Fed[], seen: Observed) =>
      items.flatMap((f, i) => (f.kind === 'valid' || f.kind === 'control' ? [seen.outs[i] ?? []] : []));
    const refOuts = validOuts(refItems, refSeen);
    const sutOuts = validOuts(sutItems, sutSeen);
    if (spec.compareOutputs === false) {
      // compared in afterRun
    } else if (spec.compareAsSet) {
      const key = (o: Out) => JSON.stringify([o.port, o.msg.topic, o.msg.payload]);
      const all = (seen: Observed) => [...seen.outs.flat(), ...seen.late].filter(Boolean).map(key);
      const lacking = () => {
        const sutSet = new Set(all(sutSeen));
        return [...new Set(all(refSeen))].find((k) => !sutSet.has(k));
      };
      // An asynchronous source (a poll answered on a loaded machine) may still be delivering.
      await eventually(
        'every output of ref also at sut',
        10_000,
        async () => (lacking() ? undefined : true),
        20,
      ).catch(() => undefined);
      const missing = lacking();
      assert.ok(missing === undefined, `sut lacks the output ${missing?.slice(0, 300)}`);
    } else {
      for (let i = 0; i < refOuts.length; i++)
        assert.deepEqual(sutOuts[i], refOuts[i], `outputs of valid msg ${i} differ`);
    }
    if (spec.expectValid) {
      const refValid = refItems.filter((f) => f.kind === 'valid');
      refValid.forEach((f) => spec.expectValid!(refSeen.outs[refItems.indexOf(f)] ?? [], f.msg));
    }
    await spec.afterRun?.(
      env,
      refItems.filter((f) => f.kind === 'valid').map((f) => f.msg),
      { ref: refSeen.all, sut: sutSeen.all },
    );

    // 4. still alive: a canary valid msg completes without error.
    const canary = fc.sample(spec.valid, { numRuns: 1, seed: 7 })[0];
    sut.receive(canary);
    await waitDone(canary, spec.doneTimeoutMs ?? 3000);
    assert.equal(completions.get(canary)?.length, 1, 'the node still handles msgs after the stream');
    assert.ok(helper.getNode('sut'), 'the node is still deployed');
    assert.deepEqual(uncaught.map(String), [], 'uncaught exceptions or unhandled rejections');
  } finally {
    await helper.unload();
    // influx-write's disk buffer (per node id) would replay this run's points into the next.
    rmSync(join(env.userDir, 'gridflow-buffer'), { recursive: true, force: true });
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
}

/** fast-check's own report prints whole counterexamples (huge, or too deep to print). */
export async function shortReport(details: fc.RunDetails<[Fed[]]>): Promise<void> {
  if (!details.failed) return;
  const stream = details.counterexample?.[0] ?? [];
  const lines = stream.map((f, i) => `  #${i} ${f.kind}: ${show(f.msg)}`);
  const error = details.errorInstance as Error | undefined;
  throw new Error(
    `failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}): ` +
      `${error?.message ?? 'no error'}\nstream:\n${lines.join('\n')}`,
  );
}

/** An assertion whose message is only built when it fails (some msgs are huge). */
export function check(condition: unknown, message: () => string): void {
  if (!condition) throw new assert.AssertionError({ message: message() });
}

export function show(msg: Msg): string {
  try {
    const text = JSON.stringify(msg, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : Array.isArray(v) && v.length > 20 ? `[array of ${v.length}]` : v,
    );
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(msg);
  }
}

// ---------------------------------------------------------------- services

/**
 * A fake HTTP API for api-poller: `/records?q=` answers three records made from `q`, and
 * counts requests so a spec can wait for the polls a msg triggered.
 */
async function startFakeApi(): Promise<{
  server: Server;
  env: Omit<Env, 'influxd' | 'natsUrl' | 'userDir'>;
}> {
  let requests = 0;
  let inFlight = 0;
  let lastAt = Date.now();
  let mark = 0;
  const server = createServer((req, res) => {
    inFlight++;
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    req.on('end', () => {
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
        inFlight--;
        lastAt = Date.now();
      };
      if (url.pathname === '/records') {
        const q = url.searchParams.get('q') ?? '';
        return answer(200, {
          data: [0, 1, 2].map((i) => ({ time: T0 + i * 60_000, q, value: q.charCodeAt(0) + i })),
        });
      }
      answer(404, { error: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    env: {
      apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      closedUrl: `http://127.0.0.1:${await freePort()}`, // nothing listens there
      apiRequests: () => requests,
      apiMark: () => (mark = requests),
      apiIdle: async (startWithinMs: number) => {
        // A triggered poll starts a moment after done: wait for it, then for quiet.
        const before = mark;
        const deadline = Date.now() + startWithinMs;
        while (requests === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        while ((inFlight > 0 || Date.now() - lastAt < 15) && Date.now() < deadline + 1000)
          await new Promise((r) => setTimeout(r, 2));
        await settle();
      },
    },
  };
}

export interface FuzzServices {
  /** Start the real test influxd (test/harness/influxd.ts) for the specs. */
  influxd?: boolean;
  /** Start a one-server JetStream NATS cluster for the specs. */
  nats?: boolean;
}

/**
 * Mocha hooks for a fuzz spec file: the services it asks for, a temp userDir (influx-write
 * keeps its disk buffer there), and the onComplete hook that counts done calls. Returns
 * the getter of the environment the specs run in.
 */
export function useFuzzEnv(services: FuzzServices = {}): () => Env {
  let server: Server | undefined;
  let nats: TestNatsCluster | undefined;
  let env: Env | undefined;
  before(async function () {
    this.timeout(60_000);
    const api = await startFakeApi();
    server = api.server;
    const influxd = services.influxd ? await startTestInfluxd('gridflow') : undefined;
    nats = services.nats ? await startTestNatsCluster({ size: 1, partitions: 2 }) : undefined;
    env = {
      ...api.env,
      influxd,
      natsUrl: nats?.urls[0] ?? '',
      userDir: mkdtempSync(join(tmpdir(), 'gridflow-fuzz-')),
    };
    helper.settings({
      userDir: env.userDir,
      logging: { console: { level: 'off', metrics: false, audit: false } },
    });
    hooks.add('onComplete.fuzz', (event) => {
      const list = completions.get(event.msg) ?? [];
      list.push(event.error);
      completions.set(event.msg, list);
    });
  });
  after(async () => {
    hooks.remove('onComplete.fuzz');
    helper.settings({});
    await new Promise((r) => server?.close(r));
    await nats?.dispose();
    await env?.influxd?.dispose();
    if (env) rmSync(env.userDir, { recursive: true, force: true });
  });
  return () => {
    if (!env) throw new Error('the fuzz environment is not started: use it inside a test or hook');
    return env;
  };
}

/** One test per spec: random msgs never crash it, each gets one done, bad ones are reported, good ones unaffected. */
export function fuzzSpecs(specs: Spec[], env: () => Env): void {
  const replay = replayParameters();
  for (const spec of specs) {
    it(`${spec.name ?? spec.type}: random msgs never crash it, each gets one done, bad ones are reported, good ones unaffected`, async function () {
      this.timeout(120_000);
      await fc.assert(
        fc.asyncProperty(streamOf(spec), async (stream) => runStream(spec, env(), stream)),
        { numRuns: spec.numRuns ?? 30, endOnFailure: true, asyncReporter: shortReport, ...replay },
      );
    });
  }
}

/** The test influxd of a spec file that asked for one. */
export function influxdOf(env: Env): TestInfluxd {
  if (!env.influxd) throw new Error('this spec needs useFuzzEnv({ influxd: true })');
  return env.influxd;
}

/**
 * A spec file's describe block: the services it asks for, one test per spec, and `more`
 * for the node's own extra fuzz tests (given the environment getter).
 */
export function describeFuzz(
  type: string,
  specs: Spec[],
  services: FuzzServices = {},
  more?: (env: () => Env) => void,
): void {
  describe(`${type} under random msgs (fast-check fuzz)`, function () {
    this.timeout(120_000);
    const env = useFuzzEnv(services);
    fuzzSpecs(specs, env);
    more?.(env);
  });
}
