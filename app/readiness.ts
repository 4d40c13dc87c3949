/**
 * When the app is ready for callers: Node-RED has emitted `flows:started` for the current
 * deployment, every `http in` node's route is in the HTTP router, and every embedded
 * broker accepts TCP connections. `GET /gridflow/ready` answers 200 then, 503 before
 * (and again while a redeploy restarts the flows).
 */
import { EventEmitter } from 'node:events';
import { createConnection } from 'node:net';

export type FlowConfigNode = { id: string; type: string; z?: string; [key: string]: unknown };

interface RouteLayer {
  route?: { path?: unknown; methods?: Record<string, boolean> };
}

/** The part of an express app we read: its router's layers. */
export interface RouterHost {
  _router?: { stack?: RouteLayer[] };
}

export interface ReadyState {
  ready: boolean;
  /** What the app still waits for, in words. */
  waiting: string[];
}

/** 200 once the flows, their HTTP routes and the broker answer; 503 before. */
export const READY_PATH = '/gridflow/ready';

const BROKER_WAIT_MS = 60_000;

/** `${VAR}` in a flow property, replaced from env as Node-RED does. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv): string {
  return String(value ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? '');
}

export function missingRoutes(flows: FlowConfigNode[], httpNode: RouterHost): string[] {
  const stack = httpNode._router?.stack ?? [];
  return flows
    .filter((n) => n.type === 'http in' && typeof n.url === 'string' && typeof n.method === 'string')
    .map((n) => ({
      method: String(n.method),
      url: String(n.url).startsWith('/') ? String(n.url) : `/${String(n.url)}`,
    }))
    .filter(({ method, url }) => !stack.some((l) => l.route?.path === url && l.route.methods?.[method]))
    .map(({ method, url }) => `${method.toUpperCase()} ${url}`);
}

export function brokerPorts(flows: FlowConfigNode[], env: NodeJS.ProcessEnv): number[] {
  return flows
    .filter((n) => n.type === 'aedes-broker' && !n.d)
    .map((n) => Number(substituteEnv(n.port, env)))
    .filter((p) => Number.isInteger(p) && p > 0);
}

function accepts(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once the port accepts a connection, false after `timeoutMs`; stops early when `stale()`. */
async function waitForPort(
  port: number,
  host: string,
  stale: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!stale() && Date.now() < deadline) {
    if (await accepts(port, host)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export class AppReadiness extends EventEmitter {
  private generation = 0;
  private state: ReadyState = { ready: false, waiting: ['Node-RED to start the flows'] };

  constructor(
    private readonly httpNode: RouterHost,
    private readonly env: NodeJS.ProcessEnv,
    private readonly brokerHost = '127.0.0.1',
  ) {
    super();
  }

  get current(): ReadyState {
    return this.state;
  }

  /** `flows:stopping`: not ready until the next `flows:started`. */
  flowsStopping(): void {
    this.generation++;
    this.state = { ready: false, waiting: ['Node-RED to restart the flows'] };
  }

  /** `flows:started`: checks routes and brokers, then emits `ready` with this deployment's flows. */
  async flowsStarted(flows: FlowConfigNode[]): Promise<void> {
    const generation = ++this.generation;
    const stale = () => generation !== this.generation;
    const routes = missingRoutes(flows, this.httpNode);
    const ports = brokerPorts(flows, this.env);
    this.state = {
      ready: false,
      waiting: [...routes.map((r) => `route ${r}`), ...ports.map((p) => `MQTT broker on port ${p}`)],
    };
    const silent: number[] = [];
    for (const port of ports) {
      if (!(await waitForPort(port, this.brokerHost, stale, BROKER_WAIT_MS))) silent.push(port);
    }
    if (stale()) return;
    const stillMissing = missingRoutes(flows, this.httpNode);
    const problems = [
      ...stillMissing.map((r) => `route ${r} is not registered`),
      ...silent.map((p) => `the MQTT broker on port ${p} does not answer`),
    ];
    this.state = { ready: true, waiting: [] };
    this.emit('ready', { flows, problems });
  }
}
