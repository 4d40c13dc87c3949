import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import helper from 'node-red-node-test-helper';
import brokerNode from '../../nodes/aedes-broker/aedes-broker';
import { freePort } from '../../app/free-port';

helper.init(require.resolve('node-red'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const injectNode = require('@node-red/nodes/core/common/20-inject.js');

describe('interop: Debian mosquitto_sub and a Node-RED flow', function () {
  this.timeout(30_000);
  before(() => {
    const found = spawnSync('mosquitto_sub', ['--help'], { stdio: 'ignore' });
    if (found.error)
      throw new Error(
        'mosquitto_sub is missing: `apt-get install -y mosquitto-clients` (npm test installs it)',
      );
  });
  afterEach(() => helper.unload());

  it('receives what an inject → mqtt out flow publishes through the aedes-broker node', async () => {
    const port = await freePort();
    const flow = [
      {
        id: 'embedded',
        type: 'aedes-broker',
        port: String(port),
        bind: '127.0.0.1',
        anonymous: 'loopback',
        accessRules: '',
      },
      {
        id: 'conn',
        type: 'mqtt-broker',
        broker: '127.0.0.1',
        port: String(port),
        clientid: '',
        autoConnect: true,
        usetls: false,
        protocolVersion: '4',
        keepalive: '60',
        cleansession: true,
      },
      {
        id: 'tick',
        type: 'inject',
        topic: 'gridflow/interop/test',
        payload: '{"value":42.5}',
        payloadType: 'json',
        wires: [['pub']],
      },
      {
        id: 'pub',
        type: 'mqtt out',
        z: 'f1',
        broker: 'conn',
        topic: '',
        qos: '1',
        retain: 'true',
        wires: [],
      },
    ];
    await helper.load([brokerNode, mqttNodes, injectNode], flow);
    const out = helper.getNode('pub') as unknown as { brokerConn: { connected: boolean } };
    for (let i = 0; i < 1200 && !out.brokerConn.connected; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(out.brokerConn.connected, true, 'mqtt out did not connect to the embedded broker');
    helper.getNode('tick').receive({});
    const sub = spawn('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      'gridflow/interop/#',
      '-v',
      '-C',
      '1',
      '-W',
      '10',
    ]);
    let stdout = '';
    sub.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => sub.once('exit', resolve));
    assert.equal(code, 0, `mosquitto_sub exited with ${code}`);
    assert.equal(stdout.trim(), 'gridflow/interop/test {"value":42.5}');
  });
});
