/**
 * The app as a user starts it (`node dist/app/start.js`, what `npm start` runs after
 * building), as a child process on free ports with a temp userDir. `startApp` and `restart`
 * resolve once the app is ready: its flows started, their HTTP routes and broker answer.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../app/free-port';
import { READY_PATH } from '../../app/readiness';

const START_SCRIPT = resolve(__dirname, '..', '..', 'app', 'start.js');

export interface RunningApp {
  url: string;
  port: number;
  mqttPort: number;
  userDir: string;
  /** Everything the app printed so far. */
  logs(): string;
  /** Resolves when the output matches (or rejects after timeoutMs with the output). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGINT, as Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again with the same env, ports and userDir. */
  restart(): Promise<void>;
  /** Stops it and removes the userDir if the harness made it. */
  dispose(): Promise<void>;
}

export interface StartAppOptions {
  env?: Record<string, string>;
  userDir?: string;
  readyTimeoutMs?: number;
}

export async function startApp(options: StartAppOptions = {}): Promise<RunningApp> {
  const ownDir = !options.userDir;
  const userDir = options.userDir ?? mkdtempSync(join(tmpdir(), 'gridflow-app-'));
  const port = Number(options.env?.PORT) || (await freePort());
  const mqttPort = Number(options.env?.MQTT_PORT) || (await freePort());
  const env = {
    ...process.env,
    GRIDFLOW_USER_DIR: userDir,
    HOST: '127.0.0.1',
    GRIDFLOW_LOG_LEVEL: 'info',
    ...options.env,
    PORT: String(port),
    MQTT_PORT: String(mqttPort),
  };
  let child: ChildProcess | undefined;
  let output = '';
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  const waitForLog = (pattern: RegExp, timeoutMs = 30_000, since = 0) =>
    new Promise<void>((resolveWait, reject) => {
      const deadline = Date.now() + timeoutMs;
      const poll = () => {
        if (pattern.test(output.slice(since))) return resolveWait();
        if (
          Date.now() > deadline ||
          (child && child.exitCode !== null && !pattern.test(output.slice(since)))
        ) {
          return reject(
            new Error(`app output did not match ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`),
          );
        }
        setTimeout(poll, 50);
      };
      poll();
    });

  const launch = async () => {
    const from = output.length;
    child = spawn(process.execPath, [START_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    // Printed only after flows:started, every http-in route registered and the broker answering.
    await waitForLog(/gridflow ready/, readyTimeoutMs, from);
    const ready = await fetch(`http://127.0.0.1:${port}${READY_PATH}`);
    if (ready.status !== 200)
      throw new Error(`${READY_PATH} answered ${ready.status} after "gridflow ready": ${await ready.text()}`);
  };
  const exited = (signal: NodeJS.Signals) =>
    new Promise<number | null>((resolveExit) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolveExit(c?.exitCode ?? null);
      c.once('exit', (code) => resolveExit(code));
      c.kill(signal);
    });

  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    mqttPort,
    userDir,
    logs: () => output,
    waitForLog: (pattern, timeoutMs) => waitForLog(pattern, timeoutMs),
    stop: () => exited('SIGINT'),
    kill: async () => {
      await exited('SIGKILL');
    },
    restart: launch,
    dispose: async () => {
      await exited('SIGINT');
      if (ownDir) rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** POSTs `body` as JSON to the app's `path` (an http-in route of a test flow); asserts 200 and returns the answer's text. */
export async function postJson(app: RunningApp, path: string, body: unknown): Promise<string> {
  const res = await fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `POST ${path}: ${res.status} ${text}`);
  return text;
}
