import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { freePort } from '../../app/free-port';

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
      },
    });
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
