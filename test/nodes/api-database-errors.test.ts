/**
 * series-response and footprint-response given what the Catch node on influx-query sends
 * (`msg.error`): 503 with a JSON error and a request id; the database client's text goes
 * to the log under that id, never to the caller (issues 14 and 15).
 */
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import seriesResponse from '../../nodes/series-response/series-response';
import footprintResponse from '../../nodes/footprint-response/footprint-response';
import { DATABASE_HINT_ENV } from '../../nodes/shared/http-reply';

helper.init(require.resolve('node-red'));

type Received = { payload: { error: string; requestId: string }; statusCode?: number; error?: unknown };

const FLOW = [
  { id: 'series', type: 'series-response', wires: [['out']] },
  { id: 'footprint', type: 'footprint-response', wires: [['out']] },
  { id: 'out', type: 'helper' },
];

const CASES = [
  { node: 'series', info: { seriesQuery: { series: 'f', tag: 'series' } } },
  { node: 'footprint', info: { footprintQuery: { assetId: 'a', date: '2019-11-25', format: 'json' } } },
];

function answer(nodeId: string, msg: Record<string, unknown>): Promise<Received> {
  return new Promise((resolve) => {
    helper.getNode('out').once('input', (m: unknown) => resolve(m as Received));
    helper.getNode(nodeId).receive(msg);
  });
}

function loggedErrors(): string[] {
  const spy = helper.log() as unknown as { args: { level: number; msg: unknown }[][] };
  return spy.args
    .map(([entry]) => entry)
    .filter((e) => e.level === 20)
    .map((e) => String(e.msg));
}

describe('series-response / footprint-response: a failed database query', () => {
  afterEach(async () => {
    delete process.env[DATABASE_HINT_ENV];
    await helper.unload();
  });

  for (const { node, info } of CASES) {
    it(`${node}: 503 with a request id; the client's message only in the log`, async () => {
      await helper.load([seriesResponse, footprintResponse], FLOW);
      const secret = 'connect ECONNREFUSED 10.1.2.3:8086 (user=admin)';
      const msg = await answer(node, {
        ...info,
        payload: {},
        error: { message: secret, source: { id: 'q' } },
      });
      assert.equal(msg.statusCode, 503);
      assert.equal(msg.error, undefined, 'the caught error is not passed on');
      assert.match(msg.payload.requestId, /^[0-9a-f]{12}$/);
      assert.ok(!JSON.stringify(msg.payload).includes('10.1.2.3'), JSON.stringify(msg.payload));
      assert.match(msg.payload.error, new RegExp(`request ${msg.payload.requestId}`));
      const logged = loggedErrors().find((l) => l.includes(msg.payload.requestId));
      assert.ok(logged?.includes(secret), `logged: ${JSON.stringify(loggedErrors())}`);
    });

    it(`${node}: no database configured → 503 that says what to configure`, async () => {
      process.env[DATABASE_HINT_ENV] =
        'run `sudo apt-get install -y influxdb` and restart, or set INFLUX_URL';
      await helper.load([seriesResponse, footprintResponse], FLOW);
      const error = { message: 'InfluxDB url is not set in the influx-connection node' };
      const msg = await answer(node, { ...info, payload: {}, error });
      assert.equal(msg.statusCode, 503);
      assert.equal(
        msg.payload.error,
        'no database is configured: run `sudo apt-get install -y influxdb` and restart, or set INFLUX_URL',
      );
    });
  }
});
