/** influx-query under random msgs: the checks every fuzz spec makes are in test/harness/fuzz.ts. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  describeFuzz,
  type Env,
  influxdOf,
  oneOutput,
  type Spec,
  T0,
  unicode,
  writeConnection,
} from '../harness/fuzz';

/** The databases influx-query reads, each with one point of "m" (the fuzz flow's valid query). */
async function databasesWithOnePoint(env: Env): Promise<void> {
  const influxd = influxdOf(env);
  for (const db of ['fuzz_ref', 'fuzz_sut']) {
    await influxd.query(`CREATE DATABASE "${db}"`);
    const res = await fetch(`${influxd.url}/write?db=${db}&precision=ms`, {
      method: 'POST',
      body: `m,site=a value=1.5 ${T0}`,
    });
    assert.equal(res.status, 204, `seeding ${db}: ${await res.text()}`);
  }
}

const SPECS: Spec[] = [
  {
    type: 'influx-query',
    outputs: 1,
    uses: ['influx-connection'],
    config: (role) => ({ connection: `conn-${role}`, query: '' }),
    configNodes: (role, env) => [writeConnection(role, influxdOf(env).url)],
    beforeRun: databasesWithOnePoint,
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
];

describeFuzz('influx-query', SPECS, { influxd: true });
