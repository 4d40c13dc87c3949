import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Aedes, Client, AuthenticateError } from 'aedes' with { 'resolution-mode': 'import' };
import type { Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { showStatus } from '../shared/status';
import { configNumber, parseAllSettings } from '../shared/config-number';
import {
  clientAddress,
  credentialsMatch,
  isAllowed,
  isLoopbackAddress,
  isValidFilter,
  parseAccessRules,
  type AccessRule,
} from '../core/mqtt-access';
import { decodePayload, PAYLOAD_TYPES, type PayloadType } from '../core/mqtt-receive';
import { OncePerKey } from '../core/lru-keys';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { publishesOf, type BrokerPublish } from '../core/mqtt-publish';
import { AEDES_BROKER_MIGRATIONS } from './migrations';

interface AedesBrokerConfig extends NodeDef {
  port: string;
  bind: string;
  wsPort: string;
  anonymous: 'loopback' | 'always' | 'never';
  accessRules: string;
  subscribe?: string;
  datatype?: string;
}
interface AedesBrokerCredentials {
  username?: string;
  password?: string;
}
interface BrokerSettings {
  port: number;
  bind: string;
  wsPort?: number;
  anonymous: 'loopback' | 'always' | 'never';
  rules: AccessRule[];
  username?: string;
  password?: string;
  /** Topic filter whose messages the node sends on its output ('' = none). */
  subscribe: string;
  datatype: PayloadType;
}

const CONNACK_IDENTIFIER_REJECTED = 2;
const CONNACK_BAD_CREDENTIALS = 4;
const CONNACK_NOT_AUTHORIZED = 5;

function parseSettings(config: AedesBrokerConfig, credentials: AedesBrokerCredentials): BrokerSettings {
  const anonymous = config.anonymous || 'loopback';
  if (!['loopback', 'always', 'never'].includes(anonymous))
    throw new Error(`anonymous "${anonymous}" is not one of loopback, always, never`);
  return {
    port: configNumber(config.port, 'port', 1883, { min: 1, max: 65535, integer: true }),
    bind: (config.bind || '127.0.0.1').trim(),
    wsPort: config.wsPort
      ? configNumber(config.wsPort, 'wsPort', 0, { min: 1, max: 65535, integer: true })
      : undefined,
    anonymous,
    rules: parseAccessRules(config.accessRules || ''),
    subscribe: parseSubscribe(config.subscribe),
    datatype: parseDatatype(config.datatype),
    username: credentials.username || undefined,
    password: credentials.password || undefined,
  };
}

function parseSubscribe(raw: unknown): string {
  const filter = String(raw ?? '').trim();
  if (filter !== '' && (!isValidFilter(filter) || filter.startsWith('$')))
    throw new Error(`subscribe "${filter}" is not an MQTT topic filter (blank: send nothing)`);
  return filter;
}

function parseDatatype(raw: unknown): PayloadType {
  const type = String(raw || 'auto');
  if (!(PAYLOAD_TYPES as readonly string[]).includes(type))
    throw new Error(`datatype "${type}" is not one of ${PAYLOAD_TYPES.join(', ')}`);
  return type as PayloadType;
}

function connectError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function remoteAddress(client: Client): string | undefined {
  if (client.req) return clientAddress(client.req.socket?.remoteAddress, client.req.headers);
  return 'remoteAddress' in client.conn ? client.conn.remoteAddress : undefined;
}

/** Wires authentication and access rules into a broker; see the node's help for the rules. */
function applyAccessControl(broker: Aedes, settings: BrokerSettings): void {
  const rejectEmptyId = new WeakSet<Client>();
  const userOf = new WeakMap<Client, string>();
  broker.preConnect = (client, packet, callback) => {
    // MQTT 3.1.1 §3.1.3-8: an empty client id needs a clean session; aedes would invent an id.
    if (!packet.clientId && packet.clean === false) rejectEmptyId.add(client);
    callback(null, true);
  };
  broker.authenticate = (client, username, password, callback) => {
    if (rejectEmptyId.has(client))
      return callback(
        connectError('empty client id needs clean session', CONNACK_IDENTIFIER_REJECTED),
        false,
      );
    if (username === undefined || username === '') {
      const allowed =
        settings.anonymous === 'always' ||
        (settings.anonymous === 'loopback' && !settings.username && isLoopbackAddress(remoteAddress(client)));
      return allowed
        ? callback(null, true)
        : callback(connectError('not authorized', CONNACK_NOT_AUTHORIZED), false);
    }
    const ok =
      !!settings.username &&
      credentialsMatch(
        { username, password },
        { username: settings.username, password: settings.password ?? '' },
      );
    if (!ok) return callback(connectError('bad user name or password', CONNACK_BAD_CREDENTIALS), false);
    userOf.set(client, username);
    callback(null, true);
  };
  broker.authorizePublish = (client, packet, callback) => {
    if (packet.topic.startsWith('$SYS/')) return callback(new Error('$SYS/ topics are reserved'));
    if (client && !isAllowed(settings.rules, userOf.get(client), 'publish', packet.topic))
      return callback(new Error(`publish to ${packet.topic} denied`));
    callback(null);
  };
  broker.authorizeSubscribe = (client, sub, callback) => {
    callback(null, isAllowed(settings.rules, userOf.get(client), 'subscribe', sub.topic) ? sub : null);
  };
}

/** Publishes into the broker itself (no client connection); calls back once every message is through. */
function publishAll(broker: Aedes, publishes: readonly BrokerPublish[], done: (err?: Error) => void): void {
  let left = publishes.length;
  let failed: Error | undefined;
  if (left === 0) return done();
  for (const { topic, payload, qos, retain } of publishes) {
    broker.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err?: Error) => {
      if (err && !failed) failed = new Error(`publish to ${topic} failed: ${err.message}`);
      if (--left === 0) done(failed);
    });
  }
}

function listen(server: TcpServer | HttpServer, port: number, bind: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: TcpServer | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
}

export = (RED: NodeAPI) => {
  let aedesModule: Promise<typeof import('aedes', { with: { 'resolution-mode': 'import' } })> | undefined;
  const loadAedes = () => (aedesModule ??= import('aedes'));
  void loadAedes().catch(() => undefined);

  function AedesBrokerNode(this: Node<AedesBrokerCredentials>, config: AedesBrokerConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let broker: Aedes | undefined;
    let http: HttpServer | undefined;
    let wss: WebSocketServer | undefined;
    const sockets = new Set<Socket>();
    let settings: BrokerSettings;
    try {
      settings = parseAllSettings(() => parseSettings(config, node.credentials ?? {}));
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const showClients = () => {
      const n = broker?.connectedClients ?? 0;
      showStatus(node, 'ok', `${n} client${n === 1 ? '' : 's'} :${settings.port}`);
    };

    // Messages published to the Subscribe filter go out on the output: no client, no TCP.
    const badPayloadTopics = new OncePerKey();
    const sendPublished = (
      packet: { topic: string; payload: Buffer | string; qos: number; retain: boolean },
      callback: () => void,
    ) => {
      callback();
      if (packet.topic.startsWith('$')) return; // the broker's own $SYS topics
      const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const decoded = decodePayload(bytes, settings.datatype);
      const msg = { topic: packet.topic, qos: packet.qos, retain: packet.retain };
      if (decoded.ok) node.send({ ...msg, payload: decoded.payload });
      else if (badPayloadTopics.first(packet.topic))
        node.error(`message on ${packet.topic} not sent: ${decoded.reason} (datatype ${settings.datatype})`, {
          ...msg,
          payload: bytes,
        });
    };

    // The TCP port opens synchronously, before aedes is ready, so that MQTT clients
    // started in the same deploy (the flows' mqtt out nodes) connect at their first try;
    // their sockets wait, unread, until the broker takes them.
    const pending: Socket[] = [];
    const tcp: TcpServer = createTcpServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      if (broker) broker.handle(socket);
      else pending.push(socket);
    });
    const tcpListening = listen(tcp, settings.port, settings.bind);
    tcpListening.catch(() => undefined); // reported below, once `started` awaits it

    const started = (async () => {
      showStatus(node, 'busy', 'starting');
      const { Aedes } = await loadAedes();
      const ready = await Aedes.createBroker({ drainTimeout: 30_000 });
      applyAccessControl(ready, settings);
      ready.on('client', showClients);
      ready.on('clientDisconnect', showClients);
      broker = ready;
      if (settings.subscribe) ready.subscribe(settings.subscribe, sendPublished, () => undefined);
      for (const socket of pending.splice(0)) if (!socket.destroyed) ready.handle(socket);
      await tcpListening;
      if (settings.wsPort) {
        http = createHttpServer();
        http.on('connection', (socket) => {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        });
        wss = new WebSocketServer({ server: http });
        wss.on('connection', (ws, req) => broker!.handle(createWebSocketStream(ws), req));
        await listen(http, settings.wsPort, settings.bind);
      }
      node.log(
        `MQTT broker listening on ${settings.bind}:${settings.port}${settings.wsPort ? ` (WebSocket :${settings.wsPort})` : ''}`,
      );
      showClients();
    })().catch((err: NodeJS.ErrnoException) => {
      const hint =
        err.code === 'EADDRINUSE'
          ? ` — port in use: stop the other broker or set another port (MQTT_PORT)`
          : '';
      node.error(`MQTT broker could not start on ${settings.bind}:${settings.port}: ${err.message}${hint}`);
      showStatus(node, 'error', err.code === 'EADDRINUSE' ? 'port in use' : 'failed');
    });

    // msgs wired in are published by the broker itself: no client, no TCP (docs/adr/0151).
    let refusedCount = 0;
    onInput(node, async (msg, _send, done) => {
      const { publishes, refused } = publishesOf(msg);
      const ready = broker ?? (await started, broker);
      if (!ready) throw new Error('the broker is not running (see its earlier error)');
      publishAll(ready, publishes, (err) => {
        if (refused.length === 0) return done(err);
        refusedCount += refused.length;
        showStatus(node, 'warn', `${refusedCount} not published`);
        const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
        const alsoFailed = err ? `; ${err.message}` : '';
        done(
          new Error(
            `${refused.length} of ${refused.length + publishes.length} not published: ${refused[0]}${more}${alsoFailed}`,
          ),
        );
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      started
        .then(async () => {
          wss?.close();
          for (const socket of sockets) socket.destroy();
          await Promise.all([closeServer(tcp), closeServer(http)]);
          await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
        })
        .catch((err: Error) => node.warn(`broker close: ${err.message}`))
        .finally(() => done());
    });
  }

  registerNode(RED, 'aedes-broker', AEDES_BROKER_MIGRATIONS, AedesBrokerNode, {
    username: { type: 'text' },
    password: { type: 'password' },
  });
};
