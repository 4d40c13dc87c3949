/**
 * Where the minute tick's burst goes: reads a `.cpuprofile` of the soak app
 * (`SOAK_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"`), finds each minute tick by the
 * sample in moving-window's `closeIdle` that starts a run of them, and sums CPU time per
 * part (moving-window, Node-RED's hops, change, mqtt out / mqtt.js, aedes, GC, idle) over
 * the `BURST_MS` after it, beside the same span one second earlier (steady ingest only).
 *
 * Usage: node dist/bench/soak-profile.js DIR/CPU.*.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  parent?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const BURST_MS = Number(process.env.BURST_MS) || 1000;
const PARTS: [string, RegExp][] = [
  ['moving-window + core windows', /dist\/nodes\/(moving-window|core)\//],
  [
    'aedes broker',
    /node_modules\/(aedes|aedes-packet|aedes-persistence|qlobber|fastfall|fastparallel|fastseries|reusify|mqemitter)/,
  ],
  ['mqtt.js client + packets', /node_modules\/(mqtt|mqtt-packet|bl|readable-stream|number-allocator)\//],
  ['change node', /nodes\/core\/function\/15-change/],
  ['mqtt in/out nodes', /nodes\/core\/network\/10-mqtt/],
  ['Node-RED send / clone / hooks', /node_modules\/(@node-red\/(runtime|util)|lodash\.clonedeep)\//],
  ['node core (net, streams, timers)', /^node:/],
];

function partOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'program';
  for (const [name, re] of PARTS) if (re.test(url)) return name;
  return url ? 'other JS' : `native ${functionName}`;
}

function main(): void {
  const profile = JSON.parse(readFileSync(process.argv[2], 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const inCloseIdle = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur))
      if (byId.get(cur)!.callFrame.functionName === 'closeIdle') return true;
    return false;
  };
  const times: number[] = [];
  let t = 0;
  for (const d of profile.timeDeltas) times.push((t += d / 1000)); // ms since start
  // A tick's burst: closeIdle busy for ≥ 5 samples (the per-second idle checks are ~free),
  // none in the 5 s before.
  const ticks: number[] = [];
  const inIdle = profile.samples.map((id, i) => (inCloseIdle(id) ? times[i] : NaN)).filter((x) => x >= 0);
  for (let i = 4; i < inIdle.length; i++)
    if (inIdle[i] - inIdle[i - 4] < 100 && (ticks.length === 0 || inIdle[i] - ticks[ticks.length - 1] > 5000))
      ticks.push(inIdle[i - 4]);
  const sum = (from: number, to: number, byFunction = false) => {
    const parts = new Map<string, number>();
    profile.samples.forEach((id, i) => {
      if (times[i] < from || times[i] >= to) return;
      const { functionName, url } = byId.get(id)!.callFrame;
      const part = byFunction
        ? `${functionName} ${url.split('/').slice(-2).join('/')}`
        : partOf(byId.get(id)!);
      parts.set(part, (parts.get(part) ?? 0) + (i + 1 < times.length ? times[i + 1] - times[i] : 0));
    });
    return parts;
  };
  for (const tick of ticks) {
    const burst = sum(tick, tick + BURST_MS);
    const before = sum(tick - 1000, tick - 1000 + BURST_MS);
    console.log(
      `\ntick at ${(tick / 1000).toFixed(1)} s: CPU ms in the ${BURST_MS} ms after / the same span 1 s before`,
    );
    const names = [...new Set([...burst.keys(), ...before.keys()])].sort(
      (a, b) => (burst.get(b) ?? 0) - (burst.get(a) ?? 0),
    );
    for (const name of names)
      console.log(
        `  ${name.padEnd(34)} ${(burst.get(name) ?? 0).toFixed(0).padStart(5)} / ${(before.get(name) ?? 0).toFixed(0).padStart(5)}`,
      );
    const top = [...sum(tick, tick + BURST_MS, true).entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log('  top functions (self ms):');
    for (const [name, ms] of top) console.log(`    ${ms.toFixed(0).padStart(5)} ${name}`);
  }
}

main();
