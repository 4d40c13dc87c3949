/**
 * `npm start`: Node-RED 4.1 embedded, with the gridflow nodes (linked into the userDir
 * as an installed package), every shipped flow, the embedded MQTT broker (a node in
 * the flows) and, when INFLUX_URL is unset and influxd is installed, a private InfluxDB.
 */
import { createServer } from 'node:http';
import { mkdirSync, symlinkSync, existsSync, rmSync, lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express from 'express';
import { appSettings, FLOW_ENV_DEFAULTS } from '../settings';
import { seedFlowFile } from './shipped-flows';
import { influxdInstalled, startPrivateInfluxd, type PrivateInfluxd } from './private-influxd';
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

async function startDatabase(userDir: string): Promise<PrivateInfluxd | undefined> {
  if (process.env.INFLUX_URL) return undefined;
  if (!influxdInstalled()) {
    console.warn(
      'gridflow: INFLUX_URL is unset and influxd is not installed: writes wait in the disk buffer.',
    );
    console.warn('gridflow: install InfluxDB 1.x (`sudo apt-get install -y influxdb`) or set INFLUX_URL.');
    process.env.INFLUX_URL = '';
    return undefined;
  }
  const influx = await startPrivateInfluxd(join(userDir, 'influxdb'), {
    database: process.env.INFLUX_DB || 'gridflow',
  });
  process.env.INFLUX_URL = influx.url;
  console.log(`gridflow: private InfluxDB at ${influx.url} (data in ${influx.dir})`);
  return influx;
}

async function main(): Promise<void> {
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
  const influx = await startDatabase(settings.userDir);

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  const app = express();
  const server = createServer(app);
  RED.init(server, settings.nodeRed);
  app.use('/', RED.httpAdmin);
  const apiAuth = settings.nodeRed.httpNodeAuth as { user: string; pass: string } | undefined;
  if (apiAuth) app.use('/', basicAuth(apiAuth));
  app.use('/', RED.httpNode);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolveListen());
  });
  await RED.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  console.log(
    `gridflow ready: editor http://${settings.host}:${port}/ · MQTT ${settings.mqttBind}:${settings.mqttPort} · userDir ${settings.userDir}`,
  );

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
      await influx?.stop();
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
