import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import influxConnection from '../../nodes/influx-connection/influx-connection';
import influxQuery from '../../nodes/influx-query/influx-query';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { fluxWithParams, influxqlParams } from '../../nodes/core/query-params';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown>;
interface HelperNode {
  receive(msg: Msg): void;
  on(event: string, cb: (msg: Msg) => void): void;
}

describe('influx-query against a real InfluxDB 1.x', function () {
  this.timeout(30_000);
  let influxd: TestInfluxd;

  before(async () => {
    influxd = await startTestInfluxd('gridflow');
    const body = [
      'grid_frequency,series=2021-05 hz=50.01 1619827230000',
      'grid_frequency,series=2021-05 hz=49.99 1619827260000',
      'grid_frequency,series=secret hz=42 1619827230000',
      "grid_frequency,series=o'brien hz=51 1619827230000",
    ].join('\n');
    const res = await fetch(`${influxd.url}/write?db=gridflow&precision=ms`, { method: 'POST', body });
    assert.equal(res.status, 204);
    await new Promise<void>((r) => helper.startServer(() => r()));
  });
  after(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    await influxd?.dispose();
  });
  afterEach(() => helper.unload());

  const run = async (query: string, msg: Msg): Promise<{ out?: Msg; error?: string }> => {
    await helper.unload();
    const flow = [
      { id: 'conn', type: 'influx-connection', url: influxd.url, apiVersion: 'v1', database: 'gridflow' },
      { id: 'q', type: 'influx-query', connection: 'conn', query, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await new Promise<void>((r) => helper.load([influxConnection, influxQuery], flow as never, () => r()));
    return new Promise((resolve) => {
      (helper.getNode('out') as unknown as HelperNode).on('input', (out) => resolve({ out }));
      (helper.getNode('q') as unknown as HelperNode).on('call:error', (call: Msg) =>
        resolve({ error: String((call as { firstArg?: unknown }).firstArg ?? call) }),
      );
      (helper.getNode('q') as unknown as HelperNode).receive(msg);
    });
  };

  const byParams =
    'SELECT "hz" FROM "grid_frequency" WHERE "series" = $series AND time >= $start ORDER BY time';

  it('binds msg.params and returns rows with ISO times', async () => {
    const { out } = await run(byParams, {
      params: { series: '2021-05', start: new Date('2021-05-01T00:00:00Z') },
    });
    assert.deepEqual(out?.payload, [
      { time: '2021-05-01T00:00:30.000Z', hz: 50.01 },
      { time: '2021-05-01T00:01:00.000Z', hz: 49.99 },
    ]);
  });

  it('treats injection attempts in params as plain values', async () => {
    for (const series of [
      "2021-05' OR '1'='1",
      '2021-05" OR "series" != "',
      'x\'; DROP DATABASE "gridflow"; --',
      '2021-05\\',
      "o\\'brien",
    ]) {
      const { out, error } = await run(byParams, { params: { series, start: '1970-01-01T00:00:00Z' } });
      assert.equal(error, undefined, series);
      assert.deepEqual(out?.payload, [], series);
    }
    const { out } = await run(byParams, { params: { series: "o'brien", start: '1970-01-01T00:00:00Z' } });
    assert.deepEqual(out?.payload, [{ time: '2021-05-01T00:00:30.000Z', hz: 51 }]);
    const databases = await influxd.query('SHOW DATABASES');
    assert.ok(databases.some((d) => d.name === 'gridflow'));
    assert.equal((await influxd.query('SELECT count(hz) FROM grid_frequency'))[0].count, 4);
  });

  it('takes the query from msg.query and refuses a placeholder without a value', async () => {
    const { out } = await run('', {
      query: 'SELECT count("hz") FROM "grid_frequency" WHERE "series" = $s',
      params: { s: 'secret' },
    });
    assert.equal((out?.payload as Msg[])[0].count, 1);
    const missing = await run(byParams, { params: { series: '2021-05' } });
    assert.match(missing.error ?? '', /\$start/);
    const bad = await run(byParams, { params: { series: { $ne: 1 } } });
    assert.match(bad.error ?? '', /must be a string, number, boolean or Date/);
  });

  it('reports a server error through done(err)', async () => {
    const { error } = await run('SELECT FROM WHERE', {});
    assert.match(error ?? '', /error parsing query/);
  });
});

describe('query parameters', () => {
  it('sends InfluxQL values as JSON params, never in the query text', () => {
    const bound = influxqlParams("SELECT * FROM m WHERE \"t\" = $t AND '$notaparam' = 'x'", {
      t: "a' OR 1=1",
    });
    assert.deepEqual(bound, { ok: true, json: '{"t":"a\' OR 1=1"}' });
  });

  it('writes Flux params as escaped literals in a params record', () => {
    const script = fluxWithParams('from(bucket: params.bucket) |> range(start: params.start)', {
      bucket: 'gridflow") |> drop() //\n',
      start: new Date('2024-01-01T00:00:00Z'),
      n: 5,
      x: 1.5,
      ok: true,
    });
    assert.equal(
      script,
      'params = {bucket: "gridflow\\") |> drop() //\\n", start: time(v: "2024-01-01T00:00:00.000Z"), n: 5, x: 1.5, ok: true}\n' +
        'from(bucket: params.bucket) |> range(start: params.start)',
    );
    assert.equal(fluxWithParams('buckets()', {}), 'buckets()');
  });
});
