/**
 * Bad input for every gridflow node that takes input (issue 10, "Bad input"): fast-check
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
import { startTestNatsCluster, type TestNatsCluster } from '../harness/nats-cluster';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown>;
type FlowNode = Record<string, unknown> & { id: string; type: string };
type NodeModule = (RED: unknown) => void;
type TestNode = {
  receive(msg: object): void;
  on(event: string, fn: (msg: Msg) => void): void;
  error: (text: unknown, msg?: unknown) => void;
  warn: (text: unknown) => void;
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { hooks } = require('@node-red/util') as {
  hooks: {
    add(name: string, fn: (event: { msg: object; error?: unknown }) => void): void;
    remove(name: string): void;
  };
};

const ROOT = join(__dirname, '..', '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  'node-red': { nodes: Record<string, string> };
};
const NODE_FILES = PKG['node-red'].nodes;

/** A type takes input when its editor definition says `inputs: 1` (config nodes do not). */
function takesInput(type: string): boolean {
  const html = readFileSync(join(ROOT, 'nodes', type, `${type}.html`), 'utf8');
  if (/category:\s*['"]config['"]/.test(html)) return false;
  const m = /\binputs\s*:\s*(\d+)/.exec(html);
  return !!m && Number(m[1]) > 0;
}

function nodeModule(type: string): NodeModule {
  const file = NODE_FILES[type];
  assert.ok(file, `${type} is not listed in package.json node-red.nodes`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(ROOT, file)) as NodeModule;
}

// ---------------------------------------------------------------- arbitraries

const T0 = Date.UTC(2024, 0, 1);
const VALID_KEYS = ['v1', 'v2'];
const validKey = fc.constantFrom(...VALID_KEYS);

/** Times at the edge of (or beyond) what a Date or InfluxDB can hold. */
const FAR_TIMES: unknown[] = [
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
const WEIRD: unknown[] = [
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
const unicode = fc.string({ unit: 'binary', maxLength: 30 });
const hugeArray = fc
  .integer({ min: 20_000, max: 120_000 })
  .map((n) => Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 'x' : i % 13 === 0 ? { v: i } : i)));
const deepObject = fc.integer({ min: 200, max: 1000 }).map((depth) => {
  let o: Record<string, unknown> = { value: 1, time: T0 };
  // A chain (msgs from JSON or MQTT are trees), alternating objects and arrays.
  for (let i = 0; i < depth; i++)
    o = i % 2 === 0 ? { payload: o, value: i } : ([o, i] as unknown as Record<string, unknown>);
  return o;
});
/**
 * Random values. `far` adds times at the edge of (or beyond) what a Date holds; off only
 * for cov-resampler, whose far-time bug would exhaust the heap of the whole test process
 * (see the separate, isolated test at the end of this file).
 */
function chaosOf(far: boolean): fc.Arbitrary<unknown> {
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
const CHAOS_FIELDS = [
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
const CONTROL_FIELDS = ['reset', 'flush', 'retrain', 'until', 'filename'];

function randomMsg(chaos: fc.Arbitrary<unknown>): fc.Arbitrary<Msg> {
  return fc
    .record({
      topic: fc.oneof(fc.constant('chaos'), unicode, chaos),
      payload: chaos,
      extra: fc.dictionary(fc.constantFrom(...CHAOS_FIELDS), chaos, { maxKeys: 4 }),
    })
    .map(({ topic, payload, extra }) => ({ ...extra, topic, payload }));
}

/** Every path in a msg (objects and arrays, a few levels deep). */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
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
function mutated(valid: fc.Arbitrary<Msg>, chaos: fc.Arbitrary<unknown>): fc.Arbitrary<Msg> {
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

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const validNumber = fc.oneof(finite, fc.constant(-0), fc.integer({ min: -1000, max: 1000 }).map(String));
const badNumber: fc.Arbitrary<unknown> = fc.oneof(
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
const eventTime = (maxSeconds: number) =>
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
const badTime = fc.constantFrom<unknown>(
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

interface Env {
  server: string;
  /** A standalone JetStream nats-server (nats-out). */
  natsUrl: string;
  closedUrl: string;
  userDir: string;
  writes: Map<string, string[]>;
  apiRequests: () => number;
  /** Notes the API request count before a msg is fed. */
  apiMark: () => void;
  /** Waits until a request after the mark was answered and the API is quiet. */
  apiIdle: (startWithinMs: number) => Promise<void>;
}

interface Spec {
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
  /** Extra comparison after the run (e.g. what reached the fake InfluxDB). */
  afterRun?: (env: Env) => Promise<void>;
  numRuns?: number;
  doneTimeoutMs?: number;
  /** Keeps only the part of an output that belongs to the valid keys (undefined drops it). */
  keepOutput?: (out: Out) => Out | undefined;
  /** false: outputs are not compared (afterRun compares what matters). */
  compareOutputs?: boolean;
  /** Keeps random times within a few decades of now (see chaosOf). */
  nearTimesOnly?: boolean;
}

interface Out {
  port: number;
  msg: Msg;
}

const VALID_TURBINES = ['t1', 't2'];
/**
 * cov-resampler fills every bucket between two readings (LOCF): a random reading decades
 * away makes millions of buckets (the bug the isolated test below shows). Random msgs for
 * it keep only times within 30 days of the valid ones.
 */
const nearTimes = (m: Msg) => {
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
const topicOff = (msg: Msg) => {
  if (VALID_KEYS.includes(msg.topic as string)) msg.topic = 'chaos';
};
const perKey = (msg: Msg) => (typeof msg.topic === 'string' ? msg.topic : '');
const oneOutput = (outs: Out[]) =>
  assert.equal(outs.length, 1, `one output per valid msg, got ${outs.length}`);

const halfHour = (i: number) => T0 + i * 1_800_000;
const bucketMsg = fc
  .record({ topic: validKey, i: fc.integer({ min: 0, max: 95 }), mean: finite })
  .map(({ topic, i, mean }) => ({
    topic,
    payload: {
      bucket_id: (i % 48) + 1,
      start: new Date(halfHour(i)).toISOString(),
      end: new Date(halfHour(i + 1)).toISOString(),
      mean,
      energy: mean / 2,
      count: 3,
      filled: false,
      stale: false,
    },
  }));
const intensityMsg = fc
  .record({
    day: fc.integer({ min: 0, max: 1 }),
    values: fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 48, maxLength: 48 }),
  })
  .map(({ day, values }) => {
    const date = new Date(T0 + day * 86_400_000).toISOString().slice(0, 10);
    return {
      topic: 'intensity',
      target: { date },
      payload: {
        data: values.map((v, i) => ({
          from: new Date(T0 + day * 86_400_000 + i * 1_800_000).toISOString().replace(':00.000Z', 'Z'),
          to: new Date(T0 + day * 86_400_000 + (i + 1) * 1_800_000).toISOString().replace(':00.000Z', 'Z'),
          intensity: { forecast: v, actual: v, index: 'moderate' },
        })),
      },
    };
  });
const seriesName = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,10}$/);
const point = fc.record({
  measurement: fc.constantFrom('m1', 'm 2', 'm,3'),
  tags: fc.record({ site: fc.constantFrom('a', 'b c', 'd=e') }),
  fields: fc.record({ value: finite, ok: fc.boolean(), note: fc.constantFrom('x', 'y "z"') }),
  timestamp: fc.integer({ min: 0, max: 86_400 }).map((s) => T0 + s * 1000),
});
const influxWriteValid = fc.oneof(
  point.map((p) => ({ payload: p })),
  fc.array(point, { minLength: 1, maxLength: 5 }).map((ps) => ({ payload: ps })),
  fc
    .record({ v: finite, t: fc.integer({ min: 0, max: 86_400 }) })
    .map(({ v, t }) => ({ measurement: 'm4', payload: v, timestamp: T0 + t * 1000 })),
);
const influxWriteInvalid = fc.oneof(
  fc
    .constantFrom<unknown>('text', true, null, undefined, new Date(T0), [1, 'x'], [null])
    .map((payload) => ({ payload })),
  unicode.map((payload) => ({ payload })),
);
/** Random msgs that happen to be points are written too: into a database of their own. */
const toChaosDatabase = (msg: Msg) => {
  msg.database = 'fuzz_chaos';
};
const writeConnection = (role: 'ref' | 'sut', url: string): FlowNode => ({
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

const CSV_HEADER = 'time,turbine,power';
const goodRow = fc
  .record({ s: fc.integer({ min: 0, max: 86_400 }), t: fc.constantFrom('t1', 't2'), p: finite })
  .map(({ s, t, p }) => `${new Date(T0 + s * 1000).toISOString()},${t},${p}`);
const badRow = fc.oneof(
  fc.constant('only-one-field'),
  fc.constant('2024-01-01T00:00:00Z,t1,1,extra'),
  fc.stringMatching(/^[a-z]{1,8}$/).map((w) => `2024-01-01T00:00:00Z,t1,x${w}`),
  fc.stringMatching(/^[a-z]{1,8}$/).map((w) => `no-time-${w},t1,1`),
  fc.constant('2024-02-30T00:00:00Z,t1,1'),
);

const SPECS: Spec[] = [
  {
    type: 'nats-out',
    outputs: 0,
    uses: ['nats-connection'],
    config: (role) => ({ connection: `nats-${role}`, subject: '' }),
    configNodes: (role, env) => [{ id: `nats-${role}`, type: 'nats-connection', servers: env.natsUrl }],
    valid: fc.record({
      topic: fc.constantFrom('gridflow/out/fuzz/a/avg5m', 'gridflow/out/fuzz/b/avg5m'),
      payload: fc.oneof(fc.record({ time: fc.constant('2026-01-05T00:05:00.000Z'), value: finite }), finite),
    }),
    invalid: fc.record({
      topic: fc.constantFrom<unknown>(
        '',
        'gridflow/out/a b',
        'gridflow/out/*',
        'gridflow//out',
        {},
        7,
        undefined,
      ),
      payload: finite,
    }),
    numRuns: 10,
  },
  {
    type: 'moving-window',
    outputs: 2,
    config: () => ({
      windowSeconds: 300,
      hopSeconds: 0,
      timeProperty: 'timestamp',
      aggregates: ['mean', 'min', 'max', 'sum', 'count', 'stdev', 'first', 'last'],
    }),
    valid: fc.record({ topic: validKey, payload: validNumber, timestamp: eventTime(3600) }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: badNumber, timestamp: eventTime(3600) }),
      fc.record({ topic: validKey, payload: finite, timestamp: badTime }),
      fc.record({
        topic: fc.constantFrom<unknown>({}, [], true, NaN),
        payload: finite,
        timestamp: eventTime(3600),
      }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, topic: 'v1' }, { reset: true }),
    rekey: topicOff,
    dedupeKey: (m) => (typeof m.topic === 'string' ? m.topic : ''),
    expectValid: oneOutput,
  },
  {
    type: 'cov-filter',
    outputs: 1,
    config: () => ({ absolute: 0.5, percent: 1, heartbeatSeconds: 0 }),
    valid: fc.record({ topic: validKey, payload: validNumber }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: badNumber }),
      fc.record({ topic: fc.constantFrom<unknown>({}, [], true), payload: finite }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, topic: 'v2' }, { reset: true }),
    rekey: topicOff,
    dedupeKey: (m) => (typeof m.topic === 'string' ? m.topic : ''),
  },
  {
    type: 'cov-resampler',
    outputs: 1,
    // 6-hour buckets: the node's own clock (aligned to the bucket) does not tick during a run.
    config: () => ({ bucketSeconds: 21_600, timeProperty: 'timestamp', method: 'locf' }),
    valid: fc.oneof(
      fc.record({ topic: validKey, payload: validNumber, timestamp: eventTime(3 * 86_400) }),
      fc.record({
        topic: validKey,
        payload: fc.array(fc.record({ time: eventTime(3 * 86_400), value: finite }), {
          minLength: 1,
          maxLength: 6,
        }),
      }),
    ),
    invalid: fc.oneof(
      // An empty array is an empty batch of readings here, not a bad value.
      fc.record({
        topic: validKey,
        payload: badNumber.filter((v) => !Array.isArray(v) || v.length > 0),
        timestamp: eventTime(86_400),
      }),
      fc.record({ topic: validKey, payload: finite, timestamp: badTime }),
      fc.record({
        topic: validKey,
        flush: fc.constant(true),
        until: fc.constantFrom<unknown>('soon', {}, '2024-99-01'),
      }),
    ),
    controls: fc.constantFrom<Msg>(
      { flush: true, topic: 'v1' },
      { flush: true, topic: 'v2', until: '2024-01-02T00:00:00Z' },
      { reset: true, topic: 'v2' },
    ),
    rekey: (m) => {
      topicOff(m);
      nearTimes(m);
    },
    dedupeKey: perKey,
    nearTimesOnly: true,
  },
  {
    type: 'anomaly-flagger',
    name: 'anomaly-flagger (stream)',
    outputs: 2,
    config: () => ({
      mode: 'stream',
      k: 2,
      property: 'payload.value',
      keyProperty: 'payload.key',
      windowSize: 20,
      minCount: 3,
    }),
    valid: fc.record({ payload: fc.record({ key: validKey, value: validNumber }) }),
    invalid: fc.oneof(
      fc.record({ payload: fc.record({ key: validKey, value: badNumber }) }),
      fc.record({ payload: fc.constantFrom<unknown>(null, 3, 'x', [], undefined) }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, payload: { key: 'v1' } }),
    rekey: (m) => {
      const p = m.payload as Record<string, unknown> | null;
      if (p && typeof p === 'object' && VALID_KEYS.includes(p.key as string)) p.key = 'chaos';
    },
    expectValid: (outs) => assert.ok(outs.some((o) => o.port === 0)),
  },
  {
    type: 'anomaly-flagger',
    name: 'anomaly-flagger (fleet)',
    outputs: 2,
    config: () => ({ mode: 'fleet', k: 2, property: 'payload.value', keyProperty: 'payload.key' }),
    valid: fc.record({
      payload: fc.array(fc.record({ id: fc.constantFrom('a', 'b', 'c'), value: finite }), { maxLength: 12 }),
    }),
    invalid: fc.record({ payload: fc.constantFrom<unknown>(null, 3, 'x', {}, undefined, true) }),
    expectValid: (outs) => assert.ok(outs.some((o) => o.port === 0)),
  },
  {
    type: 'turbine-stats',
    outputs: 2,
    // Periods close on flush only: with closeOnData a random row's later time would close the
    // valid turbines' periods too (by design), which is not what this test is about.
    config: () => ({
      periodSeconds: 3600,
      timezone: 'UTC',
      impute: 'linear',
      minPower: '',
      maxPower: '',
      closeOnData: false,
    }),
    keepOutput: (out) => {
      const rows = (out.msg.payload as Msg[]).filter((r) => VALID_TURBINES.includes(r.turbine_id as string));
      return rows.length > 0 ? { port: out.port, msg: { ...out.msg, payload: rows } } : undefined;
    },
    valid: fc
      .array(
        fc.record({
          turbine_id: fc.constantFrom(...VALID_TURBINES),
          timestamp: eventTime(4 * 3600),
          power_output: fc.oneof(finite, fc.constant(null)),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((rows) => ({ payload: rows })),
    invalid: fc.oneof(
      fc.record({ payload: fc.constantFrom<unknown>(null, 3, 'rows', true, undefined, []) }),
      fc.record({ payload: fc.constantFrom<unknown>([1, 2], ['x'], [{ timestamp: T0, power_output: 1 }]) }),
    ),
    controls: fc.constantFrom<Msg>({ flush: true }),
    rekey: (m) => {
      for (const row of Array.isArray(m.payload) ? m.payload : [m.payload])
        if (row && typeof row === 'object' && 'turbine_id' in row) (row as Msg).turbine_id = 'chaos';
    },
    reportedBy: ['warn'],
  },
  {
    type: 'forecaster',
    outputs: 2,
    config: () => ({
      model: 'holt-winters',
      stepSeconds: 3600,
      season: 4,
      historySteps: 24,
      timeProperty: 'timestamp',
      retrainAt: '',
    }),
    valid: fc.record({
      topic: validKey,
      payload: validNumber,
      timestamp: fc.integer({ min: 0, max: 60 }).map((h) => T0 + h * 3_600_000),
    }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: badNumber, timestamp: fc.constant(T0) }),
      fc.record({ topic: validKey, payload: finite, timestamp: badTime }),
      fc.record({
        topic: fc.constantFrom<unknown>({}, [], true),
        payload: finite,
        timestamp: fc.constant(T0),
      }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true, topic: 'v1' }, { retrain: true }),
    rekey: topicOff,
  },
  {
    type: 'csv-source',
    outputs: 2,
    config: () => ({
      path: '',
      delimiter: ',',
      quote: '"',
      hasHeader: true,
      columns: '',
      timeColumn: 'time',
      timeFormat: 'auto',
      timezone: 'UTC',
      numberColumns: 'power',
      output: 'rows',
      batchSize: 3,
    }),
    valid: fc
      .array(goodRow, { minLength: 1, maxLength: 7 })
      .map((rows) => ({ payload: [CSV_HEADER, ...rows].join('\n') })),
    invalid: fc.oneof(
      fc
        .tuple(fc.array(goodRow, { maxLength: 3 }), fc.array(badRow, { minLength: 1, maxLength: 3 }))
        .map(([good, bad]) => ({ payload: [CSV_HEADER, ...bad, ...good].join('\n') })),
      fc.record({ payload: fc.constantFrom<unknown>(undefined, null, 42, '', '   ', {}, []) }),
    ),
    reportedBy: ['warn'],
    doneTimeoutMs: 10_000,
  },
  {
    type: 'influx-write',
    name: 'influx-write (InfluxDB down: closed port)',
    outputs: 2,
    uses: ['influx-connection'],
    config: (role) => ({
      connection: `conn-${role}`,
      measurement: '',
      precision: 'ms',
      batchSize: 1000,
      flushSeconds: 0.05,
    }),
    configNodes: (role, env) => [writeConnection(role, env.closedUrl)],
    valid: influxWriteValid,
    invalid: influxWriteInvalid,
    controls: fc.constantFrom<Msg>({ flush: true }),
    rekey: toChaosDatabase,
    numRuns: 15,
  },
  {
    type: 'influx-write',
    name: 'influx-write (InfluxDB up: lines compared)',
    outputs: 2,
    uses: ['influx-connection'],
    config: (role) => ({
      connection: `conn-${role}`,
      measurement: '',
      precision: 'ms',
      batchSize: 1000,
      flushSeconds: 0.05,
    }),
    configNodes: (role, env) => [writeConnection(role, env.server)],
    valid: influxWriteValid,
    invalid: influxWriteInvalid,
    rekey: toChaosDatabase,
    // Receipts depend on how the batches were cut in time: the lines are what must match.
    compareOutputs: false,
    afterRun: async (env) => {
      const deadline = Date.now() + 5000;
      const lines = (db: string) => [...(env.writes.get(db) ?? [])].sort();
      while (Date.now() < deadline && lines('fuzz_ref').length !== lines('fuzz_sut').length)
        await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(lines('fuzz_sut'), lines('fuzz_ref'), 'lines written for the valid msgs');
    },
    numRuns: 15,
  },
  {
    type: 'influx-query',
    outputs: 1,
    uses: ['influx-connection'],
    config: (role) => ({ connection: `conn-${role}`, query: '' }),
    configNodes: (role, env) => [writeConnection(role, env.server)],
    valid: fc.record({
      query: fc.constant('SELECT "value" FROM "m" WHERE "site" = $site AND time >= $start'),
      params: fc.record({ site: unicode, start: fc.integer({ min: 0, max: 1e12 }) }),
    }),
    invalid: fc.oneof(
      fc.record({ query: fc.constantFrom<unknown>(undefined, '', '   ', 42, {}, null) }),
      fc.record({
        query: fc.constant('SELECT * FROM m WHERE a = $a'),
        params: fc.constantFrom<unknown>('a=1', [1], { a: NaN }, { a: {} }, { 'a b': 1 }, { a: [1] }, {}),
      }),
    ),
    expectValid: oneOutput,
    numRuns: 20,
  },
  {
    type: 'api-poller',
    outputs: 1,
    uses: ['api-endpoint'],
    config: (role) => ({
      endpoint: `ep-${role}`,
      url: '/records?q={{q}}',
      targetsFrom: 'msg',
      schedule: 'msg',
      pollOnStart: false,
      recordsPath: 'data',
      timeField: 'time',
      timeUnit: 'ms',
      output: 'record',
      maxRetries: 0,
      backoffBaseSeconds: 0.01,
      backoffMaxSeconds: 0.05,
    }),
    configNodes: (role, env) => [
      {
        id: `ep-${role}`,
        type: 'api-endpoint',
        name: '',
        baseUrl: env.server,
        authIn: 'none',
        keyRequired: false,
        rateRequests: 10_000,
        ratePeriodSeconds: 1,
        timeoutSeconds: 2,
      },
    ],
    valid: fc
      .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 3 })
      .map((qs) => ({ payload: qs.map((q) => ({ q, name: `${q}` })) })),
    invalid: fc.record({
      payload: fc.constantFrom<unknown>(
        42,
        true,
        null,
        {},
        'not json',
        '{"a":1}',
        [null],
        [{ q: {} }],
        [{ other: 'x' }],
      ),
    }),
    // Polls happen after done: wait until the fake API has answered before the next msg.
    afterFeed: (env, _msg, kind) => env.apiIdle(kind === 'valid' ? 1000 : 30),
    // A random target list may be valid: keep it off the valid targets' dedupe keys.
    rekey: (m) => {
      if (Array.isArray(m.payload))
        for (const t of m.payload as Msg[])
          if (t && typeof t === 'object' && (typeof t.q === 'string' || typeof t.q === 'number'))
            t.q = `chaos-${t.q}`;
    },
    compareAsSet: true,
    numRuns: 20,
  },
  {
    type: 'rain-next-hour',
    outputs: 1,
    config: () => ({ property: 'payload', horizonMinutes: 60, unit: 'mm/h' }),
    valid: fc
      .record({
        start: fc.integer({ min: 0, max: 1000 }),
        rates: fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { maxLength: 61 }),
      })
      .map(({ start, rates }) => {
        const dt = T0 / 1000 + start * 60;
        return {
          payload: {
            current: { dt },
            minutely: rates.map((r, i) => ({ dt: dt + i * 60, precipitation: r })),
          },
        };
      }),
    invalid: fc.record({
      payload: fc.constantFrom<unknown>(null, 3, 'x', [], {}, { minutely: 'no' }, { minutely: [] }),
    }),
    expectValid: oneOutput,
  },
  {
    type: 'series-request',
    outputs: 2,
    config: () => ({
      measurement: 'grid_frequency',
      field: 'hz',
      tag: 'series',
      maxPoints: 10_000,
      rollupLevels: '1m,15m,1h,1d',
      rollupRetentionPolicy: 'rollup_{level}',
    }),
    valid: fc
      .record({
        series: seriesName,
        s: fc.integer({ min: 0, max: 86_400 }),
        span: fc.integer({ min: 1, max: 3600 }),
      })
      .map(({ series, s, span }) => ({
        req: {
          params: { series },
          query: {
            start: new Date(T0 + s * 1000).toISOString(),
            end: new Date(T0 + (s + span) * 1000).toISOString(),
            resolution: '1m',
          },
        },
      })),
    invalid: fc.record({
      req: fc.record({
        params: fc.record({
          series: fc.constantFrom<unknown>("x'; DROP DATABASE gridflow", '', 'a b', '../x', 7, null, ['a']),
        }),
        query: fc.constant({ start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z', resolution: '1m' }),
      }),
    }),
    reportedBy: ['reply4xx'],
    expectValid: (outs) => assert.ok(outs.length === 1 && outs[0].port === 0, 'a query on output 1'),
  },
  {
    type: 'series-rollup',
    outputs: 2,
    config: () => ({
      levels: '1m,15m',
      field: 'hz',
      tag: 'series',
      latenessSeconds: 30,
      retentionPolicy: '',
    }),
    keepOutput: (out) => {
      if (out.port === 0) return out;
      const points = (out.msg.payload as Msg[]).filter((p) =>
        VALID_KEYS.includes((p.tags as Msg).series as string),
      );
      return points.length > 0 ? { port: out.port, msg: { ...out.msg, payload: points } } : undefined;
    },
    valid: fc
      .array(fc.record({ series: validKey, timestamp: eventTime(4 * 3600), hz: finite }), {
        minLength: 1,
        maxLength: 6,
      })
      .map((rows) => ({
        payload: rows.map((r) => ({
          measurement: 'grid_frequency',
          tags: { series: r.series },
          fields: { hz: r.hz },
          timestamp: r.timestamp,
        })),
      })),
    invalid: fc.record({
      payload: fc.constantFrom<unknown>(
        null,
        undefined,
        3,
        'points',
        [1, 'x'],
        [{ measurement: 'grid_frequency', tags: {}, fields: { hz: 1 }, timestamp: T0 }],
        [{ measurement: 'grid_frequency', tags: { series: 'chaos' }, fields: { hz: '50,1' }, timestamp: T0 }],
      ),
    }),
    controls: fc.constantFrom<Msg>({ flush: true }),
    rekey: (m) => {
      for (const p of Array.isArray(m.payload) ? m.payload : [m.payload]) {
        const tags = p && typeof p === 'object' ? (p as Msg).tags : undefined;
        if (tags && typeof tags === 'object' && 'series' in tags) (tags as Msg).series = 'chaos';
      }
    },
  },
  {
    type: 'series-response',
    outputs: 1,
    config: () => ({}),
    valid: fc
      .record({ series: seriesName, values: fc.array(finite, { maxLength: 10 }) })
      .map(({ series, values }) => ({
        seriesQuery: {
          series,
          tag: 'series',
          start: '2024-01-01T00:00:00.000Z',
          end: '2024-01-02T00:00:00.000Z',
          resolution: '1m',
          points: 1440,
        },
        payload: [
          { key: 'series', value: series },
          ...values.map((v, i) => ({ time: T0 + i * 60_000, mean: v })),
        ],
      })),
    invalid: fc.oneof(
      fc.record({ payload: fc.constant([]) }),
      fc.record({
        seriesQuery: fc.constant({ series: 's', tag: 'series' }),
        payload: fc.constantFrom<unknown>(null, {}, 'rows'),
      }),
    ),
    expectValid: oneOutput,
  },
  {
    type: 'footprint-request',
    outputs: 2,
    config: () => ({ measurement: 'carbon_footprint', tag: 'asset_id' }),
    valid: fc
      .record({
        asset: seriesName,
        from: fc.integer({ min: 1, max: 48 }),
        len: fc.integer({ min: 0, max: 10 }),
        format: fc.constantFrom('json', 'svg'),
      })
      .map(({ asset, from, len, format }) => ({
        req: {
          params: { asset },
          query: { date: '2019-11-25', from: String(from), to: String(Math.min(48, from + len)), format },
        },
      })),
    invalid: fc.record({
      req: fc.record({
        params: fc.record({ asset: fc.constantFrom<unknown>('a1', "a'; DROP", '') }),
        query: fc.constantFrom<unknown>(
          { date: '2019-02-30', from: '1', to: '2' },
          { date: "2019-11-25' OR 1=1 --", from: '1', to: '2' },
          { date: '2019-11-25', from: '20', to: '14' },
          { date: '2019-11-25', from: 'x', to: '2' },
          { date: '2019-11-25', format: 'xml' },
        ),
      }),
    }),
    reportedBy: ['reply4xx'],
    expectValid: (outs) => assert.ok(outs.length === 1 && outs[0].port === 0, 'a query on output 1'),
  },
  {
    type: 'footprint-response',
    outputs: 1,
    config: () => ({}),
    valid: fc
      .record({
        asset: seriesName,
        n: fc.integer({ min: 0, max: 6 }),
        format: fc.constantFrom('json', 'svg'),
      })
      .map(({ asset, n, format }) => ({
        footprintQuery: { assetId: asset, date: '2024-01-01', from: 1, to: 48, format },
        payload: Array.from({ length: n }, (_, i) => ({
          time: halfHour(i),
          half_hour_id: i + 1,
          mean_kw: i,
          energy_kwh: i / 2,
          intensity: 100,
          footprint_g: i * 50,
        })),
      })),
    invalid: fc.oneof(
      fc.record({ payload: fc.constant([]) }),
      fc.record({
        footprintQuery: fc.constant({ assetId: 'a' }),
        payload: fc.constantFrom<unknown>(null, {}, 'rows'),
      }),
    ),
    expectValid: oneOutput,
  },
  {
    type: 'carbon-footprint',
    outputs: 3,
    config: () => ({ keyProperty: 'topic', dateProperty: 'target.date', keepDays: 7 }),
    valid: fc.oneof({ weight: 4, arbitrary: bucketMsg }, { weight: 1, arbitrary: intensityMsg }),
    invalid: fc.oneof(
      fc.record({ topic: validKey, payload: fc.constantFrom<unknown>(null, 3, 'x', true, undefined) }),
      fc.record({
        topic: validKey,
        payload: fc.constant({ start: '2024-01-01T00:10:00Z', end: '2024-01-01T00:40:00Z', mean: 1 }),
      }),
      fc.record({
        topic: fc.constantFrom<unknown>('a/b', '#', '', {}),
        payload: fc.constant({ start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:30:00Z', mean: 1 }),
      }),
    ),
    controls: fc.constantFrom<Msg>({ reset: true }),
    // Rows and points of the valid assets; output 3 (dates still without intensity) is per
    // date for all assets together, so a random asset's bucket changes it by design.
    keepOutput: (out) => {
      if (out.port === 2) return undefined;
      const topic = String(out.msg.topic);
      return VALID_KEYS.some((k) => topic === k || topic.includes(`/${k}/`)) ? out : undefined;
    },
    rekey: (m) => {
      topicOff(m);
      // Random intensity entries would join with the valid buckets: keep them off the valid days.
      const p = m.payload as { data?: unknown } | unknown[] | null;
      if (Array.isArray(p) || (p && typeof p === 'object' && Array.isArray((p as { data?: unknown }).data)))
        m.payload = 'not intensity';
    },
  },
];

// ---------------------------------------------------------------- running one stream

type Kind = 'valid' | 'invalid' | 'random' | 'control';
interface Fed {
  kind: Kind;
  msg: Msg;
}

const completions = new Map<object, unknown[]>();
const settle = async (turns = 3) => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

async function waitDone(msg: object, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!completions.has(msg) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

function streamOf(spec: Spec): fc.Arbitrary<Fed[]> {
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

function flowFor(spec: Spec, env: Env): FlowNode[] {
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
}

function observe(
  node: TestNode,
  role: string,
  outputs: number,
  current: () => number,
  keep: (out: Out) => Out | undefined,
): Observed {
  const o: Observed = { outs: [], late: [], reports: new Map(), orderedErrors: [] };
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
      const kept = keep({ port: i, msg: cloneForCompare(msg) });
      if (kept) (o.outs[current()] ??= []).push(kept);
    });
  }
  return o;
}

function cloneForCompare(msg: Msg): Msg {
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
function stripVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripVolatile);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      if (!/durationMs|PerSecond/i.test(k)) out[k] = stripVolatile(v);
    return out;
  }
  return value;
}

async function feedAll(
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

async function runStream(spec: Spec, env: Env, stream: Fed[]): Promise<void> {
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  completions.clear();
  env.writes.clear();
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
      const sutSet = new Set(all(sutSeen));
      for (const k of new Set(all(refSeen)))
        assert.ok(sutSet.has(k), `sut lacks the output ${k.slice(0, 300)}`);
    } else {
      for (let i = 0; i < refOuts.length; i++)
        assert.deepEqual(sutOuts[i], refOuts[i], `outputs of valid msg ${i} differ`);
    }
    if (spec.expectValid) {
      const refValid = refItems.filter((f) => f.kind === 'valid');
      refValid.forEach((f) => spec.expectValid!(refSeen.outs[refItems.indexOf(f)] ?? [], f.msg));
    }
    await spec.afterRun?.(env);

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
async function shortReport(details: fc.RunDetails<[Fed[]]>): Promise<void> {
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
function check(condition: unknown, message: () => string): void {
  if (!condition) throw new assert.AssertionError({ message: message() });
}

function show(msg: Msg): string {
  try {
    const text = JSON.stringify(msg, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : Array.isArray(v) && v.length > 20 ? `[array of ${v.length}]` : v,
    );
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(msg);
  }
}

// ---------------------------------------------------------------- fake InfluxDB + API

let natsServer: TestNatsCluster | undefined;

async function startFakeServices(): Promise<{ server: Server; env: Env }> {
  const writes = new Map<string, string[]>();
  let requests = 0;
  let inFlight = 0;
  let lastAt = Date.now();
  let mark = 0;
  const server = createServer((req, res) => {
    inFlight++;
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const answer = (status: number, json?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(json === undefined ? undefined : JSON.stringify(json));
        inFlight--;
        lastAt = Date.now();
      };
      if (url.pathname === '/ping') return answer(204);
      if (url.pathname === '/write') {
        const db = url.searchParams.get('db') ?? '';
        const list = writes.get(db) ?? [];
        list.push(...body.split('\n').filter((l) => l !== ''));
        writes.set(db, list);
        return answer(204);
      }
      if (url.pathname === '/query') {
        return answer(200, {
          results: [
            { statement_id: 0, series: [{ name: 'm', columns: ['time', 'value'], values: [[T0, 1.5]] }] },
          ],
        });
      }
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closedUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  const userDir = mkdtempSync(join(tmpdir(), 'gridflow-fuzz-'));
  natsServer = await startTestNatsCluster({ size: 1, partitions: 2 });
  const env: Env = {
    server: url,
    natsUrl: natsServer.urls[0],
    closedUrl,
    userDir,
    writes,
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
  };
  return { server, env };
}

// ---------------------------------------------------------------- the tests

describe('every gridflow node under random msgs (fast-check fuzz)', function () {
  this.timeout(120_000);
  let server: Server;
  let env: Env;

  before(async () => {
    ({ server, env } = await startFakeServices());
    // influx-write keeps its disk buffer under the userDir: a temp dir of ours.
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
    await natsServer?.dispose();
    rmSync(env.userDir, { recursive: true, force: true });
  });

  it('has a fuzz spec for every node type that takes input', () => {
    const inputTypes = Object.keys(NODE_FILES).filter(takesInput);
    assert.ok(inputTypes.length >= 10, `found only ${inputTypes.length} input node types`);
    const covered = new Set(SPECS.map((s) => s.type));
    assert.deepEqual(
      inputTypes.filter((t) => !covered.has(t)),
      [],
      'node types without a fuzz spec',
    );
  });

  for (const spec of SPECS) {
    it(`${spec.name ?? spec.type}: random msgs never crash it, each gets one done, bad ones are reported, good ones unaffected`, async () => {
      await fc.assert(
        fc.asyncProperty(streamOf(spec), async (stream) => runStream(spec, env, stream)),
        { numRuns: spec.numRuns ?? 30, endOnFailure: true, asyncReporter: shortReport },
      );
    });
  }

  it('csv-source: malformed rows are reported with their line numbers and the good rows still come out', async () => {
    const csvSpec = SPECS.find((s) => s.type === 'csv-source')!;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            goodRow.map((text) => ({ good: true, text })),
            badRow.map((text) => ({ good: false, text })),
          ),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        async (rows) => {
          try {
            await helper.load(nodeModule('csv-source'), flowFor(csvSpec, env));
            const node = helper.getNode('sut') as unknown as TestNode;
            const warnings: string[] = [];
            const warn = node.warn.bind(node);
            node.warn = (text: unknown) => {
              warnings.push(String(text));
              warn(text);
            };
            const batches: Msg[] = [];
            const reports: Msg[] = [];
            helper.getNode('sut-out0').on('input', (m: Msg) => batches.push(m));
            helper.getNode('sut-out1').on('input', (m: Msg) => reports.push(m));
            const msg = { payload: [CSV_HEADER, ...rows.map((r) => r.text)].join('\n') };
            node.receive(msg);
            await waitDone(msg, 10_000);
            await settle();
            assert.equal(completions.get(msg)?.length, 1, 'done once');
            assert.equal(completions.get(msg)?.[0], undefined, 'bad rows do not fail the whole msg');
            const records = batches.flatMap((b) => b.payload as Msg[]);
            const goodLines = rows.flatMap((r, i) => (r.good ? [i + 2] : []));
            const badLines = rows.flatMap((r, i) => (r.good ? [] : [i + 2]));
            assert.equal(records.length, goodLines.length, 'one record per good row');
            records.forEach((rec, i) => {
              const [time, turbine, power] = rows.filter((r) => r.good)[i].text.split(',');
              assert.equal(rec.turbine, turbine);
              assert.equal(rec.power, Number(power));
              assert.equal(new Date(rec.time as string).getTime(), new Date(time).getTime());
            });
            const file = reports.find((r) => r.topic === 'file')?.payload as {
              badRows: number;
              bad: { line: number }[];
            };
            assert.equal(file.badRows, badLines.length, 'bad row count in the report');
            assert.deepEqual(
              file.bad.map((b) => b.line),
              badLines,
              'bad rows listed with their line numbers',
            );
            for (const line of badLines.slice(0, 10))
              assert.ok(
                warnings.some((w) => w.includes(`:${line}:`)),
                `no warning names line ${line}: ${warnings.join(' | ')}`,
              );
          } finally {
            await helper.unload();
          }
        },
      ),
      { numRuns: 30, endOnFailure: true },
    );
  });

  it('cov-resampler: one reading far in the future does not exhaust memory (isolated child process)', async () => {
    // Run apart, with a small heap: if the node fills every bucket up to the far reading,
    // only the child dies, not the test process.
    const script = `
      const helper = require('node-red-node-test-helper');
      helper.init(require.resolve('node-red'));
      helper.settings({ logging: { console: { level: 'off', metrics: false, audit: false } } });
      const node = require(${JSON.stringify(join(ROOT, NODE_FILES['cov-resampler']))});
      const flow = [{ id: 'r', type: 'cov-resampler', bucketSeconds: 1800, timeProperty: 'timestamp', wires: [['o']] }, { id: 'o', type: 'helper' }];
      helper.load(node, flow).then(() => {
        const r = helper.getNode('r');
        r.receive({ topic: 'k', payload: 1, timestamp: ${T0} });
        r.receive({ topic: 'k', payload: 2, timestamp: '9999-12-31T00:00:00Z' });
        r.receive({ topic: 'k', payload: 3, timestamp: '0001-01-01T00:00:00Z' });
        setTimeout(() => { console.log('survived'); process.exit(0); }, 200);
      });`;
    const { spawnSync } = await import('node:child_process');
    const child = spawnSync(process.execPath, ['--max-old-space-size=256', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.match(
      child.stdout ?? '',
      /survived/,
      `the runtime died (status ${child.status}, signal ${child.signal}): ${(child.stderr ?? '').slice(0, 600)}`,
    );
  });
});
