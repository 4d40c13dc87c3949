import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import brokerNode from '../../nodes/aedes-broker/aedes-broker';
import { freePort } from '../../app/free-port';
import { createConnection } from 'node:net';
import { networkInterfaces } from 'node:os';
import { credentialsMatch } from '../../nodes/core/mqtt-access';

helper.init(require.resolve('node-red'));

function brokerFlow(port: number, extra: Record<string, unknown> = {}) {
  return [
    {
      id: 'b1',
      type: 'aedes-broker',
      name: 'broker',
      port: String(port),
      bind: '127.0.0.1',
      anonymous: 'loopback',
      accessRules: '',
      ...extra,
    },
  ];
}

function connect(port: number, options: IClientOptions = {}): Promise<MqttClient> {
  return connectTo(`mqtt://127.0.0.1:${port}`, options);
}

/** This machine's first non-loopback IPv4 address: a client from there is not local. */
function nonLoopbackAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('this test needs a network interface with a non-loopback IPv4 address');
  return found.address;
}

function connectTo(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

function nextMessage(
  client: MqttClient,
): Promise<{ topic: string; payload: string; retain: boolean; qos: number }> {
  return new Promise((resolve) =>
    client.once('message', (topic, payload, packet) =>
      resolve({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }),
    ),
  );
}

/**
 * mqtt.js refuses to send an empty client id with clean=false, so this writes the
 * MQTT 3.1.1 CONNECT by hand and returns the CONNACK return code.
 */
function rawConnackCode(
  port: number,
  { clientId, clean }: { clientId: string; clean: boolean },
): Promise<number> {
  const id = Buffer.from(clientId);
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, clean ? 0x02 : 0x00, 0, 60]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const packet = Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]);
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1', () => socket.write(packet));
    socket.once('data', (data) => {
      socket.destroy();
      if (data[0] !== 0x20) reject(new Error(`expected CONNACK, got ${data.toString('hex')}`));
      else resolve(data[3]);
    });
    socket.once('error', reject);
  });
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`broker not listening on ${port}`);
}

function lastStatusText(id: string): string | undefined {
  const spy = helper.getNode(id).status as unknown as { lastCall?: { args: [{ text?: string }] } };
  return spy.lastCall?.args[0].text;
}

describe('aedes-broker node', function () {
  this.timeout(20_000);
  let port: number;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => (clients.push(c), c);

  beforeEach(async () => {
    port = await freePort();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await helper.unload();
  });

  it('relays a publish to a subscriber and shows the client count in status', async () => {
    await helper.load(brokerNode, brokerFlow(port));
    await waitListening(port);
    const sub = track(await connect(port));
    await sub.subscribeAsync('gridflow/test');
    const pub = track(await connect(port));
    const got = nextMessage(sub);
    await pub.publishAsync('gridflow/test', '{"value":1}');
    assert.deepEqual(await got, { topic: 'gridflow/test', payload: '{"value":1}', retain: false, qos: 0 });
    assert.equal(lastStatusText('b1'), `2 clients :${port}`);
  });

  it('delivers the retained last value to a late subscriber', async () => {
    await helper.load(brokerNode, brokerFlow(port));
    await waitListening(port);
    const pub = track(await connect(port));
    await pub.publishAsync('gridflow/grid-now/SolarPower/avg5m', 'first', { retain: true, qos: 1 });
    await pub.publishAsync('gridflow/grid-now/SolarPower/avg5m', 'last', { retain: true, qos: 1 });
    const late = track(await connect(port));
    const got = nextMessage(late);
    await late.subscribeAsync('gridflow/grid-now/+/avg5m');
    const msg = await got;
    assert.equal(msg.payload, 'last');
    assert.equal(msg.retain, true);
  });

  it('keeps QoS 1 messages for a persistent session while the subscriber is away', async () => {
    await helper.load(brokerNode, brokerFlow(port));
    await waitListening(port);
    const options = { clientId: 'persistent-sub', clean: false };
    const sub = await connect(port, options);
    await sub.subscribeAsync('gridflow/q1', { qos: 1 });
    await sub.endAsync();
    const pub = track(await connect(port));
    for (const n of [1, 2, 3]) await pub.publishAsync('gridflow/q1', String(n), { qos: 1 });
    const received: string[] = [];
    const back = mqtt.connect(`mqtt://127.0.0.1:${port}`, { ...options, reconnectPeriod: 0 });
    track(back);
    await new Promise<void>((resolve) =>
      back.on('message', (_t, payload, packet) => {
        assert.equal(packet.qos, 1);
        received.push(payload.toString());
        if (received.length === 3) resolve();
      }),
    );
    assert.deepEqual(received, ['1', '2', '3']);
  });

  it('refuses a wrong password and an anonymous client when credentials are set', async () => {
    await helper.load(brokerNode, brokerFlow(port), { b1: { username: 'grid', password: 's3cret' } });
    await waitListening(port);
    await assert.rejects(connect(port, { username: 'grid', password: 'wrong' }), /Bad username or password/i);
    await assert.rejects(connect(port), /Not authorized/i);
    const ok = track(await connect(port, { username: 'grid', password: 's3cret' }));
    assert.equal(ok.connected, true);
  });

  it('refuses an empty client id that asks for a persistent session (MQTT 3.1.1 §3.1.3-8)', async () => {
    await helper.load(brokerNode, brokerFlow(port));
    await waitListening(port);
    assert.equal(await rawConnackCode(port, { clientId: '', clean: false }), 2);
    assert.equal(await rawConnackCode(port, { clientId: 'named', clean: false }), 0);
    const clean = track(await connect(port, { clientId: '', clean: true }));
    assert.equal(clean.connected, true);
  });

  it('answers a subscription that the access rules deny with the failure code 0x80', async () => {
    const rules = 'allow * subscribe gridflow/#\nallow * publish gridflow/#';
    await helper.load(brokerNode, brokerFlow(port, { accessRules: rules }));
    await waitListening(port);
    const c = track(await connect(port));
    const granted = await c.subscribeAsync('gridflow/wind/#');
    assert.deepEqual(
      granted.map((g) => g.qos),
      [0],
    );
    const denied = await c.subscribeAsync('secret/#').then(
      () => assert.fail('the denied subscription was granted'),
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
    );
    assert.deepEqual(denied, [128]);
  });

  it('releases its port on redeploy, twice in a row', async () => {
    for (let round = 0; round < 3; round++) {
      await helper.load(brokerNode, brokerFlow(port));
      await waitListening(port);
      const c = await connect(port);
      await c.endAsync();
      await helper.unload();
    }
    await assert.rejects(connect(port), /ECONNREFUSED/);
  });

  it('round-trips MQTT over WebSocket (wsPort) with a real mqtt client, both ways with a TCP client', async () => {
    const wsPort = await freePort();
    await helper.load(brokerNode, brokerFlow(port, { wsPort: String(wsPort) }));
    await waitListening(port);
    await waitListening(wsPort);
    const ws = track(await connectTo(`ws://127.0.0.1:${wsPort}`));
    const tcp = track(await connect(port));
    await ws.subscribeAsync('gridflow/ws/in');
    await tcp.subscribeAsync('gridflow/ws/out');
    const atWs = nextMessage(ws);
    await tcp.publishAsync('gridflow/ws/in', 'from tcp', { qos: 1 });
    assert.deepEqual(await atWs, { topic: 'gridflow/ws/in', payload: 'from tcp', retain: false, qos: 0 });
    const atTcp = nextMessage(tcp);
    await ws.publishAsync('gridflow/ws/out', 'from ws', { qos: 1 });
    assert.equal((await atTcp).payload, 'from ws');
    assert.equal(lastStatusText('b1'), `2 clients :${port}`);
  });

  it('refuses anonymous clients from a non-loopback address by default (TCP and WebSocket), unless anonymous is "always"', async () => {
    const address = nonLoopbackAddress();
    const wsPort = await freePort();
    await helper.load(brokerNode, brokerFlow(port, { bind: '0.0.0.0', wsPort: String(wsPort) }));
    await waitListening(port);
    await waitListening(wsPort);
    await assert.rejects(connectTo(`mqtt://${address}:${port}`), /Not authorized/i);
    await assert.rejects(connectTo(`ws://${address}:${wsPort}`), /Not authorized/i);
    track(await connect(port)); // loopback: still fine
    await helper.unload();
    await helper.load(
      brokerNode,
      brokerFlow(port, { bind: '0.0.0.0', wsPort: String(wsPort), anonymous: 'always' }),
    );
    await waitListening(port);
    await waitListening(wsPort);
    track(await connectTo(`mqtt://${address}:${port}`));
    track(await connectTo(`ws://${address}:${wsPort}`));
  });

  it('treats a WebSocket forwarded by a reverse proxy on this host (X-Forwarded-For, Forwarded) as remote', async () => {
    const wsPort = await freePort();
    await helper.load(brokerNode, brokerFlow(port, { wsPort: String(wsPort) }));
    await waitListening(wsPort);
    const url = `ws://127.0.0.1:${wsPort}`;
    for (const headers of [
      { 'X-Forwarded-For': '203.0.113.9, 127.0.0.1' },
      { Forwarded: 'for=203.0.113.9;proto=http' },
    ])
      await assert.rejects(connectTo(url, { wsOptions: { headers } }), /Not authorized/i);
    track(await connectTo(url, { wsOptions: { headers: { 'X-Forwarded-For': '127.0.0.1' } } }));
  });

  it('compares user names and passwords as digests: any length, Buffer or string', () => {
    const expected = { username: 'grid', password: 's3cret' };
    assert.equal(credentialsMatch({ username: 'grid', password: Buffer.from('s3cret') }, expected), true);
    assert.equal(credentialsMatch({ username: 'grid', password: 's3cret' }, expected), true);
    for (const password of ['s3cre', 's3cret!', '', undefined, 'x'.repeat(10_000)])
      assert.equal(credentialsMatch({ username: 'grid', password }, expected), false);
    assert.equal(credentialsMatch({ username: 'gri', password: 's3cret' }, expected), false);
  });

  it('reports a clear error when the port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      await helper.load(brokerNode, brokerFlow(port));
      const node = helper.getNode('b1');
      const error = await new Promise<string>((resolve) => {
        const check = () => {
          const calls = (node.error as unknown as { args?: unknown[][] }).args;
          if (calls && calls.length) resolve(String(calls[0][0]));
          else setTimeout(check, 20);
        };
        check();
      });
      assert.match(error, /port in use/);
    } finally {
      blocker.close();
    }
  });
});

describe('aedes-broker node: msgs wired in are published by the broker itself', function () {
  this.timeout(20_000);
  let port: number;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => (clients.push(c), c);
  const received = (client: MqttClient, count: number) =>
    new Promise<{ topic: string; payload: string; retain: boolean; qos: number }[]>((resolve) => {
      const got: { topic: string; payload: string; retain: boolean; qos: number }[] = [];
      client.on('message', (topic, payload, packet) => {
        got.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos });
        if (got.length === count) resolve(got);
      });
    });
  const feed = (msg: Record<string, unknown>) => helper.getNode('b1').receive(msg);
  /** The next error the node reports (done(err) reports through node.error). */
  const nextError = () =>
    new Promise<string>((resolve) =>
      helper.getNode('b1').once('call:error', (call: { args: unknown[] }) => resolve(String(call.args[0]))),
    );

  beforeEach(async () => {
    port = await freePort();
    await helper.load(brokerNode, brokerFlow(port));
    await waitListening(port);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await helper.unload();
  });

  it('publishes msg.topic / msg.payload (objects as JSON, strings as text, retain from the msg) at QoS 0', async () => {
    const sub = track(await connect(port));
    await sub.subscribeAsync('gridflow/#', { qos: 1 });
    const got = received(sub, 3);
    feed({ topic: 'gridflow/a', payload: { value: 1.5 } });
    feed({ topic: 'gridflow/b', payload: 'text', qos: 0 });
    feed({ topic: 'gridflow/c', payload: 7, retain: true });
    assert.deepEqual(await got, [
      { topic: 'gridflow/a', payload: '{"value":1.5}', retain: false, qos: 0 },
      { topic: 'gridflow/b', payload: 'text', retain: false, qos: 0 },
      { topic: 'gridflow/c', payload: '7', retain: false, qos: 0 },
    ]);
    const late = track(await connect(port));
    const retained = received(late, 1);
    await late.subscribeAsync('gridflow/c');
    assert.deepEqual(await retained, [{ topic: 'gridflow/c', payload: '7', retain: true, qos: 0 }]);
  });

  it('publishes a batch ({payload: [{topic, payload}, …]}) item by item, in order', async () => {
    const sub = track(await connect(port));
    await sub.subscribeAsync('soak/out/#');
    const items = Array.from({ length: 1000 }, (_, i) => ({ topic: `soak/out/k${i}`, payload: { mean: i } }));
    const got = received(sub, 1000);
    feed({ payload: items });
    assert.deepEqual(
      await got,
      items.map((it) => ({ topic: it.topic, payload: JSON.stringify(it.payload), retain: false, qos: 0 })),
    );
  });

  it('leaves out batch items with a bad topic, reports them in one error and publishes the rest', async () => {
    const sub = track(await connect(port));
    await sub.subscribeAsync('gridflow/#');
    const got = received(sub, 2);
    const error = nextError();
    feed({
      payload: [
        { topic: 'gridflow/ok1', payload: 1 },
        { topic: 'gridflow/+', payload: 2 },
        'not an item',
        { topic: '$SYS/x', payload: 3 },
        { topic: 'gridflow/ok2', payload: 4 },
      ],
    });
    assert.deepEqual(
      (await got).map((m) => [m.topic, m.payload]),
      [
        ['gridflow/ok1', '1'],
        ['gridflow/ok2', '4'],
      ],
    );
    assert.match(
      await error,
      /3 of 5 not published: msg\.payload\[1\]\.topic: topic "gridflow\/\+" has a wildcard.*\(and 2 more\)/,
    );
    assert.equal(lastStatusText('b1'), '3 not published');
  });

  it('reports a msg with no topic, and a bad qos, and keeps publishing later msgs', async () => {
    const sub = track(await connect(port));
    await sub.subscribeAsync('gridflow/#');
    const got = received(sub, 1);
    let error = nextError();
    feed({ payload: 1 });
    assert.match(await error, /msg\.topic: the topic is not a non-empty string/);
    error = nextError();
    feed({ topic: 'gridflow/x', payload: 1, qos: 5 });
    assert.match(await error, /msg\.qos 5 is not 0, 1 or 2/);
    error = nextError();
    feed({ topic: 'gridflow/x', payload: 1, qos: 1 });
    assert.match(await error, /go out at QoS 0; use an mqtt out node for QoS 1 or 2/);
    feed({ topic: 'gridflow/y', payload: 2 });
    assert.deepEqual(
      (await got).map((m) => m.topic),
      ['gridflow/y'],
    );
  });
});

describe('aedes-broker node: Subscribe sends what clients publish, taken from the broker itself', function () {
  this.timeout(20_000);
  let port: number;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => (clients.push(c), c);
  type Out = { topic: string; payload: unknown; qos: number; retain: boolean };

  async function load(extra: Record<string, unknown>) {
    port = await freePort();
    await helper.load(brokerNode, [
      { ...brokerFlow(port, extra)[0], wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    await waitListening(port);
    const got: Out[] = [];
    (helper.getNode('out') as unknown as NodeJS.EventEmitter).on('input', (m: Out) => got.push(m));
    return got;
  }
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await helper.unload();
  });

  it('sends messages on matching topics only, JSON parsed (auto-detect), text as text, other bytes as a Buffer', async () => {
    const got = await load({ subscribe: 'gridflow/in/#' });
    const pub = track(await connect(port));
    await pub.publishAsync('gridflow/in/a', '{"value":1.5}');
    await pub.publishAsync('gridflow/other', '{"value":2}');
    await pub.publishAsync('gridflow/in/b', 'plain text', { qos: 1 });
    await pub.publishAsync('gridflow/in/c', Buffer.from([0xff, 0xfe]));
    await until(() => got.length >= 3);
    assert.deepEqual(
      got.map((m) => [m.topic, m.payload, m.qos, m.retain]),
      [
        ['gridflow/in/a', { value: 1.5 }, 0, false],
        ['gridflow/in/b', 'plain text', 1, false],
        ['gridflow/in/c', Buffer.from([0xff, 0xfe]), 0, false],
      ],
    );
  });

  it('with datatype json refuses a payload that is not JSON, once per topic, and sends the rest', async () => {
    const got = await load({ subscribe: 'gridflow/in/+', datatype: 'json' });
    const errors: string[] = [];
    (helper.getNode('b1') as unknown as NodeJS.EventEmitter).on('call:error', (call: { args: unknown[] }) =>
      errors.push(String(call.args[0])),
    );
    const pub = track(await connect(port));
    await pub.publishAsync('gridflow/in/a', 'not json');
    await pub.publishAsync('gridflow/in/a', 'still not');
    await pub.publishAsync('gridflow/in/a', '42');
    await until(() => got.length >= 1);
    assert.deepEqual(
      got.map((m) => m.payload),
      [42],
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0], /message on gridflow\/in\/a not sent: the payload is not JSON \(datatype json\)/);
  });

  it('sends nothing with Subscribe blank, and refuses a filter that is not one', async () => {
    const got = await load({});
    const pub = track(await connect(port));
    await pub.publishAsync('gridflow/in/a', '1');
    const sub = track(await connect(port));
    await sub.subscribeAsync('gridflow/in/a');
    const seen = nextMessage(sub);
    await pub.publishAsync('gridflow/in/a', '2');
    await seen; // the broker has routed it
    assert.equal(got.length, 0);
    await helper.unload();
    port = await freePort();
    await helper.load(brokerNode, brokerFlow(port, { subscribe: 'gridflow/#/x' }));
    const node = helper.getNode('b1');
    const calls = (node.error as unknown as { args: unknown[][] }).args;
    assert.match(String(calls[0]?.[0]), /subscribe "gridflow\/#\/x" is not an MQTT topic filter/);
  });
});
