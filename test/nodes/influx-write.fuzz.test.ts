/** influx-write under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  type Env,
  finite,
  fuzzSpecs,
  influxdOf,
  type Msg,
  type Spec,
  T0,
  unicode,
  useFuzzEnv,
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
    results?: { series?: { name: string; tags?: object; columns: string[]; values: unknown[][] }[] }[];
  };
  return (body.results?.[0]?.series ?? [])
    .flatMap((s) => s.values.map((v) => JSON.stringify([s.name, s.tags ?? {}, s.columns, v])))
    .sort();
}

/** Each run starts from empty databases (influx-write creates its configured one again). */
async function dropDatabases(env: Env): Promise<void> {
  for (const db of ['fuzz_ref', 'fuzz_sut', 'fuzz_chaos'])
    await influxdOf(env)
      .query(`DROP DATABASE "${db}"`)
      .catch(() => undefined);
}

const SPECS: Spec[] = [
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
    name: 'influx-write (InfluxDB up: stored points compared)',
    outputs: 2,
    uses: ['influx-connection'],
    config: (role) => ({
      connection: `conn-${role}`,
      measurement: '',
      precision: 'ms',
      batchSize: 1000,
      flushSeconds: 0.05,
    }),
    configNodes: (role, env) => [writeConnection(role, influxdOf(env).url)],
    beforeRun: dropDatabases,
    valid: influxWriteValid,
    invalid: influxWriteInvalid,
    rekey: toChaosDatabase,
    // Receipts depend on how the batches were cut in time: the lines are what must match.
    compareOutputs: false,
    afterRun: async (env) => {
      const url = influxdOf(env).url;
      const deadline = Date.now() + 5000;
      let ref = await storedPoints(url, 'fuzz_ref');
      let sut = await storedPoints(url, 'fuzz_sut');
      while (Date.now() < deadline && ref.length !== sut.length) {
        await new Promise((r) => setTimeout(r, 20));
        [ref, sut] = [await storedPoints(url, 'fuzz_ref'), await storedPoints(url, 'fuzz_sut')];
      }
      assert.deepEqual(sut, ref, 'points stored for the valid msgs');
    },
    numRuns: 15,
  },
];

describe('influx-write under random msgs (fast-check fuzz)', function () {
  this.timeout(120_000);
  const env = useFuzzEnv({ influxd: true });

  fuzzSpecs(SPECS, env);
});
