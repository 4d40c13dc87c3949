/**
 * docker-compose.yml and the Dockerfile, checked without Docker: the compose file is valid
 * against the Compose Specification JSON schema, and the app service only sets variables
 * and publishes ports that the app really reads and listens on; InfluxDB and Grafana are
 * wired to the same database and the provisioning in grafana/.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { FLOW_ENV_DEFAULTS } from '../../settings';

const repoRoot = resolve(__dirname, '..', '..', '..');
const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

type Healthcheck = { test: string | string[]; interval?: string };
interface Service {
  image?: string;
  build?: string | { context: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type: string; source: string; target: string })[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }> | string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/**
 * The Compose Specification schema as the `dclint` package ships it (a current copy of
 * compose-spec/compose-spec's schema/compose-spec.json). `dclint` is a dev dependency.
 */
function loadComposeSchema(): Record<string, unknown> {
  let pkg: string;
  try {
    pkg = require.resolve('dclint/package.json');
  } catch {
    throw new Error(
      'the Compose Specification schema comes from dclint: run `npm install --save-dev dclint`',
    );
  }
  const schema = JSON.parse(
    readFileSync(join(dirname(pkg), 'schemas', 'compose.schema.json'), 'utf8'),
  ) as Record<string, unknown>;
  delete schema.$schema; // draft-07 under its https:// name, which ajv knows as http://
  return schema;
}

function composeValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });
  return ajv.compile(loadComposeSchema());
}

/** What compose does before validating: `${VAR}`, `${VAR:-default}`, `${VAR:?error}`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op, arg) => {
    const value = env[name];
    if (op?.endsWith('?') && !value) throw new Error(`compose would stop: ${name}: ${arg}`);
    return value || (op?.endsWith('-') ? arg : '');
  });
}

function interpolatedNames(text: string): string[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(
      env.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)] as [string, string]),
    );
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function containerPorts(service: Service): number[] {
  return (service.ports ?? []).map((p) =>
    typeof p === 'object' ? p.target : Number(String(p).split(':').pop()),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every environment variable the app reads: settings, app, nodes, and the flows' `${VAR}`. */
function variablesTheAppReads(): Set<string> {
  const names = new Set(Object.keys(FLOW_ENV_DEFAULTS));
  const code = [
    join(repoRoot, 'settings.ts'),
    ...sourceFiles(join(repoRoot, 'app')),
    ...sourceFiles(join(repoRoot, 'nodes')),
  ];
  for (const file of code) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]);
    for (const m of text.matchAll(/\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) names.add(m[1]);
    // settings.ts reads ports through a helper: port(env, 'PORT', 1880)
    for (const m of text.matchAll(/\(\s*env\s*,\s*'([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]);
  }
  for (const file of readdirSync(join(repoRoot, 'flows')).filter((f) => f.endsWith('.json')))
    for (const name of interpolatedNames(readFileSync(join(repoRoot, 'flows', file), 'utf8')))
      names.add(name);
  return names;
}

/** The variables in the README's settings table (first column). */
function documentedVariables(): Set<string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = /^## Settings[^\n]*\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  const names = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `')))
    for (const m of row.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]);
  return names;
}

describe('docker-compose.yml and Dockerfile', () => {
  const compose = parseYaml(composeText) as ComposeFile;
  const app = compose.services.app;
  const appEnv = environmentOf(app);

  it('is valid against the Compose Specification schema once its variables are set', () => {
    const validate = composeValidator();
    const interpolated = parseYaml(
      interpolate(composeText, {
        NODE_RED_ADMIN_PASSWORD_HASH: '$2b$08$abcdefghijklmnopqrstuv',
        GRAFANA_ADMIN_PASSWORD: 'pw',
      }),
    ) as unknown;
    assert.equal(validate(interpolated), true, JSON.stringify(validate.errors, null, 2));
  });

  it('the schema check catches a broken compose file', () => {
    const validate = composeValidator();
    const broken = parseYaml(
      interpolate(composeText, { NODE_RED_ADMIN_PASSWORD_HASH: 'x', GRAFANA_ADMIN_PASSWORD: 'pw' }),
    ) as ComposeFile;
    (broken.services.app as Record<string, unknown>).healthcheck = { test: ['CMD', 'true'], intervall: '5s' };
    assert.equal(validate(broken), false);
    const portsAsString = parseYaml(
      interpolate(composeText, { NODE_RED_ADMIN_PASSWORD_HASH: 'x', GRAFANA_ADMIN_PASSWORD: 'pw' }),
    ) as ComposeFile;
    (portsAsString.services.grafana as Record<string, unknown>).ports = '3000:3000';
    assert.equal(validate(portsAsString), false);
  });

  it('stops with a clear message when the admin password hash is not set', () => {
    assert.throws(() => interpolate(composeText, {}), /NODE_RED_ADMIN_PASSWORD_HASH: set .*bcrypt/);
  });

  it('Grafana: stops without an admin password, no default admin login, no anonymous viewers by default', () => {
    assert.throws(
      () => interpolate(composeText, { NODE_RED_ADMIN_PASSWORD_HASH: 'x' }),
      /GRAFANA_ADMIN_PASSWORD: set /,
    );
    const grafanaEnv = (vars: Record<string, string>) =>
      environmentOf(
        (parseYaml(interpolate(composeText, { NODE_RED_ADMIN_PASSWORD_HASH: 'x', ...vars })) as ComposeFile)
          .services.grafana,
      );
    const env = grafanaEnv({ GRAFANA_ADMIN_PASSWORD: 'a-real-password' });
    assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, 'a-real-password');
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    assert.ok(!('GF_AUTH_DISABLE_LOGIN_FORM' in env) && !('GF_AUTH_BASIC_ENABLED' in env));
    assert.equal(
      grafanaEnv({ GRAFANA_ADMIN_PASSWORD: 'pw', GRAFANA_ANONYMOUS_VIEWERS: 'true' })
        .GF_AUTH_ANONYMOUS_ENABLED,
      'true',
    );
  });

  it('gives the app only variables the app reads and the README documents', () => {
    const read = variablesTheAppReads();
    const documented = documentedVariables();
    const appSection = /^ {2}app:\n([\s\S]*?)(?=^ {2}\S|^\S)/m.exec(composeText)?.[1] ?? '';
    const dockerfileEnv = [...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Z][A-Z0-9_]+)=\S+\s*\\?$/gm)].map(
      (m) => m[1],
    );
    const names = new Set([...Object.keys(appEnv), ...interpolatedNames(appSection), ...dockerfileEnv]);
    names.delete('NODE_ENV'); // Node's own convention, read by express and Node-RED
    assert.ok(names.size > 5, `found only ${[...names]}`);
    for (const name of names) {
      assert.ok(
        read.has(name),
        `${name} is set for the app but nothing in settings.ts, app/, nodes/ or flows/ reads it`,
      );
      assert.ok(
        documented.has(name),
        `${name} is set for the app but missing from the README settings table`,
      );
    }
    assert.equal(appEnv.HOST, '0.0.0.0', 'inside a container the editor must listen on all interfaces');
    assert.equal(appEnv.MQTT_BIND, '0.0.0.0', 'the published broker port needs the broker on all interfaces');
    assert.match(composeText, /NODE_RED_ADMIN_PASSWORD_HASH: \$\{NODE_RED_ADMIN_PASSWORD_HASH:\?/);
  });

  it('publishes exactly the ports the app listens on (PORT, MQTT_PORT), Grafana on 3000', () => {
    const listening = [Number(appEnv.PORT ?? 1880), Number(appEnv.MQTT_PORT ?? FLOW_ENV_DEFAULTS.MQTT_PORT)];
    assert.deepEqual(containerPorts(app).sort(), listening.sort());
    const exposed = /^EXPOSE\s+(.+)$/m.exec(dockerfile)?.[1].split(/\s+/).map(Number) ?? [];
    assert.deepEqual(exposed.sort(), listening.sort(), 'Dockerfile EXPOSE');
    assert.match(JSON.stringify(app.healthcheck?.test), new RegExp(`127\\.0\\.0\\.1:${appEnv.PORT}/`));
    assert.deepEqual(containerPorts(compose.services.grafana), [3000]);
    const published = Object.values(compose.services).flatMap((s) =>
      (s.ports ?? []).map((p) => String(p).split(':')[0]),
    );
    assert.deepEqual(published.sort(), ['1880', '1883', '3000']);
  });

  it('points the app and Grafana at the InfluxDB service and its database', () => {
    const influx = compose.services.influxdb;
    assert.match(
      influx.image ?? '',
      /^influxdb:1\.\d+/,
      'an InfluxDB 1.x image: the app defaults to the v1 API',
    );
    const influxEnv = environmentOf(influx);
    assert.equal(appEnv.INFLUX_URL, 'http://influxdb:8086');
    assert.equal(appEnv.INFLUX_API ?? FLOW_ENV_DEFAULTS.INFLUX_API, 'v1');
    assert.equal(influxEnv.INFLUXDB_DB, appEnv.INFLUX_DB ?? FLOW_ENV_DEFAULTS.INFLUX_DB);
    assert.deepEqual(app.depends_on, { influxdb: { condition: 'service_healthy' } });

    const grafana = compose.services.grafana;
    assert.match(grafana.image ?? '', /^grafana\/grafana(-oss)?:\d/);
    const grafanaEnv = environmentOf(grafana);
    const mounts = new Map(
      (grafana.volumes ?? [])
        .map((v) => String(v).split(':'))
        .map(([src, dst]) => [dst, src] as [string, string]),
    );
    const provisioning = mounts.get('/etc/grafana/provisioning');
    assert.ok(provisioning && existsSync(join(repoRoot, provisioning)), 'grafana/provisioning is mounted');
    const datasource = readFileSync(join(repoRoot, provisioning, 'datasources', 'influxdb.yml'), 'utf8');
    for (const name of interpolatedNames(datasource))
      assert.ok(
        grafanaEnv[name],
        `grafana/provisioning uses \${${name}} but the grafana service does not set it`,
      );
    assert.equal(interpolate(datasource, grafanaEnv).match(/url: (\S+)/)?.[1], appEnv.INFLUX_URL);
    assert.match(interpolate(datasource, grafanaEnv), new RegExp(`dbName: ${influxEnv.INFLUXDB_DB}\\b`));
    const provider = parseYaml(
      readFileSync(join(repoRoot, provisioning, 'dashboards', 'dashboards.yml'), 'utf8'),
    ) as {
      providers: { options: { path: string } }[];
    };
    const dashboardsSource = mounts.get(provider.providers[0].options.path);
    assert.ok(
      dashboardsSource,
      `nothing is mounted at the dashboards path ${provider.providers[0].options.path}`,
    );
    assert.ok(readdirSync(join(repoRoot, dashboardsSource)).some((f) => f.endsWith('.json')));
    const home = grafanaEnv.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) assert.ok(existsSync(join(repoRoot, dashboardsSource, home.split('/').pop()!)), `home ${home}`);
  });

  it('gives every service a health check and keeps its data in declared named volumes', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(service.healthcheck?.test, `${name} has no health check`);
      const named = (service.volumes ?? [])
        .map((v) => String(v).split(':')[0])
        .filter((src) => !src.startsWith('.'));
      assert.ok(named.length > 0, `${name} keeps no data in a volume`);
      for (const volume of named)
        assert.ok(volume in (compose.volumes ?? {}), `${name}: volume ${volume} not declared`);
    }
    const userDirVolume = (app.volumes ?? [])
      .map(String)
      .find((v) => v.endsWith(`:${appEnv.GRIDFLOW_USER_DIR}`));
    assert.ok(userDirVolume, 'the userDir (flows, credentials, context, disk buffers) is a volume');
  });

  it('builds the app on the official Node image and starts it without building', () => {
    assert.equal(typeof app.build === 'string' ? app.build : app.build?.context, '.');
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length > 0);
    for (const image of froms) assert.match(image, /^node:2[2-9]/, 'official Node 22+ image');
    const cmd = /^CMD\s+(.+)$/m.exec(dockerfile)?.[1] ?? '';
    const argv = JSON.parse(cmd) as string[];
    assert.equal(argv[0], 'node');
    assert.ok(existsSync(join(repoRoot, argv[1])), `${argv[1]} is what npm run build produces`);
    assert.equal(
      argv[1],
      /node (\S+)/.exec(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts.start)?.[1],
    );
    assert.match(dockerfile, /RUN npm run build/);
    for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm))
      for (const src of m[1].split(/\s+/))
        assert.ok(existsSync(join(repoRoot, src)), `Dockerfile copies missing ${src}`);
  });
});
