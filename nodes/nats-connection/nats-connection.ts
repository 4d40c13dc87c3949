/**
 * nats-connection (config): which NATS servers, how to log in (user/password or token,
 * kept as Node-RED credentials) and TLS. One connection per config node, shared by every
 * nats-in/nats-out that uses it; the client fails over between the listed servers. A
 * blank server list, or one that still holds `${VAR}`, means "not configured".
 */
import { readFileSync } from 'node:fs';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import type { NodeAPI, NodeDef } from '../shared/node-red-types';
import type { NatsConnectionNode } from './nats-streams';
import { registerNode } from '../shared/node-handler';
import { NATS_CONNECTION_MIGRATIONS } from './migrations';

interface NatsConnectionConfig extends NodeDef {
  servers?: string;
  tls?: boolean | string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
}

function parseServers(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.includes('${'));
}

function connectionOptions(
  name: string,
  servers: string[],
  config: NatsConnectionConfig,
  credentials: NatsCredentials,
): ConnectionOptions {
  const options: ConnectionOptions = {
    servers,
    name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 500,
    pingInterval: 5_000,
  };
  if (credentials.token) options.token = credentials.token;
  else if (credentials.user) {
    options.user = credentials.user;
    options.pass = credentials.password ?? '';
  }
  if (config.tls === true || config.tls === 'true') {
    options.tls = {
      ...(config.caFile ? { ca: readFileSync(config.caFile, 'utf8') } : {}),
      ...(config.certFile ? { cert: readFileSync(config.certFile, 'utf8') } : {}),
      ...(config.keyFile ? { key: readFileSync(config.keyFile, 'utf8') } : {}),
    };
  }
  return options;
}

export = (RED: NodeAPI) => {
  function NatsConnectionConfigNode(this: NatsConnectionNode, config: NatsConnectionConfig) {
    RED.nodes.createNode(this, config);
    const credentials = (this.credentials ?? {}) as NatsCredentials;
    this.servers = parseServers(config.servers);
    this.configured = this.servers.length > 0;
    let opened: Promise<NatsConnection> | undefined;
    this.connection = () => {
      if (!this.configured) return Promise.reject(new Error('no NATS servers set (GRIDFLOW_NATS_URL)'));
      opened ??= connect(connectionOptions(config.name || 'gridflow', this.servers, config, credentials));
      opened.catch(() => (opened = undefined));
      return opened;
    };
    this.on('close', (done: () => void) => {
      const closing = opened;
      opened = undefined;
      if (!closing) return done();
      closing
        .then((nc) => nc.drain())
        .catch(() => undefined)
        .finally(() => done());
    });
  }
  registerNode(RED, 'nats-connection', NATS_CONNECTION_MIGRATIONS, NatsConnectionConfigNode, {
    user: { type: 'text' },
    password: { type: 'password' },
    token: { type: 'password' },
  });
};
