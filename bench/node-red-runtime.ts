/**
 * An embedded Node-RED runtime for throughput benchmarks, as described in
 * /work/shared/design/performance.md: `RED.init` with a temporary userDir, no editor and
 * no HTTP; a `bench-source` node whose `receive()` is called in a loop (1,000 msgs per
 * event-loop turn by default) and a `bench-sink` node that counts; a run ends when the
 * marker msg (the last one, flagged `__benchLast`) reaches the sink.
 *
 * Usage (one runtime per process; reuse it for every case):
 *
 *   const rt = await startBenchRuntime({ nodeFiles: [require.resolve('../nodes/moving-window/moving-window')] });
 *   const m = await rt.measure([{ type: 'smooth', action: 'mean', count: 300, mult: 'single' }], {
 *     count: 200_000,
 *     makeMsg: (i) => ({ topic: 'k', payload: i % 100 }),
 *   });
 *   console.log(m.msgsPerSecond);
 *   await rt.stop();
 *
 * `chain` lists the nodes between source and sink (their config without id/z/wires; the
 * first output of each is wired to the next). Core nodes (`change`, `rbe`, ...) are always
 * there, and so are node packages installed in the project's node_modules (Node-RED scans
 * it: node-red-node-smooth, node-red-contrib-influxdb); other node types come from
 * `nodeFiles` (a node's .js file with its .html beside it, e.g. a compiled gridflow node).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface ChainNode {
  type: string;
  [setting: string]: unknown;
}

export interface MeasureOptions {
  /** Msgs timed. */
  count: number;
  /** The i-th msg (a fresh object each call). */
  makeMsg: (i: number) => Record<string, unknown>;
  /** The marker msg sent last; it must get through the chain (e.g. a big change for a filter). Default makeMsg(count). */
  lastMsg?: Record<string, unknown>;
  /** Msgs sent (and waited for) before timing starts, e.g. to fill a window. */
  warmup?: number;
  /** Msgs per event-loop turn. */
  batch?: number;
  /** Gives up after this long. */
  timeoutMs?: number;
}

export interface Measurement {
  msgs: number;
  seconds: number;
  msgsPerSecond: number;
  /** Msgs per second of this process's CPU time (user + system): steadier than wall time on a shared machine. */
  msgsPerCpuSecond: number;
  /** Msgs that reached the sink (including the marker). */
  received: number;
}

export interface BenchRuntime {
  measure(chain: ChainNode[], options: MeasureOptions): Promise<Measurement>;
  stop(): Promise<void>;
}

interface BenchNode {
  receive(msg: Record<string, unknown>): void;
}

interface Shared {
  nodes: Map<string, BenchNode>;
  received: number;
  onLast: (() => void) | undefined;
}

const SHARED_KEY = '__gridflowBench';

const BENCH_NODES_JS = `
module.exports = function (RED) {
  const shared = globalThis[${JSON.stringify(SHARED_KEY)}];
  function BenchSource(config) {
    RED.nodes.createNode(this, config);
    shared.nodes.set(config.id, this);
    this.on('input', (msg, send, done) => { send(msg); done(); });
    this.on('close', () => shared.nodes.delete(config.id));
  }
  RED.nodes.registerType('bench-source', BenchSource);
  function BenchSink(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      shared.received++;
      if (msg.__benchLast === true && shared.onLast) shared.onLast();
      done();
    });
  }
  RED.nodes.registerType('bench-sink', BenchSink);
  // The least a window node does per msg: read the clock, put a {start, end, count, mean}
  // object in msg.payload, send, done. No key, no window: the floor for moving-window.
  function BenchPayloadFloor(config) {
    RED.nodes.createNode(this, config);
    const start = new Date().toISOString();
    let count = 0;
    this.on('input', (msg, send, done) => {
      const out = {};
      out.start = start;
      out.end = Date.now() > 0 ? start : '';
      out.count = ++count;
      out.mean = msg.payload;
      msg.payload = out;
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-payload-floor', BenchPayloadFloor);
};
`;
const BENCH_NODES_HTML = `<script type="text/javascript">
RED.nodes.registerType('bench-source', { category: 'bench', defaults: {}, inputs: 1, outputs: 1 });
RED.nodes.registerType('bench-sink', { category: 'bench', defaults: {}, inputs: 1, outputs: 0 });
RED.nodes.registerType('bench-payload-floor', { category: 'bench', defaults: {}, inputs: 1, outputs: 1 });
</script>`;

/**
 * A node file of another build (`original`: its path without .js/.html, e.g. a copy of an
 * earlier dist/) registered as `asType` instead of `type`, so it runs beside the current
 * build in the same runtime: the .js and .html wrappers to pass in `nodeFiles`.
 */
export function nodeFileAs(original: string, type: string, asType: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-bench-as-'));
  writeFileSync(
    join(dir, `${asType}.js`),
    `const register = require(${JSON.stringify(original)});
module.exports = (RED) => register({ ...RED, nodes: { ...RED.nodes,
  registerType: (type, ...rest) => RED.nodes.registerType(type === ${JSON.stringify(type)} ? ${JSON.stringify(asType)} : type, ...rest) } });
`,
  );
  const html = readFileSync(`${original}.html`, 'utf8').split(`'${type}'`).join(`'${asType}'`);
  writeFileSync(join(dir, `${asType}.html`), html.split(`"${type}"`).join(`"${asType}"`));
  return join(dir, `${asType}.js`);
}

let running = false;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function startBenchRuntime({ nodeFiles = [] as string[] } = {}): Promise<BenchRuntime> {
  if (running) throw new Error('one bench runtime per process: reuse the one started');
  running = true;
  const userDir = mkdtempSync(join(tmpdir(), 'gridflow-bench-'));
  const nodesDir = join(userDir, 'bench-nodes');
  mkdirSync(nodesDir);
  writeFileSync(join(nodesDir, 'bench-nodes.js'), BENCH_NODES_JS);
  writeFileSync(join(nodesDir, 'bench-nodes.html'), BENCH_NODES_HTML);
  for (const file of nodeFiles) {
    const name = basename(file).replace(/\.c?js$/, '');
    const html = file.replace(/\.c?js$/, '.html');
    if (!existsSync(html))
      throw new Error(`${html} is missing: Node-RED loads a node file only with its .html`);
    writeFileSync(join(nodesDir, `${name}.js`), `module.exports = require(${JSON.stringify(file)});\n`);
    copyFileSync(html, join(nodesDir, `${name}.html`));
  }
  const shared: Shared = { nodes: new Map(), received: 0, onLast: undefined };
  (globalThis as Record<string, unknown>)[SHARED_KEY] = shared;

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  RED.init({
    userDir,
    nodesDir: [nodesDir],
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
  });
  await RED.start();
  let deployment = 0;

  async function deploy(chain: ChainNode[]): Promise<BenchNode> {
    const tag = `d${++deployment}`;
    const ids = chain.map((_, i) => `${tag}.n${i}`);
    const flow = [
      { id: `${tag}.tab`, type: 'tab', label: 'bench' },
      { id: `${tag}.source`, z: `${tag}.tab`, type: 'bench-source', wires: [[ids[0] ?? `${tag}.sink`]] },
      ...chain.map((node, i) => ({
        ...node,
        id: ids[i],
        z: `${tag}.tab`,
        wires: [[ids[i + 1] ?? `${tag}.sink`]],
      })),
      { id: `${tag}.sink`, z: `${tag}.tab`, type: 'bench-sink', wires: [] },
    ];
    await RED.runtime.flows.setFlows({ flows: { flows: flow }, deploymentType: 'full' });
    // setFlows resolves before the new flow has started: wait for the source to exist.
    for (let i = 0; i < 5000; i++) {
      const source = shared.nodes.get(`${tag}.source`);
      if (source) return source;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(
      `the bench flow did not start (node types: ${chain.map((n) => n.type).join(', ')}; missing ones are in the log above)`,
    );
  }

  async function pump(
    source: BenchNode,
    from: number,
    to: number,
    options: MeasureOptions,
    last: Record<string, unknown>,
  ) {
    const batch = options.batch ?? 1000;
    const reached = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the marker msg never reached the sink: does it get through the chain?')),
        options.timeoutMs ?? 120_000,
      );
      shared.onLast = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    for (let i = from; i < to;) {
      const end = Math.min(to, i + batch);
      for (; i < end; i++) source.receive(options.makeMsg(i));
      await nextTurn();
    }
    source.receive({ ...last, __benchLast: true });
    await reached;
    shared.onLast = undefined;
  }

  return {
    async measure(chain, options) {
      const source = await deploy(chain);
      const warmup = options.warmup ?? 0;
      const last = options.lastMsg ?? options.makeMsg(warmup + options.count);
      if (warmup > 0) await pump(source, 0, warmup, options, last);
      shared.received = 0;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await pump(source, warmup, warmup + options.count, options, last);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      return {
        msgs: options.count,
        seconds,
        msgsPerSecond: options.count / seconds,
        msgsPerCpuSecond: options.count / ((cpu.user + cpu.system) / 1e6),
        received: shared.received,
      };
    },
    async stop() {
      await RED.runtime.flows.setFlows({ flows: { flows: [] }, deploymentType: 'full' });
      await RED.stop();
      rmSync(userDir, { recursive: true, force: true });
      running = false;
    },
  };
}
