/**
 * Node-RED settings for the gridflow app, from environment variables (see README,
 * "Settings"). `appSettings()` also returns the values the app itself needs.
 */
import { resolve } from 'node:path';
import { isLoopbackAddress } from './nodes/core/mqtt-access';

export interface AppSettings {
  host: string;
  port: number;
  userDir: string;
  dataDir: string;
  mqttPort: number;
  mqttBind: string;
  influxUrl: string | undefined;
  nodeRed: Record<string, unknown>;
}

/** Defaults for the variables that the shipped flows read through `${VAR}`. */
export const FLOW_ENV_DEFAULTS: Record<string, string> = {
  MQTT_PORT: '1883',
  MQTT_BIND: '127.0.0.1',
  INFLUX_API: 'v1',
  INFLUX_DB: 'gridflow',
  INFLUX_ORG: '',
  ENERGIDATASERVICE_URL: 'https://api.energidataservice.dk',
  CARBON_INTENSITY_URL: 'https://api.carbonintensity.org.uk',
  OPENWEATHER_URL: 'https://api.openweathermap.org',
  OPENWEATHER_API_KEY: '',
};

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name}="${raw}" is not a TCP port (0-65535)`);
  return n;
}

/** 127.0.0.0/8, ::1, localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host.replace(/^\[|\]$/g, ''));
}

/**
 * Security defaults (README "Security"): an editor reachable from other machines must ask
 * for a login, whatever started the app (Dockerfile sets HOST=0.0.0.0). Throws what to set.
 */
function refuseOpenEditor(host: string, adminHash: string | undefined): void {
  if (adminHash || isLoopbackHost(host)) return;
  throw new Error(
    `HOST=${host} would open the flow editor to the network without a password: set ` +
      'NODE_RED_ADMIN_PASSWORD_HASH (a bcrypt hash, `npx node-red admin hash-pw`), or HOST=127.0.0.1',
  );
}

/** Basic auth on the flows' HTTP endpoints (/api/...), when both variables are set. */
function httpNodeAuth(env: NodeJS.ProcessEnv): { user: string; pass: string } | undefined {
  const user = env.GRIDFLOW_API_USER;
  const pass = env.GRIDFLOW_API_PASSWORD_HASH;
  if (!user && !pass) return undefined;
  if (!user || !pass)
    throw new Error(
      'set both GRIDFLOW_API_USER and GRIDFLOW_API_PASSWORD_HASH (bcrypt) for the HTTP API login',
    );
  return { user, pass };
}

export function appSettings(
  env: NodeJS.ProcessEnv = process.env,
  repoRoot = resolve(__dirname, '..'),
): AppSettings {
  const userDir = resolve(env.GRIDFLOW_USER_DIR || '.gridflow');
  const adminHash = env.NODE_RED_ADMIN_PASSWORD_HASH;
  const host = env.HOST || '127.0.0.1';
  refuseOpenEditor(host, adminHash);
  const nodeRed: Record<string, unknown> = {
    userDir,
    flowFile: 'flows.json',
    flowFilePretty: true,
    credentialSecret: env.NODE_RED_CREDENTIAL_SECRET || undefined,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    uiHost: host,
    uiPort: port(env, 'PORT', 1880),
    contextStorage: {
      default: { module: 'localfilesystem', config: { flushInterval: 5 } },
      memory: { module: 'memory' },
    },
    functionExternalModules: false,
    // The flows' mqtt out nodes reconnect quickly if they start before the embedded broker.
    mqttReconnectTime: 1000,
    diagnostics: { enabled: false },
    // No phoning home (the app often runs offline) and no first-run opt-in dialog.
    telemetry: { enabled: false, updateNotification: false },
    runtimeState: { enabled: false },
    logging: { console: { level: env.GRIDFLOW_LOG_LEVEL || 'info', metrics: false, audit: false } },
    editorTheme: {
      projects: { enabled: false },
      tours: false,
      page: { title: 'gridflow' },
      header: { title: 'gridflow' },
      palette: { categories: ['gridflow', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] },
    },
  };
  const apiAuth = httpNodeAuth(env);
  if (apiAuth) nodeRed.httpNodeAuth = apiAuth;
  if (adminHash) {
    nodeRed.adminAuth = {
      type: 'credentials',
      users: [{ username: env.NODE_RED_ADMIN_USER || 'admin', password: adminHash, permissions: '*' }],
    };
  }
  return {
    host,
    port: port(env, 'PORT', 1880),
    userDir,
    dataDir: resolve(env.GRIDFLOW_DATA_DIR || resolve(repoRoot, 'data')),
    mqttPort: port(env, 'MQTT_PORT', 1883),
    mqttBind: env.MQTT_BIND || '127.0.0.1',
    influxUrl: env.INFLUX_URL || undefined,
    nodeRed,
  };
}
