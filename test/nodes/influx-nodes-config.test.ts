/**
 * influx-write / influx-query when their connection is missing or unusable, and msgs that
 * are not points: each msg fails through done(err) with a message that names the cause.
 */
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import { useNodeRedTestServer } from '../harness/node-red-test-server';
import influxConnection from '../../nodes/influx-connection/influx-connection';
import influxWrite from '../../nodes/influx-write/influx-write';
import influxQuery from '../../nodes/influx-query/influx-query';
import { eventually } from '../harness/eventually';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown>;
interface SpyCall {
  args: unknown[];
}
interface HelperNode {
  receive(msg: Msg): void;
  on(event: string, cb: (call: SpyCall) => void): void;
}

const flush = () => new Promise((r) => setImmediate(r));

describe('influx-write and influx-query: connection and point errors', function () {
  this.timeout(20_000);
  useNodeRedTestServer('gridflow-influx-config-');

  /** Loads the flow, sends the msgs to node `id`; the errors it reported with a msg (done(err)). */
  async function errorsFor(flow: object[], id: string, msgs: Msg[]): Promise<string[]> {
    await helper.load([influxConnection, influxWrite, influxQuery], flow as never);
    const node = helper.getNode(id) as unknown as HelperNode;
    const failed: string[] = [];
    node.on('call:error', (call) => {
      if (call.args[1] !== undefined) failed.push(String(call.args[0]));
    });
    for (const msg of msgs) node.receive(msg);
    // every msg ends in done(err) here; wait for as many as were sent
    await eventually(
      'an error per msg',
      10_000,
      async () => (failed.length >= msgs.length ? true : undefined),
      10,
    );
    await flush();
    return failed;
  }

  for (const type of ['influx-write', 'influx-query']) {
    it(`${type} with a connection that does not exist fails every msg through done(err)`, async () => {
      const failed = await errorsFor(
        [{ id: 'n', type, connection: 'gone', query: 'SELECT 1', measurement: 'm' }],
        'n',
        [{ payload: 1 }, { payload: 2 }, { payload: 3 }],
      );
      assert.equal(failed.length, 3);
      for (const e of failed) assert.match(e, /influx-connection gone does not exist/);
    });

    it(`${type} with apiVersion v3 names the api version, not the url`, async () => {
      const failed = await errorsFor(
        [
          { id: 'c', type: 'influx-connection', url: 'http://127.0.0.1:9', apiVersion: 'v3', database: 'g' },
          { id: 'n', type, connection: 'c', query: 'SELECT 1', measurement: 'm' },
        ],
        'n',
        [{ payload: 1 }],
      );
      assert.equal(failed.length, 1);
      assert.match(failed[0], /apiVersion "v3" is not v1 or v2/);
      assert.doesNotMatch(failed[0], /url/);
    });
  }

  it('influx-write with no connection chosen says so on every msg', async () => {
    const failed = await errorsFor([{ id: 'n', type: 'influx-write', connection: '' }], 'n', [
      { payload: 1 },
      { payload: 2 },
    ]);
    assert.deepEqual(failed.length, 2);
    assert.match(failed[0], /no influx-connection chosen/);
  });

  it('influx-write rejects a point without fields as such, not as a point without measurement', async () => {
    const failed = await errorsFor(
      [
        { id: 'c', type: 'influx-connection', url: '', apiVersion: 'v1', database: 'g' },
        { id: 'n', type: 'influx-write', connection: 'c', measurement: '', wires: [[], []] },
      ],
      'n',
      [
        { payload: { measurement: 'm', tags: { a: 'b' }, timestamp: 1 } },
        {
          payload: [
            { measurement: 'm', fields: { v: 1 } },
            { measurement: 'm', value: 2 },
          ],
        },
      ],
    );
    assert.equal(failed.length, 2);
    assert.match(failed[0], /^Error: payload has measurement\/tags\/timestamp but no fields/);
    assert.match(failed[1], /^Error: payload\[1\] has measurement\/tags\/timestamp but no fields/);
  });

  it('influx-write reports every bad setting at once', async () => {
    const failed = await errorsFor(
      [
        { id: 'c', type: 'influx-connection', url: '', apiVersion: 'v1', database: 'g' },
        {
          id: 'n',
          type: 'influx-write',
          connection: 'c',
          batchSize: 0,
          flushSeconds: 'soon',
          precision: 'ms',
        },
      ],
      'n',
      [{ payload: 1 }],
    );
    assert.match(
      failed[0],
      /setting batchSize = "0" must be an integer ≥ 1.*; setting flushSeconds = "soon"/,
    );
  });
});
