/**
 * `npm run bench [name ...]`: runs every dist/bench/*.bench.js, or those named, one
 * after another, each printing its own table. Each bench gets a process of its own:
 * an embedded Node-RED runtime cannot be started twice in one process.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

interface BenchModule {
  run(): Promise<void>;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
    .sort();
  if (files.length === 0) throw new Error(`no benchmark matches ${wanted.join(', ')}`);
  if (files.length > 1) {
    let failed = 0;
    for (const file of files) {
      const child = spawnSync(process.execPath, [__filename, file], { stdio: 'inherit' });
      if (child.status !== 0) failed++;
    }
    if (failed > 0) throw new Error(`${failed} benchmark(s) failed`);
    return;
  }
  const file = files[0];
  console.log(`\n=== ${file.replace(/\.bench\.js$/, '')} (${new Date().toISOString()})`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bench = require(join(__dirname, file)) as BenchModule;
  await bench.run();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
