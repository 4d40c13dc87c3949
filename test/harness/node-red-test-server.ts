/**
 * Mocha hooks shared by node tests: a node-red-node-test-helper server per test in its own
 * temporary userDir (removed after), and one real influxd per describe block.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { startTestInfluxd, type TestInfluxd } from './influxd';

/**
 * Starts the test helper's Node-RED before each test and stops, unloads and cleans up after
 * it; returns the getter of the current test's userDir.
 */
export function useNodeRedTestServer(userDirPrefix: string): () => string {
  let userDir = '';
  beforeEach((done) => {
    userDir = mkdtempSync(join(tmpdir(), userDirPrefix));
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    rmSync(userDir, { recursive: true, force: true });
  });
  return () => userDir;
}

/** A real influxd for the enclosing describe block, returned by the getter once `before` has run. */
export function useTestInfluxd(database = 'gridflow'): () => TestInfluxd {
  let influxd: TestInfluxd | undefined;
  before(async () => {
    influxd = await startTestInfluxd(database);
  });
  after(async () => {
    await influxd?.dispose();
  });
  return () => {
    if (!influxd) throw new Error('the test influxd is not started: use it inside a test or hook');
    return influxd;
  };
}
