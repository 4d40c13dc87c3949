/**
 * `npm start`: Node-RED 4.1 embedded, with the gridflow nodes (linked into the userDir
 * as an installed package), every shipped flow, the embedded MQTT broker (a node in
 * the flows) and, when INFLUX_URL is unset, a private InfluxDB (installed first by
 * scripts/setup.sh start when influxd is missing). Prints `gridflow ready: …` and answers
 * 200 on GET /gridflow/ready only once the flows, their routes and the broker answer.
 */
import { createServer } from 'node:http';
import { mkdirSync, symlinkSync, existsSync, rmSync, lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express from 'express';
import { appSettings, FLOW_ENV_DEFAULTS } from '../settings';
import { seedFlowFile } from './shipped-flows';
import { chooseDatabase, type DatabaseChoice } from './database';
import { AppReadiness, READY_PATH, type FlowConfigNode, type RouterHost } from './readiness';
import { TabReport, type NodeStatusEvent, type SendEvent } from './tab-report';
import { DATABASE_HINT_ENV } from '../nodes/shared/http-reply';
import { parseRetention, setUpRetention } from './retention';
import { basicAuth } from './api-auth';

const repoRoot = resolve(__dirname, '..', '..');

/** Makes the package visible to Node-RED's module scan, as `npm install` in the userDir would. */
function linkPackage(userDir: string): void {
  const scopeDir = join(userDir, 'node_modules', '@gridflow');
  const link = join(scopeDir, 'node-red-gridflow');
  mkdirSync(scopeDir, { recursive: true });
  if (existsSync(link) || isDanglingLink(link)) rmSync(link, { recursive: true, force: true });
  symlinkSync(repoRoot, link, 'dir');
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

interface RuntimeEvents {
  on(
    event: 'flows:started' | 'flows:stopping',
    listener: (event: { config: { flows: FlowConfigNode[] } }) => void,
  ): void;
  on(event: 'node-status', listener: (event: NodeStatusEvent) => void): void;
  on(event: 'runtime-event', listener: (event: RuntimeStateEvent) => void): void;
}

interface RuntimeStateEvent {
  id: string;
  payload?: { state?: string; error?: string; types?: string[]; modules?: unknown[] };
}

/** Node-RED stopped the flows instead of starting them (missing types, safe mode): say why, as readiness never comes. */
function reportFlowsNotStarted(event: RuntimeStateEvent): void {
  const payload = event.payload;
  if (event.id !== 'runtime-state' || !payload?.error || !['stop', 'safe'].includes(payload.state ?? ''))
    return;
  const detail = payload.types?.length ? `: ${payload.types.join(', ')}` : '';
  console.warn(`gridflow: the flows did not start (${payload.error}${detail}); not ready`);
}

/** Logs a stray rejection (a node that forgot a catch) instead of letting Node.js end the app. */
function logUnhandledRejection(reason: unknown): void {
  const text = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
  console.error(`gridflow: unhandled promise rejection (the app keeps running): ${text}`);
}

async function useDatabase(userDir: string): Promise<DatabaseChoice> {
  const database = await chooseDatabase(userDir, repoRoot);
  if (database.kind === 'none') {
    process.env.INFLUX_URL = '';
    process.env[DATABASE_HINT_ENV] = database.hint;
    console.warn(`gridflow: no database: ${database.hint}.`);
    console.warn('gridflow: until then, writes wait in the disk buffer and the HTTP APIs answer 503.');
  } else {
    process.env.INFLUX_URL = database.url;
    console.log(`gridflow: database: ${database.description}`);
  }
  return database;
}

/** The rollup retention policies (docs/adr/0090), on an InfluxDB 1.x before the flows write. */
async function setUpRollupRetention(): Promise<void> {
  const url = process.env.INFLUX_URL;
  if (!url || (process.env.INFLUX_API ?? 'v1') !== 'v1') return;
  const durations = parseRetention(process.env.GRIDFLOW_RETENTION);
  try {
    const problems = await setUpRetention(url, process.env.INFLUX_DB || 'gridflow', durations, {
      username: process.env.INFLUX_USER,
      password: process.env.INFLUX_PASSWORD,
    });
    for (const p of problems) console.warn(`gridflow: retention: ${p}`);
  } catch (err) {
    console.warn(`gridflow: retention policies not set up (${(err as Error).message}); rollup writes wait`);
  }
}

async function main(): Promise<void> {
  process.on('unhandledRejection', logUnhandledRejection);
  const settings = appSettings(process.env, repoRoot);
  for (const [name, value] of Object.entries(FLOW_ENV_DEFAULTS)) process.env[name] ??= value;
  process.env.GRIDFLOW_DATA_DIR = settings.dataDir;
  mkdirSync(settings.userDir, { recursive: true });
  linkPackage(settings.userDir);
  const seeded = seedFlowFile(
    join(repoRoot, 'flows'),
    join(settings.userDir, 'flows.json'),
    process.env.GRIDFLOW_RESET_FLOWS === '1',
  );
  if (!seeded)
    console.log(
      'gridflow: keeping the flows in the userDir (GRIDFLOW_RESET_FLOWS=1 restores the shipped ones)',
    );
  const database = await useDatabase(settings.userDir);
  await setUpRollupRetention();

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  const events = RED.events as RuntimeEvents;
  const app = express();
  const server = createServer(app);
  RED.init(server, settings.nodeRed);
  const brokerHost = ['0.0.0.0', '::', ''].includes(settings.mqttBind) ? '127.0.0.1' : settings.mqttBind;
  const readiness = new AppReadiness(RED.httpNode as RouterHost, process.env, brokerHost);
  app.get(READY_PATH, (_req, res) => {
    res.status(readiness.current.ready ? 200 : 503).json(readiness.current);
  });
  app.use('/', RED.httpAdmin);
  const apiAuth = settings.nodeRed.httpNodeAuth as { user: string; pass: string } | undefined;
  if (apiAuth) app.use('/', basicAuth(apiAuth));
  app.use('/', RED.httpNode);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;

  let report: TabReport | undefined;
  events.on('node-status', (event) => report?.onStatus(event));
  RED.hooks.add('onSend.gridflow-tab-report', (sendEvents: SendEvent[]) => report?.onSend(sendEvents));
  events.on('runtime-event', reportFlowsNotStarted);
  events.on('flows:stopping', () => readiness.flowsStopping());
  events.on('flows:started', ({ config }) => void readiness.flowsStarted(config.flows));
  readiness.on('ready', ({ flows, problems }: { flows: FlowConfigNode[]; problems: string[] }) => {
    for (const problem of problems) console.warn(`gridflow: ${problem}`);
    if (report) return console.log('gridflow: flows redeployed and started');
    report = new TabReport(flows, process.env, (line) => console.log(line));
    console.log(
      `gridflow ready: editor http://${settings.host}:${port}/ · MQTT broker ${settings.mqttBind}:${settings.mqttPort} · database ${database.description} · userDir ${settings.userDir}`,
    );
    console.log(`gridflow tabs:\n${report.summary().join('\n')}`);
  });
  await RED.start();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`gridflow: ${signal}, stopping`);
    const force = setTimeout(() => process.exit(1), 20_000);
    try {
      await RED.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (database.kind === 'private') await database.influx.stop();
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: Error) => {
  console.error(`gridflow: could not start: ${err.message}`);
  process.exit(1);
});
