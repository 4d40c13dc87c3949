/**
 * The soak's minute tick in the core alone (issue 16): 10,000 keys × 1 sample/s (arrival
 * time) into KeyedWindows, 5 min every 1 min, the idle check every second as moving-window
 * runs it; the CPU time of each minute tick (`closeIdle` closing 10,000 windows) and of the
 * checkpoint (`toJSON` + `JSON.stringify`, what the context store writes), for the ring
 * (SlidingWindow, `paneWindows: false`) and for panes (docs/adr/0150), alternating, several
 * rounds; median and range. Ticks 1–5 fill the window, 6–7 find it full.
 * SOAK_TICK_KEYS, SOAK_TICK_MINUTES (7), SOAK_TICK_ROUNDS (3) change the size.
 */
import { loadavg } from 'node:os';
import { KeyedWindows, type KeyedWindowSettings } from '../nodes/core/keyed-windows';

const KEYS = Number(process.env.SOAK_TICK_KEYS) || 10_000;
const MINUTES = Number(process.env.SOAK_TICK_MINUTES) || 7;
const ROUNDS = Number(process.env.SOAK_TICK_ROUNDS) || 3;
const START = Date.UTC(2026, 11, 2, 6, 0, 0);

const SETTINGS: KeyedWindowSettings = {
  lengthMs: 300_000,
  count: 0,
  hopMs: 60_000,
  latenessMs: 0,
  maxFutureMs: 300_000,
  idleMs: 0,
  emitEmpty: false,
  emitWarmup: true,
  ttlMs: 86_400_000,
  maxKeys: 100_000,
};

interface Figures {
  addNsPerSample: number;
  idleCheckMs: number;
  fillingTickMs: number[];
  fullTickMs: number[];
  checkpointMs: number;
  checkpointMb: number;
}

function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function soakTicks(paneWindows: boolean): Figures {
  const windows = new KeyedWindows({ ...SETTINGS, paneWindows });
  const keys = Array.from({ length: KEYS }, (_, i) => `soak/in/k${i}`);
  const ticks: number[] = [];
  let addMs = 0;
  let idleCheckMs = 0;
  let samples = 0;
  for (let second = 0; second < MINUTES * 60; second++) {
    const tickMs = START + (second + 1) * 1000 + 1; // the idle check, 1 ms past each second
    addMs += cpuMs(() => {
      for (let i = 0; i < KEYS; i++) {
        const t = START + second * 1000 + Math.floor((i * 1000) / KEYS);
        windows.add(keys[i], t, t, t);
      }
    });
    samples += KEYS;
    let closed = 0;
    const ms = cpuMs(() => (closed = windows.closeIdle(tickMs).length));
    if ((second + 1) % 60 === 0) {
      if (closed !== KEYS) throw new Error(`tick ${ticks.length + 1} closed ${closed} windows, not ${KEYS}`);
      ticks.push(ms);
    } else idleCheckMs += ms;
  }
  let json = '';
  const checkpointMs = cpuMs(() => (json = JSON.stringify(windows.toJSON())));
  return {
    addNsPerSample: (addMs * 1e6) / samples,
    idleCheckMs: idleCheckMs / (MINUTES * 59),
    fillingTickMs: ticks.slice(0, 5),
    fullTickMs: ticks.slice(5),
    checkpointMs,
    checkpointMb: json.length / 1e6,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const ROWS: [string, (f: Figures) => number[], number][] = [
  ['add, CPU ns per sample', (f) => [f.addNsPerSample], 0],
  ['idle check between ticks (every second, 10,000 keys), CPU ms', (f) => [f.idleCheckMs], 1],
  ['minute tick while the window fills (ticks 1–5), CPU ms', (f) => f.fillingTickMs, 1],
  ['minute tick with the window full (ticks 6+), CPU ms', (f) => f.fullTickMs, 1],
  ['checkpoint toJSON + stringify, CPU ms', (f) => [f.checkpointMs], 0],
  ['checkpoint size, MB of JSON', (f) => [f.checkpointMb], 1],
];

export async function run(): Promise<void> {
  const byRing: Figures[] = [];
  const byPanes: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    byRing.push(soakTicks(false));
    byPanes.push(soakTicks(true));
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `soak tick (core): ${KEYS} keys × 1 sample/s, 5 min every 1 min, ${MINUTES} min, ${ROUNDS} rounds alternating, load ${load}`,
  );
  console.log('| figure, median (min–max) | ring | panes | ring / panes |');
  console.log('|---|---|---|---|');
  for (const [name, pick, digits] of ROWS) {
    const ring = byRing.flatMap(pick);
    const panes = byPanes.flatMap(pick);
    const fmt = (xs: number[]) =>
      `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
    console.log(`| ${name} | ${fmt(ring)} | ${fmt(panes)} | ${(median(ring) / median(panes)).toFixed(1)}× |`);
  }
}
