import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { freePort } from '../../app/free-port';
import { eventually } from '../harness/eventually';

// bcrypt of "gridflow-test-pw" (cost 8), as `node-red admin hash-pw` prints it.
const PASSWORD = 'gridflow-test-pw';
const PASSWORD_HASH = '$2b$08$ywPg1YmpqvgtSaVHUzO81.kHamh9L59MrRfUi3rllgI4pcHomOQ4K';
const BROKER_SECRET = 'broker-pw-must-not-leak-7f3a';

async function token(app: RunningApp): Promise<string> {
  const res = await fetch(`${app.url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-admin',
      grant_type: 'password',
      scope: '*',
      username: 'admin',
      password: PASSWORD,
    }),
  });
  assert.equal(res.status, 200, 'login with the right password works');
  return ((await res.json()) as { access_token: string }).access_token;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.parentPath.includes('node_modules') && !e.parentPath.includes('influxdb'))
    .map((e) => join(e.parentPath, e.name));
}

describe('access: editor login, encrypted credentials, broker passwords', function () {
  this.timeout(90_000);
  let app: RunningApp;
  let influx: TestInfluxd;
  before(async () => {
    influx = await startTestInfluxd();
    app = await startApp({
      env: {
        INFLUX_URL: influx.url,
        NODE_RED_ADMIN_PASSWORD_HASH: PASSWORD_HASH,
        NODE_RED_CREDENTIAL_SECRET: 'test-secret-1234',
        GRIDFLOW_API_USER: 'reader',
        GRIDFLOW_API_PASSWORD_HASH: PASSWORD_HASH,
      },
    });
  });

  it('asks for basic auth on the HTTP API when GRIDFLOW_API_USER and its hash are set', async () => {
    const url = `${app.url}/api/series/gridflow-test?start=2021-05-01T00:00:00Z&end=2021-05-01T01:00:00Z&resolution=15m`;
    const basic = (user: string, password: string) => ({
      Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64'),
    });
    const open = await fetch(url);
    assert.equal(open.status, 401);
    assert.match(open.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.equal((await fetch(url, { headers: basic('reader', 'wrong') })).status, 401);
    // through to the flow: its JSON answer (404 "no points" for this unknown series)
    const answer = await eventually('the series endpoint deployed', 30_000, async () => {
      const res = await fetch(url, { headers: basic('reader', PASSWORD) });
      return res.headers.get('content-type')?.includes('json') ? res : undefined;
    });
    assert.ok([200, 404].includes(answer.status), `${answer.status} ${await answer.text()}`);
    assert.equal((await fetch(url, { headers: basic('admin', PASSWORD) })).status, 401);
  });
  after(async () => {
    await app?.dispose();
    await influx?.dispose();
  });

  it('refuses the admin API without a login and with a wrong password', async () => {
    assert.equal((await fetch(`${app.url}/flows`)).status, 401);
    assert.equal((await fetch(`${app.url}/nodes`, { headers: { Accept: 'application/json' } })).status, 401);
    const wrong = await fetch(`${app.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username: 'admin',
        password: 'nope',
      }),
    });
    assert.equal(wrong.status, 403);
  });

  it('keeps a broker password encrypted on disk, out of the log and the status, and enforces it', async () => {
    const auth = { Authorization: `Bearer ${await token(app)}` };
    const port = await freePort();
    const flows = [
      { id: 'acc.tab', type: 'tab', label: 'access' },
      {
        id: 'acc.broker',
        type: 'aedes-broker',
        z: 'acc.tab',
        port: String(port),
        bind: '127.0.0.1',
        anonymous: 'never',
        accessRules: '',
        credentials: { username: 'grid', password: BROKER_SECRET },
      },
    ];
    const res = await fetch(`${app.url}/flows`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.equal(res.status, 204, await res.text());
    await app.waitForLog(new RegExp(`MQTT broker listening on 127.0.0.1:${port}`));

    await assert.rejects(
      mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        reconnectPeriod: 0,
        username: 'grid',
        password: 'wrong',
      }),
    );
    await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 }));
    const ok = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      username: 'grid',
      password: BROKER_SECRET,
    });
    await ok.endAsync();

    const leaks = filesUnder(app.userDir).filter((f) => readFileSync(f).includes(BROKER_SECRET));
    assert.deepEqual(leaks, [], 'the password appears in plain text on disk');
    const creds = JSON.parse(readFileSync(join(app.userDir, 'flows_cred.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(creds), ['$'], 'credentials file is encrypted');
    assert.ok(!app.logs().includes(BROKER_SECRET), 'the password appears in the log');
    const flowsBack = await (await fetch(`${app.url}/flows`, { headers: auth })).text();
    assert.ok(!flowsBack.includes(BROKER_SECRET), 'the admin API returns the password');
  });
});

describe('access: the app refuses an open editor on the network', function () {
  this.timeout(60_000);
  const START = resolve(__dirname, '..', '..', 'app', 'start.js');
  let userDir: string;
  before(() => (userDir = mkdtempSync(join(tmpdir(), 'gridflow-open-'))));
  after(() => rmSync(userDir, { recursive: true, force: true }));

  /** Runs the app as `npm start` does; resolves with its exit code and output. */
  function run(env: Record<string, string>) {
    return new Promise<{ code: number | null; output: string }>((done) => {
      const child = spawn(process.execPath, [START], {
        env: { ...process.env, GRIDFLOW_USER_DIR: userDir, INFLUX_URL: 'http://127.0.0.1:9', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      child.stderr.on('data', (d: Buffer) => (output += d));
      child.once('exit', (code) => done({ code, output }));
    });
  }

  for (const host of ['0.0.0.0', '::']) {
    it(`exits with an error, before listening, on HOST=${host} without NODE_RED_ADMIN_PASSWORD_HASH`, async () => {
      const port = await freePort();
      const { code, output } = await run({
        HOST: host,
        PORT: String(port),
        NODE_RED_ADMIN_PASSWORD_HASH: '',
      });
      assert.notEqual(code, 0);
      assert.match(
        output,
        new RegExp(
          `HOST=${host.replace(/[.]/g, '\\.')} would open the flow editor to the network without a password: set NODE_RED_ADMIN_PASSWORD_HASH`,
        ),
      );
      assert.doesNotMatch(output, /gridflow ready/);
    });
  }

  it('exits with an error when only one of GRIDFLOW_API_USER / GRIDFLOW_API_PASSWORD_HASH is set', async () => {
    const { code, output } = await run({
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      GRIDFLOW_API_USER: 'reader',
    });
    assert.notEqual(code, 0);
    assert.match(output, /set both GRIDFLOW_API_USER and GRIDFLOW_API_PASSWORD_HASH/);
  });
});
