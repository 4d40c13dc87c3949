import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../app/free-port';

const repoRoot = resolve(__dirname, '..', '..', '..');
const nodeRedMain = require.resolve('node-red/red.js');

describe('the npm package, packed and installed into a plain Node-RED 4.1 userDir', function () {
  this.timeout(180_000);
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'gridflow-pack-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('installs from the tarball and loads every node and example without errors', async () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: repoRoot,
        encoding: 'utf8',
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    assert.ok(files.includes('dist/nodes/aedes-broker/aedes-broker.html'), 'the .html files are packed');
    assert.ok(
      files.some((f) => f.startsWith('examples/')),
      'the examples are packed',
    );
    assert.ok(
      !files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/')),
      'tests stay out of the package',
    );

    const userDir = join(work, 'userdir');
    execFileSync('mkdir', ['-p', userDir]);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)],
      {
        cwd: userDir,
        stdio: 'pipe',
      },
    );

    const port = await freePort();
    const red = spawn(process.execPath, [nodeRedMain, '--userDir', userDir, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    red.stdout.on('data', (d: Buffer) => (log += d.toString()));
    red.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      // "Started flows" may come before "Server now running": wait for the one asserted below.
      for (let i = 0; i < 600 && !/Server now running/.test(log); i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(log, /Server now running/, log);
      const sets = (await (
        await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } })
      ).json()) as {
        id: string;
        module: string;
        err?: string;
      }[];
      const ours = sets.filter((s) => s.module === '@gridflow/node-red-gridflow');
      const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
        'node-red': { nodes: object };
      };
      const declared = Object.keys(pkg['node-red'].nodes);
      assert.equal(ours.length, declared.length);
      for (const set of ours) assert.equal(set.err, undefined, `${set.id}: ${JSON.stringify(set.err)}`);
      assert.doesNotMatch(log, /\[@gridflow\/node-red-gridflow[^\]]*\] Error/);
      const examples = (await (
        await fetch(`http://127.0.0.1:${port}/library/examples/flows/@gridflow/node-red-gridflow`)
      ).json()) as unknown[];
      assert.ok(examples.length > 0, 'Import > Examples lists the shipped flows');
    } finally {
      red.kill('SIGINT');
      await new Promise((r) => red.once('exit', r));
    }
  });
});
