import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import influxConnection from '../../nodes/influx-connection/influx-connection';
import influxQuery from '../../nodes/influx-query/influx-query';
import seriesRequest from '../../nodes/series-request/series-request';
import seriesResponse from '../../nodes/series-response/series-response';
import footprintRequest from '../../nodes/footprint-request/footprint-request';
import footprintResponse from '../../nodes/footprint-response/footprint-response';
import carbonFootprint from '../../nodes/carbon-footprint/carbon-footprint';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { readFixture } from '../harness/replay-server';

helper.init(require.resolve('node-red'));

type Flow = Parameters<typeof helper.load>[1];

type Received = Record<string, unknown> & { payload: unknown; statusCode?: number };

function nextMsg(node: ReturnType<typeof helper.getNode>, timeoutMs = 10_000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no msg at ${node.id} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    node.once('input', (msg: unknown) => {
      clearTimeout(timer);
      resolve(msg as Received);
    });
  });
}

const DAY = Date.UTC(2019, 10, 25);

describe('series-request / series-response and footprint-request / footprint-response with influx-query (real InfluxDB)', function () {
  this.timeout(60_000);
  let influx: TestInfluxd;

  before(async () => {
    influx = await startTestInfluxd('gridflow');
    const t0 = Date.UTC(2021, 4, 1);
    const lines = [
      `grid_frequency,series=a hz=50 ${t0}`,
      `grid_frequency,series=a hz=50.01 ${t0 + 30_000}`,
      `grid_frequency,series=a hz=49.99 ${t0 + 60_000}`,
      `grid_frequency,series=b hz=50 ${t0}`,
      `carbon_footprint,asset_id=abc half_hour_id=14,mean_kw=-10,energy_kwh=-5,intensity=200,footprint_g=-1000 ${DAY + 13 * 1_800_000}`,
      `carbon_footprint,asset_id=abc half_hour_id=15,intensity=210 ${DAY + 14 * 1_800_000}`,
    ];
    const res = await fetch(`${influx.url}/write?db=gridflow&precision=ms`, {
      method: 'POST',
      body: lines.join('\n'),
    });
    assert.equal(res.status, 204);
  });
  after(async () => {
    await helper.unload();
    await influx?.dispose();
  });
  afterEach(() => helper.unload());

  function seriesFlow() {
    return [
      { id: 'conn', type: 'influx-connection', url: influx.url, apiVersion: 'v1', database: 'gridflow' },
      { id: 'req', type: 'series-request', maxPoints: 100, wires: [['q'], ['refused']] },
      { id: 'q', type: 'influx-query', connection: 'conn', query: '', wires: [['res']] },
      { id: 'res', type: 'series-response', wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'refused', type: 'helper' },
    ] as unknown as Flow;
  }

  const request = (series: string, query: Record<string, string>) => ({
    req: { params: { series }, query },
    res: {},
  });

  it('answers the mean per bucket from InfluxDB, 404 for an unknown series and 400 past the point limit', async () => {
    await helper.load([influxConnection, influxQuery, seriesRequest, seriesResponse], seriesFlow());
    const out = helper.getNode('out');
    const req = helper.getNode('req');

    let got = nextMsg(out);
    req.receive(
      request('a', { start: '2021-05-01T00:00:00Z', end: '2021-05-01T00:01:00Z', resolution: '1m' }),
    );
    let msg = await got;
    assert.equal(msg.statusCode, 200);
    assert.deepEqual(msg.payload, [
      { time: '2021-05-01T00:00:00.000Z', value: (50 + 50.01) / 2 },
      { time: '2021-05-01T00:01:00.000Z', value: 49.99 },
    ]);
    assert.ok(msg.res, 'the msg keeps res for http response');
    assert.equal(msg.query, undefined);

    got = nextMsg(out);
    req.receive(request('zzz', { start: '2021-05-01', end: '2021-05-02', resolution: '1h' }));
    msg = await got;
    assert.equal(msg.statusCode, 404);
    assert.deepEqual(msg.payload, { error: 'series "zzz" not found' });

    const refused = nextMsg(helper.getNode('refused'));
    req.receive(request('a', { start: '2021-05-01', end: '2021-05-02', resolution: '1m' }));
    msg = await refused;
    assert.equal(msg.statusCode, 400);
    assert.deepEqual(msg.payload, {
      error:
        'the range at 1m would return up to 1441 points; the limit is 100: use a coarser resolution or a shorter range',
      limit: 100,
    });
  });

  it('reads footprint rows back as JSON or as an SVG chart, 404 when there are none', async () => {
    await helper.load([influxConnection, influxQuery, footprintRequest, footprintResponse], [
      { id: 'conn', type: 'influx-connection', url: influx.url, apiVersion: 'v1', database: 'gridflow' },
      { id: 'req', type: 'footprint-request', wires: [['q'], ['refused']] },
      { id: 'q', type: 'influx-query', connection: 'conn', query: '', wires: [['res']] },
      { id: 'res', type: 'footprint-response', wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'refused', type: 'helper' },
    ] as unknown as Flow);
    const out = helper.getNode('out');
    const req = helper.getNode('req');
    const ask = (asset: string, query: Record<string, string>) =>
      req.receive({ req: { params: { asset }, query }, res: {} });

    let got = nextMsg(out);
    ask('abc', { date: '2019-11-25', from: '14', to: '20' });
    let msg = await got;
    assert.equal(msg.statusCode, 200);
    assert.deepEqual(msg.payload, [
      {
        half_hour_id: 14,
        start: '2019-11-25T06:30:00.000Z',
        end: '2019-11-25T07:00:00.000Z',
        mean_kw: -10,
        energy_kwh: -5,
        intensity: 200,
        footprint_g: -1000,
      },
      {
        half_hour_id: 15,
        start: '2019-11-25T07:00:00.000Z',
        end: '2019-11-25T07:30:00.000Z',
        mean_kw: null,
        energy_kwh: null,
        intensity: 210,
        footprint_g: null,
      },
    ]);

    got = nextMsg(out);
    ask('abc', { date: '2019-11-25', from: '15', to: '15' });
    assert.equal(((await got).payload as unknown[]).length, 1);

    got = nextMsg(out);
    ask('abc', { date: '2019-11-25', from: '14', to: '20', format: 'svg' });
    msg = await got;
    assert.match(String((msg.headers as Record<string, string>)['Content-Type']), /^image\/svg\+xml/);
    assert.equal((String(msg.payload).match(/<rect class="bar"/g) ?? []).length, 1);

    got = nextMsg(out);
    ask('other', { date: '2019-11-25' });
    assert.equal((await got).statusCode, 404);

    const refused = nextMsg(helper.getNode('refused'));
    ask('abc', { date: '25.11.2019' });
    msg = await refused;
    assert.equal(msg.statusCode, 400);
    assert.match((msg.payload as { error: string }).error, /date "25.11.2019" must be a calendar date/);
  });
});

describe('carbon-footprint node', () => {
  afterEach(() => helper.unload());

  const flow = [
    {
      id: 'cf',
      type: 'carbon-footprint',
      keyProperty: 'topic',
      dateProperty: 'target.date',
      wires: [['rows'], ['points'], ['ask']],
    },
    { id: 'rows', type: 'helper' },
    { id: 'points', type: 'helper' },
    { id: 'ask', type: 'helper' },
  ] as unknown as Flow;
  const bucketMsg = (asset: string, id: number, meanKw: number) => ({
    topic: asset,
    payload: {
      bucket_id: id,
      start: new Date(DAY + (id - 1) * 1_800_000).toISOString(),
      end: new Date(DAY + id * 1_800_000).toISOString(),
      mean: meanKw,
      energy: meanKw / 2,
      count: 1,
      filled: false,
      stale: false,
    },
  });

  it('asks for the day’s intensity, then sends 48 MQTT rows and the day’s points once both sides are in', async () => {
    await helper.load(carbonFootprint, flow);
    const cf = helper.getNode('cf');
    const rows: Received[] = [];
    const points: Received[] = [];
    helper.getNode('rows').on('input', (m: unknown) => rows.push(m as Received));
    helper.getNode('points').on('input', (m: unknown) => points.push(m as Received));
    const asked = nextMsg(helper.getNode('ask'));
    for (let id = 1; id <= 48; id++) cf.receive(bucketMsg('abc123xyz', id, 10));
    assert.deepEqual((await asked).payload, [{ date: '2019-11-25', next: '2019-11-26' }]);
    assert.equal(rows.length, 0);

    const fixture = JSON.parse(readFixture('carbon/carbon_intensity_2019-11-25.json')) as { data: unknown[] };
    const previous = {
      from: '2019-11-24T23:30Z',
      to: '2019-11-25T00:00Z',
      intensity: { forecast: 1, actual: 999 },
    };
    cf.receive({ topic: 'x', target: { date: '2019-11-25' }, payload: [previous, ...fixture.data] });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rows.length, 48);
    assert.equal(rows[0].topic, 'gridflow/carbon/abc123xyz/footprint');
    assert.deepEqual(rows[0].payload, {
      time: '2019-11-25T00:00:00.000Z',
      half_hour_id: 1,
      start: '2019-11-25T00:00:00.000Z',
      end: '2019-11-25T00:30:00.000Z',
      mean_kw: 10,
      energy_kwh: 5,
      intensity: 200,
      footprint_g: 1000,
    });
    assert.equal(points.length, 1);
    assert.equal((points[0].payload as unknown[]).length, 48);
    assert.deepEqual((points[0].payload as unknown[])[47], {
      measurement: 'carbon_footprint',
      tags: { asset_id: 'abc123xyz' },
      fields: { half_hour_id: 48, mean_kw: 10, energy_kwh: 5, intensity: 183, footprint_g: 915 },
      timestamp: '2019-11-25T23:30:00.000Z',
    });
  });

  it('reports bad input through done(err) and keeps going', async () => {
    await helper.load(carbonFootprint, flow);
    const cf = helper.getNode('cf');
    const errors: string[] = [];
    // the test helper spies on node.error and emits 'call:error', an event the types do not list
    (cf as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
      errors.push(String(call.args[0])),
    );
    cf.receive({ topic: 'a', payload: { start: DAY, end: DAY + 900_000, mean: 1 } });
    cf.receive({ topic: 'a/b', payload: bucketMsg('x', 1, 1).payload });
    cf.receive({ topic: 'a', payload: 'hello' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(errors.length, 3, errors.join('\n'));
    assert.match(errors[0], /not a UTC half hour/);
    assert.match(errors[1], /without "\/"/);
    assert.match(errors[2], /expected a cov-resampler bucket/);
    const asked = nextMsg(helper.getNode('ask'));
    cf.receive(bucketMsg('ok', 1, 1));
    assert.deepEqual((await asked).payload, [{ date: '2019-11-25', next: '2019-11-26' }]);
  });
});
