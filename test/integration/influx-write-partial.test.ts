/**
 * influx-write when InfluxDB stores part of a batch (a real influxd 1.x answers
 * `400 partial write: ... dropped=N`): only the refused lines go to output 2, the stored
 * ones count as written.
 */
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import influxConnection from '../../nodes/influx-connection/influx-connection';
import influxWrite from '../../nodes/influx-write/influx-write';
import { useNodeRedTestServer, useTestInfluxd } from '../harness/node-red-test-server';
import { eventually } from '../harness/eventually';
import { isPartialWrite, refusedLines } from '../../nodes/core/partial-write';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown>;
interface HelperNode {
  receive(msg: Msg): void;
  on(event: string, cb: (msg: Msg) => void): void;
}

describe('influx-write against a real InfluxDB 1.x: partial writes', function () {
  this.timeout(60_000);
  const influxd = useTestInfluxd('gridflow');
  useNodeRedTestServer('gridflow-partial-');

  const load = (batchSize: number) =>
    new Promise<void>((resolve) =>
      helper.load(
        [influxConnection, influxWrite],
        [
          {
            id: 'conn',
            type: 'influx-connection',
            url: influxd().url,
            apiVersion: 'v1',
            database: 'gridflow',
          },
          {
            id: 'w',
            type: 'influx-write',
            connection: 'conn',
            measurement: '',
            precision: 'ms',
            batchSize,
            flushSeconds: 0.2,
            bufferMegabytes: 100,
            wires: [['written'], ['rejected']],
          },
          { id: 'written', type: 'helper' },
          { id: 'rejected', type: 'helper' },
        ] as never,
        () => resolve(),
      ),
    );
  const node = (id: string) => helper.getNode(id) as unknown as HelperNode;
  const count = async (measurement: string) =>
    Number((await influxd().query(`SELECT count("v") FROM "${measurement}"`))[0]?.count ?? 0);

  it('sends only the one conflicting point of a 5,000-point batch to output 2 and counts 4,999 written', async () => {
    await load(5000);
    const written: Msg[] = [];
    const rejected: Msg[] = [];
    node('written').on('input', (m) => written.push(m));
    node('rejected').on('input', (m) => rejected.push(m));
    node('w').receive({ payload: { measurement: 'partial', fields: { v: 0.5 }, timestamp: 1 }, flush: true });
    await eventually('the first point', 30_000, async () => (written.length === 1 ? true : undefined), 50);

    const points = Array.from({ length: 5000 }, (_, i) => ({
      measurement: 'partial',
      fields: { v: i === 2345 ? 'not a number' : i },
      timestamp: 1000 + i,
    }));
    node('w').receive({ payload: points, flush: true });
    await eventually(
      'the answer to the batch',
      30_000,
      async () => (rejected.length === 1 ? true : undefined),
      50,
    );

    assert.deepEqual(rejected[0].payload, ['partial v="not a number" 3345']);
    const error = rejected[0].error as { status: number; message: string; dropped: number };
    assert.equal(error.status, 400);
    assert.equal(error.dropped, 1);
    assert.match(error.message, /partial write: field type conflict/);
    assert.deepEqual(written[1].payload, { points: 4999 });
    assert.equal(await count('partial'), 1 + 4999);
  });

  it('finds every dropped line when the answer names only one of several conflicts', async () => {
    await load(100);
    const written: Msg[] = [];
    const rejected: Msg[] = [];
    node('written').on('input', (m) => written.push(m));
    node('rejected').on('input', (m) => rejected.push(m));
    node('w').receive({
      payload: [
        { measurement: 'a', fields: { v: 1.5 }, timestamp: 1 },
        { measurement: 'b', fields: { v: 1.5 }, timestamp: 1 },
      ],
      flush: true,
    });
    await eventually('the first batch', 30_000, async () => (written.length === 1 ? true : undefined), 50);
    node('w').receive({
      payload: [
        { measurement: 'a', fields: { v: 2 }, timestamp: 2 },
        { measurement: 'a', fields: { v: 'x' }, timestamp: 3 },
        { measurement: 'b', fields: { v: true }, timestamp: 4 },
        { measurement: 'b', fields: { v: 5 }, timestamp: 5 },
      ],
      flush: true,
    });
    await eventually('the answer', 30_000, async () => (rejected.length === 1 ? true : undefined), 50);
    // influxd 1.x names one conflict ("... dropped=2"); the field types it holds name the other
    assert.deepEqual(rejected[0].payload, ['a v="x" 3', 'b v=true 4']);
    assert.deepEqual(written[1].payload, { points: 2 });
    assert.equal((await count('a')) + (await count('b')), 4);
  });

  it('names the lines influxd cannot parse and stores the rest of the batch', async () => {
    const lines = ['m v=1 1', "m v='bad 2", 'm v=3 3', 'm,a= v=1 4'];
    const res = await fetch(`${influxd().url}/write?db=gridflow&precision=ms`, {
      method: 'POST',
      body: lines.join('\n'),
    });
    const message = ((await res.json()) as { error: string }).error;
    assert.equal(res.status, 400);
    assert.ok(isPartialWrite(message), message);
    assert.deepEqual(refusedLines(lines, message).refused, ["m v='bad 2", 'm,a= v=1 4']);
    assert.equal(await count('m'), 2);
  });
});
