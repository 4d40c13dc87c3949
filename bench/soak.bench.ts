/**
 * Soak (issue 10, "Load"): 10,000 keys × 1 sample/s published over MQTT into the app's
 * embedded aedes broker → `mqtt in` → moving-window (5 min every 1 min, per key) → `mqtt
 * out` → a subscriber. The app runs as a user starts it (`node dist/app/start.js`, a child
 * process on free loopback ports, a userDir holding the broker tab and one soak tab).
 *
 * Figures:
 * - msgs/s published and the share of them counted in the windows (sum of `count` over
 *   the keys at the last tick vs what was published inside that window);
 * - latency of the averaged result, two ways: from the window's end (the minute tick) to
 *   its arrival at the subscriber (the cost of emitting 10,000 windows at once), and from
 *   the MQTT publish of the newest sample in the window to the arrival (each sample carries
 *   its publish time as its value, so the window's `max` is that time; this includes up to
 *   1 s of waiting for the tick, samples being 1 s apart per key);
 * - RSS of the app: before the load, at the end of warm-up, peak and at the end. The window
 *   keeps every sample of the last 5 min, so RSS grows by design until 5 min after the
 *   start: a run shorter than that is judged by RSS per sample held in the windows (flat
 *   per-sample cost = no leak); from SOAK_SECONDS ≥ 420, warm-up covers the window and
 *   end/warm-up RSS itself must stay near 1.
 * Where the minute tick's time goes (issue 16; 2026-12-02, 2-core machine at load 3–9,
 * `SOAK_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` then `node dist/bench/soak-profile.js
 * DIR/*.cpuprofile`): the first result reaches the subscriber only when moving-window's
 * tick has closed all 10,000 windows, and that is most of the latency:
 * - the tick itself (`closeIdle`, synchronous, before any msg leaves): each key's 60
 *   samples of the last minute wait in the ring's reorder buffer and are released into the
 *   ring at the tick; while the 5 min window fills (the first ~5 min of a run) every key's
 *   ring doubles at the same tick, 8 Float64Arrays each: `SlidingWindow.grow`/`move` was
 *   714 of the 876 CPU ms in the tick's first second, GC another 130. Then the minute
 *   checkpoint (`toJSON` of every sample) runs in the same tick. Runs shorter than ~6 min
 *   therefore measure warm-up ticks; first result 1.6–2.1 s (loaded) after the tick;
 * - the 10,000 msgs after it (last − first result, 1.3–1.6 s loaded): Node-RED's deep
 *   clone of every msg but the first of an array send (~20–30 µs each, 200–300 ms per
 *   10,000, now avoided: one send per window), per-hop setImmediate scheduling, the change
 *   node, mqtt out's topic check and mqtt.js packet + `writev`, aedes routing, and the
 *   subscriber's parse — each of these a few to ~50 CPU ms per 10,000 in the profile.
 * After the window filled (SOAK_SECONDS=450 SOAK_WARMUP_SECONDS=370, one run at load 5) the
 * first result still came 2.9 s after the tick and publish → result was 15 s: the app no
 * longer keeps up with 10,000 msgs/s then: releasing 600,000 samples into the rings at each
 * tick, and the minute checkpoint of 3M samples (`toJSON`, then the localfilesystem context
 * store's JSON flush every 5 s, settings.ts).
 * Since pane windows (docs/adr/0150): hop windows keep one aggregate per pane (5 per key
 * here), so nothing is released and no ring grows at the tick, and the checkpoint runs on
 * setImmediate after the tick's sends. The tick alone, in the core (`bench/soak-tick.bench.ts`,
 * 2026-12-02 07:14 UTC, load 17–19, 3 rounds alternating, CPU time, median (min–max)):
 * ring → panes, tick while the window fills 470 (34–1700) → 23 (17–48) ms = 20×; with the
 * window full 89 (53–121) → 25 (7–47) ms = 3.5×; checkpoint toJSON + stringify 1776 → 350 ms
 * = 5.1×, 87.1 → 9.7 MB (the context store's 5 s flush writes that much less); add per
 * sample unchanged (525 vs 532 ns). In the app (150 s runs, 2026-12-02 06:34–06:54 UTC,
 * load 13–17, before/after/before/after): first result after the tick 6.7 / 2.9 / 8.8 /
 * 3.8 s, tick → result p99 22.8 / 15.2 / 47.2 / 9.3 s; at that load the app lagged 7 s
 * behind the 10,000 msgs/s (74–78k samples in flight at the tick), which is most of it;
 * RSS above idle per sample held at the end 333 / 93 / 139 / 131 bytes. Both builds at once
 * (same load, SOAK_KEYS=3000 SOAK_SECONDS=150, 07:38 UTC, load 7–11, both kept up): tick →
 * result p99 5.46 s ring → 2.48 s panes (2.2×), first result after the tick 4.75 → 1.31 s,
 * app CPU near the end 23.8 → 21.5 s, RSS above idle per sample held 442 → 44 bytes. What is left of the
 * tick → result latency on an idle machine is the 10,000 msgs' way through Node-RED and the
 * broker (second bullet above).
 * Since docs/adr/0151 (2026-12-02 11:21–11:47 UTC, quiet machine, load 0.1–1.8): moving-window
 * saves at :30, not in the :00 burst, and SOAK_PATH=broker takes mqtt in, change-per-result,
 * mqtt out, mqtt.js and TCP off the path. 300 s runs, 4 ticks each, one path right after the
 * other: tick → result p99 243 ms broker (first 84, last 259) vs 850 ms mqtt out (first 372,
 * last 772); 150 s runs (1–2 ticks): 404 / 492 vs 459 / 650 ms. Under load (5–9, other
 * benches running) 1,364 vs 7,405 ms. The floor printed beside it, aedes alone publishing the
 * 10,000 to this subscriber, is 112–172 ms (medians): aedes writes each message to the socket
 * on its own (`writev` ~13 µs a message in its profile) and this process parses each. What
 * is left above the floor is the batch's build (~70 ms to the first result) and the ingest
 * of 10,000 samples/s sharing the app's core with the deliveries. Sending a burst in slices
 * of 250 per event-loop turn was tried and not kept: the first result came sooner, the last
 * later (the ingest got in between).
 * The same build on a quiet, faster machine (2026-12-02 12:55–13:36 UTC, load < 0.3; the
 * streaming bench's empty change hop ran at 380–405k msgs/s there vs 222k at 11:54): 300 s
 * runs, 4 ticks each, SOAK_PATH=broker tick → result p99 126 / 145 / 133 ms (last result
 * 126 / 145 / 127), mqtt out 226 ms; floor 41–50 ms (medians). Where the burst's CPU goes
 * (SOAK_SECONDS=200 with --cpu-prof, BURST_MS=250, three ticks): GC 33–63 ms, aedes 28–58
 * (mqemitter and fastparallel bookkeeping, qlobber matching), moving-window's close and
 * payloads 26–46, Node's streams and timers 17–29, writev 14–22 (each result its own
 * syscall: mqtt-packet uncorks on the next tick and aedes writes one packet per
 * setImmediate), Node-RED's hops 10–20. Tried: aedes `concurrency` 1,000 and 10,000 for the
 * floor (last result, medians 50–51 ms, as with 100); the app on --max-semi-space-size=64
 * (a young generation 4× the default, so fewer scavenges in the burst), three runs alternating
 * with the default (14:09–14:33): p99 111 / 136 / 190 ms vs 126 / 145 / 133 / 143 / 142
 * without: no gain, for up to ~100 MB more RSS; not kept.
 * Default ~3 min (SOAK_SECONDS=180); BENCH_FULL=1 runs 10 min. SOAK_KEYS changes the keys;
 * SOAK_WARMUP_SECONDS the warm-up (ticks before its end are not in the latency figures).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../app/free-port';

const ROOT = resolve(__dirname, '..', '..');
const KEYS = Number(process.env.SOAK_KEYS) || 10_000;
const SECONDS = Number(process.env.SOAK_SECONDS) || (process.env.BENCH_FULL === '1' ? 600 : 180);
const WINDOW_SECONDS = 300;
const TICKS_PER_SECOND = 50; // the load is spread over the second: KEYS / 50 msgs every 20 ms

/**
 * SOAK_PATH: `broker` (default) — the aedes-broker node sends what is published to
 * soak/in/+ itself (its Subscribe output, through a link to the soak tab: no mqtt in client),
 * the topic is renamed on the way in (so the key is the result's topic), moving-window
 * sends one batch msg per minute, and a link back hands it to the aedes-broker node, which
 * publishes each window itself (docs/adr/0151); `mqtt-out` — mqtt in → moving-window, one msg
 * per window → change (rename the topic) → mqtt out → the broker over TCP.
 */
const SOAK_PATH = process.env.SOAK_PATH === 'mqtt-out' ? 'mqtt-out' : 'broker';

function soakFlows(): unknown[] {
  const viaBroker = SOAK_PATH === 'broker';
  const broker = (
    JSON.parse(readFileSync(join(ROOT, 'flows', 'broker.json'), 'utf8')) as Record<string, unknown>[]
  ).map((n) =>
    n.id === 'broker.aedes' && viaBroker
      ? { ...n, subscribe: 'soak/in/+', datatype: 'json', wires: [['soak.from-broker']] }
      : n,
  );
  const z = 'tab.soak';
  const rename = (id: string, wires: string[][]) => ({
    id,
    type: 'change',
    z,
    name: 'soak/out/<key>',
    rules: [
      { t: 'change', p: 'topic', pt: 'msg', from: 'soak/in/', fromt: 'str', to: 'soak/out/', tot: 'str' },
    ],
    x: 520,
    y: 100,
    wires,
  });
  const path = viaBroker
    ? [
        rename('soak.topic', [['soak.window']]),
        {
          id: 'soak.link',
          type: 'link out',
          z,
          name: 'to the broker',
          mode: 'link',
          links: ['soak.broker-in'],
          x: 720,
          y: 100,
          wires: [],
        },
        {
          id: 'soak.broker-in',
          type: 'link in',
          z: 'tab.broker',
          name: 'publish',
          links: ['soak.link'],
          x: 100,
          y: 160,
          wires: [['broker.aedes']],
        },
      ]
    : [
        rename('soak.topic', [['soak.out']]),
        {
          id: 'soak.out',
          type: 'mqtt out',
          z,
          name: '',
          topic: '',
          qos: '0',
          retain: 'false',
          broker: 'gridflow.mqtt',
          x: 720,
          y: 100,
          wires: [],
        },
      ];
  return [
    ...broker,
    { id: z, type: 'tab', label: 'soak', disabled: false, info: '' },
    {
      id: 'soak.comment',
      type: 'comment',
      z,
      name: `Soak (${SOAK_PATH}): soak/in/<key> → moving-window 5 min every 1 min → soak/out/<key>`,
      info: 'Reads MQTT_PORT (the shared gridflow.mqtt broker).',
      x: 250,
      y: 40,
      wires: [],
    },
    ...(viaBroker
      ? [
          {
            id: 'soak.from-broker',
            type: 'link out',
            z: 'tab.broker',
            name: 'soak/in/+',
            mode: 'link',
            links: ['soak.in'],
            x: 400,
            y: 100,
            wires: [],
          },
          {
            id: 'soak.in',
            type: 'link in',
            z,
            name: 'soak/in/+',
            links: ['soak.from-broker'],
            x: 120,
            y: 100,
            wires: [['soak.topic']],
          },
        ]
      : [
          {
            id: 'soak.in',
            type: 'mqtt in',
            z,
            name: '',
            topic: 'soak/in/+',
            qos: '0',
            datatype: 'json',
            broker: 'gridflow.mqtt',
            nl: false,
            rap: true,
            rh: 0,
            inputs: 0,
            x: 120,
            y: 100,
            wires: [['soak.window']],
          },
        ]),
    {
      id: 'soak.window',
      type: 'moving-window',
      z,
      name: '',
      property: 'payload.sentAt',
      keyProperty: 'topic',
      timeProperty: '',
      windowSeconds: WINDOW_SECONDS,
      hopSeconds: 60,
      countWindow: 0,
      aggregates: ['mean', 'min', 'max', 'count'],
      latenessSeconds: 0,
      emitEmpty: false,
      output: viaBroker ? 'batch' : 'each',
      x: 320,
      y: 100,
      wires: [[viaBroker ? 'soak.link' : 'soak.topic'], []],
    },
    ...path,
    {
      id: 'gridflow.mqtt',
      type: 'mqtt-broker',
      name: 'gridflow broker',
      broker: '127.0.0.1',
      port: '${MQTT_PORT}',
      clientid: '',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
    },
  ];
}

const KEY_TOPIC_PREFIX = 'soak/out/k';
interface WindowResult {
  end: string;
  min: number;
  max: number;
  count: number;
}
interface KeyResult {
  key: number;
  min: number;
  max: number;
  count: number;
}
interface TickResults {
  results: number;
  samples: number;
  firstMs: number;
  lastMs: number;
  keys: KeyResult[];
}

/**
 * Samples of each key the publisher sent with a `sentAt` in [min, max] of that key's window.
 * The window counts arrival time, so it is judged by the samples that arrived inside it: a
 * key's samples stay in order (one TCP connection), so its window holds one unbroken run of
 * them, from the one stamped `min` to the one stamped `max`; a sample missing inside the run
 * is a sample left out. (Samples sent just before the tick but still in flight at it belong
 * to the next window by arrival time; counting them against the tick by their send time was
 * the 0.9998 of issue 16.)
 */
function publishedInRuns(keys: KeyResult[], sliceAtMs: number[], perSlice: number): number {
  let total = 0;
  for (const { key, min, max } of keys) {
    const group = Math.floor(key / perSlice);
    for (let s = group; s < sliceAtMs.length; s += TICKS_PER_SECOND) {
      if (sliceAtMs[s] > max) break;
      if (sliceAtMs[s] >= min) total++;
    }
  }
  return total;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function startSoakApp(userDir: string, port: number, mqttPort: number): Promise<ChildProcess> {
  // SOAK_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the app (the burst: bench/soak-profile.ts).
  const nodeArgs = (process.env.SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist', 'app', 'start.js')], {
    env: {
      ...process.env,
      GRIDFLOW_USER_DIR: userDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      INFLUX_URL: 'http://127.0.0.1:9', // no InfluxDB in this flow; keeps the app from starting one
      GRIDFLOW_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/gridflow ready/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`app did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

async function connect(port: number, id: string): Promise<mqtt.MqttClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: id, reconnectPeriod: 0 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The floor of any MQTT path: aedes alone (its own process, no Node-RED, no ingest) publishes
 * `KEYS` result-sized messages at once; this process receives and parses them as the soak's
 * subscriber does. First and last arrival after the order, ms, per round.
 */
async function brokerBurstFloor(rounds: number): Promise<{ first: number; last: number }[]> {
  const child = fork(join(__dirname, 'broker-burst-process.js'), { stdio: 'ignore' });
  try {
    const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve));
    const subscriber = await connect(port, 'floor-results');
    await subscriber.subscribeAsync('soak/out/#', { qos: 0 });
    const payload = JSON.stringify({
      start: '2026-12-02T10:00:00.000Z',
      end: '2026-12-02T10:05:00.000Z',
      count: 300,
      mean: 1764669449999.5,
      min: 1764669150000,
      max: 1764669449999,
    });
    const out: { first: number; last: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      let got = 0;
      let first = NaN;
      const sentMs = Date.now();
      const all = new Promise<number>((resolve) =>
        subscriber.on('message', (_topic, buf) => {
          JSON.parse(buf.toString());
          if (got++ === 0) first = Date.now() - sentMs;
          if (got === KEYS) resolve(Date.now() - sentMs);
        }),
      );
      child.send({ count: KEYS, payload });
      const last = await all;
      out.push({ first, last });
      subscriber.removeAllListeners('message');
      await new Promise((r) => setTimeout(r, 500));
    }
    await subscriber.endAsync();
    return out;
  } finally {
    child.kill();
  }
}

export async function run(): Promise<void> {
  const userDir = mkdtempSync(join(tmpdir(), 'gridflow-soak-'));
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(soakFlows(), null, 2));
  const port = await freePort();
  const mqttPort = await freePort();
  const app = await startSoakApp(userDir, port, mqttPort);
  const pid = app.pid!;
  const publisher = await connect(mqttPort, 'soak-load');
  const subscriber = await connect(mqttPort, 'soak-results');
  await subscriber.subscribeAsync('soak/out/#', { qos: 0 });
  await new Promise((r) => setTimeout(r, 2000)); // the flow's MQTT nodes connect
  const rssIdle = rssMb(pid);

  const startMs = Date.now();
  const warmupSeconds =
    Number(process.env.SOAK_WARMUP_SECONDS) ||
    Math.min(SECONDS / 3, SECONDS >= 420 ? WINDOW_SECONDS + 60 : 60);
  const warmupEndMs = startMs + warmupSeconds * 1000;
  const endMs = startMs + SECONDS * 1000;
  const publishedAt: { atMs: number; total: number }[] = []; // cumulative, per slice (index = slice)
  let published = 0;
  const tickLatency: number[] = [];
  const publishLatency: number[] = [];
  const ticks = new Map<string, TickResults>();
  subscriber.on('message', (topic, buf) => {
    const arrival = Date.now();
    const p = JSON.parse(buf.toString()) as WindowResult;
    const endTick = Date.parse(p.end);
    let tick = ticks.get(p.end);
    if (!tick)
      ticks.set(p.end, (tick = { results: 0, samples: 0, firstMs: arrival, lastMs: arrival, keys: [] }));
    tick.results++;
    tick.samples += p.count;
    tick.lastMs = arrival;
    tick.keys.push({
      key: Number(topic.slice(KEY_TOPIC_PREFIX.length)),
      min: p.min,
      max: p.max,
      count: p.count,
    });
    // After warm-up and while the load runs (the tick after it stops holds old samples only).
    if (endTick >= warmupEndMs && endTick <= endMs) {
      tickLatency.push(arrival - endTick);
      publishLatency.push(arrival - p.max);
    }
  });

  const rss: { atMs: number; mb: number }[] = [];
  const rssTimer = setInterval(() => rss.push({ atMs: Date.now(), mb: rssMb(pid) }), 2000);
  let rssWarm = NaN;

  // The load: every key once per second, spread over TICKS_PER_SECOND slices.
  const perSlice = Math.ceil(KEYS / TICKS_PER_SECOND);
  let slice = 0;
  let lagMs = 0;
  while (Date.now() < endMs) {
    const due = startMs + (slice * 1000) / TICKS_PER_SECOND;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else lagMs = Math.max(lagMs, -wait);
    const first = (slice % TICKS_PER_SECOND) * perSlice;
    const now = Date.now();
    for (let k = first; k < Math.min(first + perSlice, KEYS); k++) {
      publisher.publish(`soak/in/k${k}`, `{"sentAt":${now}}`, { qos: 0 });
      published++;
    }
    publishedAt.push({ atMs: now, total: published });
    if (Number.isNaN(rssWarm) && now >= warmupEndMs) rssWarm = rssMb(pid);
    slice++;
  }
  const sentSeconds = (Date.now() - startMs) / 1000;
  // The last minute tick after the load stops still reports its window.
  const lastTickMs = Math.ceil(Date.now() / 60_000) * 60_000;
  await new Promise((r) => setTimeout(r, lastTickMs - Date.now() + 3000));
  clearInterval(rssTimer);
  const rssEnd = rssMb(pid);

  await publisher.endAsync();
  await subscriber.endAsync();
  app.kill('SIGINT');
  await new Promise((r) => app.once('exit', r));
  rmSync(userDir, { recursive: true, force: true });
  const floor = await brokerBurstFloor(5);

  // Share of published samples counted: the last tick whose window lies inside the load.
  const fullTicks = [...ticks.entries()].filter(([end]) => Date.parse(end) <= endMs).sort();
  const noTick: TickResults = { results: 0, samples: 0, firstMs: NaN, lastMs: NaN, keys: [] };
  const [lastEnd, last] = fullTicks[fullTicks.length - 1] ?? ['', noTick];
  const lastEndMs = Date.parse(lastEnd);
  const windowFrom = Math.max(startMs, lastEndMs - WINDOW_SECONDS * 1000);
  // Samples published before `ms` (the window counts arrival time: within a few ms of this).
  const countAt = (ms: number) => {
    let total = 0;
    for (const p of publishedAt) if (p.atMs < ms) total = p.total;
    return total;
  };
  const publishedBySendTime = countAt(lastEndMs) - (windowFrom > startMs ? countAt(windowFrom) : 0);
  const publishedArrived = publishedInRuns(
    last.keys,
    publishedAt.map((p) => p.atMs),
    perSlice,
  );
  // Each tick's burst: first and last result after the window's end (ms).
  const bursts = fullTicks
    .filter(([e]) => Date.parse(e) >= warmupEndMs)
    .map(([e, t]) => ({ first: t.firstMs - Date.parse(e), last: t.lastMs - Date.parse(e) }));
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const sortedTick = [...tickLatency].sort((a, b) => a - b);
  const sortedPub = [...publishLatency].sort((a, b) => a - b);
  const peak = Math.max(...rss.map((r) => r.mb), rssEnd);
  const samplesHeld = (ms: number) => KEYS * Math.min(WINDOW_SECONDS, Math.max(1, (ms - startMs) / 1000));
  const perSampleWarm = ((rssWarm - rssIdle) * 1024 * 1024) / samplesHeld(warmupEndMs);
  const perSampleEnd = ((rssEnd - rssIdle) * 1024 * 1024) / samplesHeld(endMs);
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

  console.log(
    `soak: ${KEYS} keys × 1 sample/s, ${SECONDS} s, moving-window ${WINDOW_SECONDS} s every 60 s, results by ${SOAK_PATH === 'broker' ? 'one batch msg into the aedes-broker node' : 'mqtt out'} (SOAK_PATH=${SOAK_PATH})`,
  );
  console.log('| figure | value |');
  console.log('|---|---|');
  console.log(
    `| msgs/s published (sustained) | ${f(published / sentSeconds, 0)} (target ${KEYS}; publisher lag max ${lagMs} ms) |`,
  );
  console.log(
    `| samples counted / published, last full tick (${lastEnd || 'none'}), by arrival | ${last.samples} / ${publishedArrived} = ${f(last.samples / publishedArrived, 4)} (target 1.0000; ${last.results} keys reported) |`,
  );
  console.log(
    `| samples sent before that tick, still in flight at it (in the next window) | ${publishedBySendTime - publishedArrived} (by send time: ${f(last.samples / publishedBySendTime, 4)}) |`,
  );
  console.log(
    `| results after warm-up | ${tickLatency.length} over ${fullTicks.filter(([e]) => Date.parse(e) >= warmupEndMs).length} ticks |`,
  );
  console.log(
    `| latency tick → result p50 / p99 / max (ms) | ${f(percentile(sortedTick, 50), 0)} / ${f(percentile(sortedTick, 99), 0)} / ${f(sortedTick[sortedTick.length - 1] ?? NaN, 0)} (target p99 < 200) |`,
  );
  console.log(
    `| burst: first / last result after the tick, median of ${bursts.length} ticks (ms) | ${f(median(bursts.map((b) => b.first)), 0)} / ${f(median(bursts.map((b) => b.last)), 0)} |`,
  );
  const floorStat = (pick: (r: { first: number; last: number }) => number) => {
    const xs = floor.map(pick).sort((a, b) => a - b);
    return `${f(median(xs), 0)} (${f(xs[0], 0)}–${f(xs[xs.length - 1], 0)})`;
  };
  console.log(
    `| floor: aedes alone publishes ${KEYS} results at once (no Node-RED, no ingest), ${floor.length} rounds after the soak: first / last at this subscriber, median (min–max) (ms) | ${floorStat((r) => r.first)} / ${floorStat((r) => r.last)} |`,
  );
  console.log(
    `| latency publish (newest sample) → result p50 / p99 (ms) | ${f(percentile(sortedPub, 50), 0)} / ${f(percentile(sortedPub, 99), 0)} |`,
  );
  console.log(
    `| RSS idle / warm-up / peak / end (MB) | ${f(rssIdle)} / ${f(rssWarm)} / ${f(peak)} / ${f(rssEnd)} |`,
  );
  console.log(
    `| RSS end / warm-up | ${f(rssEnd / rssWarm, 3)}${SECONDS < 420 ? ' (window still filling: see per sample)' : ''} |`,
  );
  console.log(
    `| RSS above idle per sample held, warm-up → end (bytes) | ${f(perSampleWarm, 0)} → ${f(perSampleEnd, 0)} (ratio ${f(perSampleEnd / perSampleWarm, 2)}) |`,
  );
}
