/**
 * A small Node-RED process (the real runtime through node-red-node-test-helper) with one
 * influx-write node `w`, for tests that kill and restart Node-RED. Env: USER_DIR,
 * INFLUX_URL, POINTS (how many to write, measurement `killed`), FIRST (first index; the
 * point's value and its time offset in ms). Prints "sent N" when every point was handed over.
 */
import helper from 'node-red-node-test-helper';
import influxConnection from '../../nodes/influx-connection/influx-connection';
import influxWrite from '../../nodes/influx-write/influx-write';

const points = Number(process.env.POINTS ?? 0);
const first = Number(process.env.FIRST ?? 0);
const base = Date.parse('2024-02-01T00:00:00Z');

helper.init(require.resolve('node-red'));
helper.settings({ userDir: process.env.USER_DIR });
const flow = [
  {
    id: 'conn',
    type: 'influx-connection',
    url: process.env.INFLUX_URL,
    apiVersion: 'v1',
    database: 'gridflow',
  },
  {
    id: 'w',
    type: 'influx-write',
    connection: 'conn',
    measurement: 'killed',
    precision: 'ms',
    batchSize: 1000,
    flushSeconds: 0.1,
    bufferMegabytes: 100,
    wires: [[], []],
  },
];
helper.startServer(() => {
  helper.load([influxConnection, influxWrite], flow, () => {
    const node = helper.getNode('w') as unknown as { receive(msg: object): void };
    for (let i = first; i < first + points; i += 500) {
      const payload = [];
      for (let j = i; j < Math.min(i + 500, first + points); j++)
        payload.push({ fields: { v: j }, timestamp: base + j });
      node.receive({ payload });
    }
    console.log(`sent ${points}`);
  });
});
