/**
 * A real VictoriaMetrics (Debian's `victoria-metrics`) for the v2 write path: it accepts
 * InfluxDB line protocol at `/api/v2/write`. Free port, temp dir; fails loudly when missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../app/free-port';

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export interface TestVictoriaMetrics {
  url: string;
  /** Flushes pending data, then every series whose name matches the regex, via /api/v1/export. */
  exportSeries(nameRegex: string): Promise<ExportedSeries[]>;
  dispose(): Promise<void>;
}

export async function startTestVictoriaMetrics(): Promise<TestVictoriaMetrics> {
  if (spawnSync('victoria-metrics', ['-version'], { stdio: 'ignore' }).error)
    throw new Error('victoria-metrics is not installed: run `apt-get install -y victoria-metrics`');
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = openSync(join(dir, 'vm.log'), 'a');
  const child: ChildProcess = spawn(
    'victoria-metrics',
    [
      '-retentionPeriod=100y',
      `-storageDataPath=${join(dir, 'data')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-loggerLevel=ERROR',
    ],
    { stdio: ['ignore', log, log] },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`victoria-metrics exited with ${child.exitCode}; see ${dir}/vm.log`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('victoria-metrics did not start within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async exportSeries(nameRegex) {
      await fetch(`${url}/internal/force_flush`);
      const q = new URLSearchParams({ 'match[]': `{__name__=~"${nameRegex}"}` });
      const text = await (await fetch(`${url}/api/v1/export?${q}`)).text();
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ExportedSeries);
    },
    async dispose() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
