/** influx-write under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  describeFuzz,
  type Env,
  finite,
  influxdOf,
  type Msg,
  type Spec,
  T0,
  unicode,
  writeConnection,
} from '../harness/fuzz';

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

/** Every point stored in a database, as sorted JSON rows (measurement, tags and fields). */
async function storedPoints(url: string, db: string): Promise<string[]> {
  const params = new URLSearchParams({ db, q: 'SELECT * FROM /.*/ GROUP BY *', epoch: 'ms' });
  const res = await fetch(`${url}/query?${params}`);
  const body = (await res.json()) as {
    results?: {
      error?: string;
      series?: { name: string; tags?: object; columns: string[]; values: unknown[][] }[];
    }[];
  };
  const error = body.results?.[0]?.error;
  if (error === `database not found: ${db}`) return []; // nothing written yet
  if (error) throw new Error(`reading ${db}: ${error}`);
  return (body.results?.[0]?.series ?? [])
    .flatMap((s) => s.values.map((v) => JSON.stringify([s.name, s.tags ?? {}, s.columns, v])))
    .sort();
}

/** Rows InfluxDB keeps for these msgs: one per measurement, tag set and time (fields merge). */
function storedRowCount(msgs: Msg[]): number {
  const rows = new Set<string>();
  for (const msg of msgs) {
    const points = Array.isArray(msg.payload)
      ? (msg.payload as Msg[])
      : msg.payload && typeof msg.payload === 'object'
        ? [msg.payload as Msg]
        : [{ measurement: msg.measurement, timestamp: msg.timestamp }];
    for (const p of points) rows.add(JSON.stringify([p.measurement, p.tags ?? {}, p.timestamp]));
  }
  return rows.size;
}

/** Each run starts from empty databases (influx-write creates its configured one again). */
async function dropDatabases(env: Env): Promise<void> {
  for (const db of ['fuzz_ref', 'fuzz_sut', 'fuzz_chaos'])
    await influxdOf(env)
      .query(`DROP DATABASE "${db}"`)
      .catch(() => undefined);
}

/** What both influx-write specs share: the node's settings and the msgs. */
const influxWriteSpec = {
  type: 'influx-write',
  outputs: 2,
  uses: ['influx-connection'],
  config: (role: 'ref' | 'sut') => ({
    connection: `conn-${role}`,
    measurement: '',
    precision: 'ms',
    batchSize: 1000,
    flushSeconds: 0.05,
  }),
  valid: influxWriteValid,
  invalid: influxWriteInvalid,
  rekey: toChaosDatabase,
} satisfies Partial<Spec>;

const SPECS: Spec[] = [
  {
    ...influxWriteSpec,
    name: 'influx-write (InfluxDB down: closed port)',
    configNodes: (role, env) => [writeConnection(role, env.closedUrl)],
    controls: fc.constantFrom<Msg>({ flush: true }),
    numRuns: 15,
  },
  {
    ...influxWriteSpec,
    name: 'influx-write (InfluxDB up: stored points compared)',
    configNodes: (role, env) => [writeConnection(role, influxdOf(env).url)],
    beforeRun: dropDatabases,
    // Receipts depend on how the batches were cut in time: the stored points are what must match.
    compareOutputs: false,
    afterRun: async (env, validMsgs) => {
      const url = influxdOf(env).url;
      const expected = storedRowCount(validMsgs);
      const deadline = Date.now() + 10_000;
      let ref: string[] = [];
      let sut: string[] = [];
      do {
        [ref, sut] = [await storedPoints(url, 'fuzz_ref'), await storedPoints(url, 'fuzz_sut')];
        if (ref.length === expected && sut.length === expected) break;
        await new Promise((r) => setTimeout(r, 20));
      } while (Date.now() < deadline);
      assert.equal(ref.length, expected, 'rows stored for the valid msgs (ref)');
      assert.deepEqual(sut, ref, 'points stored for the valid msgs');
    },
    numRuns: 15,
  },
];

describeFuzz('influx-write', SPECS, { influxd: true });
