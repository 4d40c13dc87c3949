/**
 * Scale-out on NATS JetStream, end to end with real servers on loopback: 3 clustered
 * nats-server (JetStream + MQTT), 2 worker apps running the shipped "Scale-out worker"
 * tab, a real InfluxDB. Mid-run one worker is SIGKILLed and one NATS server is stopped
 * and restarted; every window must still land exactly as one single-process window
 * computes it.
 */
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { connect, KvWatchInclude, type KvEntry } from 'nats';
import { SlidingWindow } from '../../nodes/core/sliding-window';
import type { Lease } from '../../nodes/core/partition-leases';
import { publishUntilAcked } from '../../nodes/nats-connection/js-publish';
import { INPUT_STREAM, LEASE_BUCKET, OUTPUT_STREAM } from '../../nodes/nats-connection/nats-streams';
import { startApp, type RunningApp } from '../harness/app';
import { eventually } from '../harness/eventually';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { startTestNatsCluster, type TestNatsCluster } from '../harness/nats-cluster';

const KEYS = 200;
const SAMPLES = 600;
const PARTITIONS = 8;
const LEASE_MS = 6000; // the worker tab's leaseSeconds
const TAKEOVER_BOUND_MS = LEASE_MS + 2 * (LEASE_MS / 4); // docs/scale-out.md
const T0 = Date.parse('2026-01-05T00:00:00Z');
const STREAM = 'load';
/** Rounds published over MQTT while every server is healthy; the rest through JetStream. */
const MQTT_ROUNDS = 100;
const KILL_ROUND = 150;
/**
 * A second MQTT device group, QoS 1 into a server that stays up, publishing all through the
 * faults. nats-server 2.9 PUBACKs before the stream stores (docs/adr/0100), so what holds
 * is: every sample the stream stored lands exactly once; losses are counted, not excluded.
 */
const FAULT_STREAM = 'mqttfault';
const FAULT_KEYS = 4;
const encoder = new TextEncoder();

const keyName = (k: number) => `m${String(k).padStart(3, '0')}`;
// Multiples of 1/8 below 1000: sums stay exact, so "equal" can mean bit-equal.
const valueOf = (k: number, i: number) => ((k * 7919 + i * 104729) % 8000) / 8;

interface Expected {
  key: string;
  timeMs: number;
  mean: number;
  min: number;
  max: number;
  count: number;
}

/**
 * The single-process reference: one SlidingWindow per key, windows closed by event time;
 * a sample not after its key's newest is refused, as the workers do.
 */
function windowsOf(samplesByKey: Map<string, { t: number; v: number }[]>): Expected[] {
  const out: Expected[] = [];
  for (const [key, samples] of samplesByKey) {
    const window = new SlidingWindow(300_000);
    let nextEnd = Math.ceil(samples[0].t / 60_000) * 60_000;
    let newest = -Infinity;
    const close = () => {
      const s = window.summary(nextEnd);
      if (s.count > 0)
        out.push({ key, timeMs: nextEnd, mean: s.mean!, min: s.min!, max: s.max!, count: s.count });
      nextEnd += 60_000;
    };
    for (const { t, v } of samples) {
      if (t <= newest) continue;
      newest = t;
      while (nextEnd < t) close();
      window.add(t, v);
      if (nextEnd === t) close();
    }
  }
  return out;
}

function expectedWindows(): Expected[] {
  const samples = new Map<string, { t: number; v: number }[]>();
  for (let k = 0; k < KEYS; k++)
    samples.set(
      keyName(k),
      Array.from({ length: SAMPLES }, (_, i) => ({ t: T0 + i * 1000, v: valueOf(k, i) })),
    );
  return windowsOf(samples);
}

/** Samples of `stream` the input stream stored, per key, in stream order. */
async function storedSamples(
  cluster: TestNatsCluster,
  stream: string,
): Promise<Map<string, { t: number; v: number }[]>> {
  const consumer = await cluster.client
    .jetstream()
    .consumers.get(INPUT_STREAM, { filterSubjects: `gridflow.part.*.${stream}.*` });
  const byKey = new Map<string, { t: number; v: number }[]>();
  for (;;) {
    const m = await consumer.next({ expires: 5000 });
    if (!m) break;
    const key = m.subject.split('.').pop()!;
    const body = m.json<{ time: string; value: number }>();
    byKey.set(key, [...(byKey.get(key) ?? []), { t: Date.parse(body.time), v: body.value }]);
    if (m.info.pending === 0) break;
  }
  return byKey;
}

function compareWindows(rows: Record<string, unknown>[], expected: Expected[], stream: string): string[] {
  const byWindow = new Map(rows.map((r) => [`${String(r.key)}@${Number(r.time)}`, r]));
  const wrong: string[] = [];
  for (const e of expected) {
    const r = byWindow.get(`${e.key}@${e.timeMs}`);
    if (!r) wrong.push(`${e.key}@${new Date(e.timeMs).toISOString()} missing`);
    else if (
      r.stream !== stream ||
      r.mean !== e.mean ||
      r.min !== e.min ||
      r.max !== e.max ||
      r.count !== e.count
    )
      wrong.push(`${e.key}@${new Date(e.timeMs).toISOString()}: ${JSON.stringify(r)} ≠ ${JSON.stringify(e)}`);
  }
  return wrong;
}

/**
 * Every lease write, watched from before the workers start: the bucket keeps only the last
 * 64 revisions of a key, fewer than a run's renewals, so its own history could miss the takeover.
 */
async function watchLeases(
  cluster: TestNatsCluster,
): Promise<{ byPartition: Map<number, KvEntry[]>; stop(): void }> {
  const kv = await cluster.client.jetstream().views.kv(LEASE_BUCKET);
  const watcher = await kv.watch({ key: 'workers.>', include: KvWatchInclude.AllHistory });
  const byPartition = new Map<number, KvEntry[]>();
  void (async () => {
    for await (const e of watcher) {
      if (!e) continue; // nats.js 2.29 can yield `undefined` as an end marker
      const partition = Number(/\.p(\d+)$/.exec(e.key)?.[1]);
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), e]);
    }
  })();
  return { byPartition, stop: () => watcher.stop() };
}

function leaseHistory(leases: { byPartition: Map<number, KvEntry[]> }, partition: number): KvEntry[] {
  const byRevision = new Map((leases.byPartition.get(partition) ?? []).map((e) => [e.revision, e]));
  return [...byRevision.values()].sort((x, y) => x.revision - y.revision);
}

async function currentOwners(cluster: TestNatsCluster): Promise<Map<string, number>> {
  const owners = new Map<string, number>();
  const kv = await cluster.client.jetstream().views.kv(LEASE_BUCKET);
  for (let p = 0; p < PARTITIONS; p++) {
    const e = await kv.get(`workers.p${p}`);
    if (!e || e.operation !== 'PUT') continue;
    const lease = e.json<Lease>();
    if (lease.expiresAtMs > Date.now()) owners.set(lease.owner, (owners.get(lease.owner) ?? 0) + 1);
  }
  return owners;
}

describe('scale-out on NATS JetStream (3 servers, 2 workers, InfluxDB)', function () {
  this.timeout(240_000);
  let influx: TestInfluxd;
  let cluster: TestNatsCluster;
  const workers: RunningApp[] = [];
  let subscriber: MqttClient;
  const received: { topic: string; payload: string }[] = [];
  let leases: Awaited<ReturnType<typeof watchLeases>>;

  before(async () => {
    [influx, cluster] = await Promise.all([
      startTestInfluxd(),
      startTestNatsCluster({ partitions: PARTITIONS }),
    ]);
    leases = await watchLeases(cluster);
    const env = (id: string) => ({
      GRIDFLOW_NATS_URL: cluster.urls.join(','),
      GRIDFLOW_WORKER_ID: id,
      INFLUX_URL: influx.url,
      INFLUX_DB: 'gridflow',
    });
    workers.push(await startApp({ env: env('w1') }));
    workers.push(await startApp({ env: env('w2') }));
    await eventually('both workers own 4 partitions', 60_000, async () => {
      const owners = await currentOwners(cluster);
      return owners.get('w1') === 4 && owners.get('w2') === 4 ? owners : undefined;
    });
    subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.servers[2].mqttPort}`, {
      clientId: 'failover-subscriber',
    });
    subscriber.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    await subscriber.subscribeAsync('gridflow/out/#', { qos: 0 });
    // The first MQTT client made the server create its session streams: R3, so a server
    // stop leaves them a quorum and MQTT clients can reconnect (docs/scale-out.md).
    const jsm = await cluster.client.jetstreamManager();
    assert.equal((await jsm.streams.info('$MQTT_sess')).config.num_replicas, 3);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const w of workers) console.error(`--- worker log ---\n${w.logs().slice(-3000)}`);
  });

  after(async () => {
    leases?.stop();
    await subscriber?.endAsync().catch(() => undefined);
    for (const w of workers) await w.dispose().catch(() => undefined);
    await cluster?.dispose().catch(() => undefined);
    await influx?.dispose().catch(() => undefined);
  });

  it('lands every 5-minute window of every key once and exactly, through a worker kill and a server restart', async () => {
    // The MQTT ingest path, end to end, while every server is healthy: the first rounds and
    // the bad samples go in over MQTT and are checked to be in the stream before any
    // fault (bulk at QoS 0: QoS 1 into nats-server 2.9 runs at ~60 msgs/s here and its
    // PUBACK promises no more). MQTT into nats-server 2.9 is acknowledged before the
    // stream stores it, so the rest — published through the faults — goes the way a device that must lose nothing
    // publishes (docs/scale-out.md): JetStream publish, a per-sample message id, retried
    // until the stream acknowledges it.
    const mqttPublisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.servers[0].mqttPort}`, {
      clientId: 'failover-publisher',
    });
    const jsPublisher = await connect({ servers: cluster.servers[0].url, maxReconnectAttempts: -1 });
    const js = jsPublisher.jetstream();
    const jsm = await cluster.client.jetstreamManager();
    const streamCount = async () => (await jsm.streams.info(INPUT_STREAM)).state.messages;
    const waitForStreamCount = (what: string, n: number) =>
      eventually(what, 60_000, async () => ((await streamCount()) >= n ? true : undefined)).catch(
        async (err: Error) => {
          throw new Error(`${err.message}: the stream holds ${await streamCount()} of ${n} published msgs`);
        },
      );
    const subjectCounts = async (stream: string, filter: string) =>
      Object.entries((await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {});
    const sampleBody = (k: number, i: number) =>
      JSON.stringify({ time: new Date(T0 + i * 1000).toISOString(), value: valueOf(k, i) });
    const [w1, w2] = workers;
    let killedAtMs = 0;
    const stopped = cluster.servers[1];
    for (let i = 0; i < MQTT_ROUNDS; i++) {
      if (i === MQTT_ROUNDS / 2) {
        // Bad samples in the middle of the run: reported, skipped, nothing blocked.
        await mqttPublisher.publishAsync(`gridflow/in/${STREAM}/${keyName(1)}`, '{"value": 3}', { qos: 1 });
        await mqttPublisher.publishAsync(
          `gridflow/in/${STREAM}/${keyName(2)}`,
          `{"time": ${T0}, "value": "x"}`,
          {
            qos: 1,
          },
        );
        await publishUntilAcked(
          js,
          `gridflow.part.0.${STREAM}`,
          encoder.encode(JSON.stringify({ time: T0, value: 1 })),
          {
            msgID: 'bad-no-key',
          },
        );
      }
      const round: Promise<unknown>[] = [];
      for (let k = 0; k < KEYS; k++)
        round.push(
          mqttPublisher.publishAsync(`gridflow/in/${STREAM}/${keyName(k)}`, sampleBody(k, i), { qos: 0 }),
        );
      await Promise.all(round);
    }
    await mqttPublisher.endAsync();
    await waitForStreamCount('every MQTT-published sample in the stream', KEYS * MQTT_ROUNDS + 3);

    const faultPublisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${cluster.servers[0].mqttPort}`, {
      clientId: 'failover-qos1-publisher',
    });
    const faultPublishes: Promise<unknown>[] = [];
    let faultAcked = 0;
    const faultErrors = new Map<string, number>();

    for (let i = MQTT_ROUNDS; i < SAMPLES; i++) {
      if (i === KILL_ROUND) {
        await w1.kill();
        killedAtMs = Date.now();
      }
      if (i === KILL_ROUND + 50) {
        // The server failure comes after the takeover, so the takeover time is measured alone.
        await eventually('w2 took over every partition', 30_000, async () =>
          (await currentOwners(cluster)).get('w2') === PARTITIONS ? true : undefined,
        );
      }
      if (i === KILL_ROUND + 100) await stopped.stop();
      if (i === KILL_ROUND + 250) await stopped.start(); // resolves once /healthz (JetStream included) is ok
      for (let k = 0; k < FAULT_KEYS; k++)
        faultPublishes.push(
          faultPublisher
            .publishAsync(
              `gridflow/in/${FAULT_STREAM}/f${k}`,
              JSON.stringify({
                time: new Date(T0 + (i - MQTT_ROUNDS) * 1000).toISOString(),
                value: valueOf(k, i),
              }),
              { qos: 1 },
            )
            .then(
              () => faultAcked++,
              (err: Error) => faultErrors.set(err.message, (faultErrors.get(err.message) ?? 0) + 1),
            ),
        );
      if (process.env.GRIDFLOW_TEST_TRACE && i % 50 === 0)
        console.error(`round ${i} ${new Date().toISOString()} stream ${await streamCount()}`);
      const round: Promise<unknown>[] = [];
      for (let k = 0; k < KEYS; k++) {
        round.push(
          publishUntilAcked(js, `gridflow.in.${STREAM}.${keyName(k)}`, encoder.encode(sampleBody(k, i)), {
            msgID: `${STREAM}/${keyName(k)}/${i}`,
            noRespondersGiveUpAfterMs: 30_000, // a device knows its stream exists: keep trying
          }),
        );
      }
      await Promise.all(round);
    }
    await jsPublisher.close();
    await Promise.allSettled(faultPublishes);
    await faultPublisher.endAsync();
    // Every acknowledged sample is stored exactly once (the message ids de-duplicate retries).
    await waitForStreamCount('every sample in the stream', KEYS * SAMPLES + 3);
    const loadStored = (await subjectCounts(INPUT_STREAM, 'gridflow.part.>'))
      .filter(([subject]) => !subject.includes(`.${FAULT_STREAM}.`))
      .reduce((a, [, n]) => a + n, 0);
    assert.equal(loadStored, KEYS * SAMPLES + 3);

    const expected = expectedWindows();
    assert.equal(expected.length, KEYS * 10);
    const rows = await eventually('every window in InfluxDB', 120_000, async () => {
      const r = await influx.query(
        `SELECT mean, min, max, "count" FROM stream_window WHERE "stream" = '${STREAM}' GROUP BY "stream", "key"`,
      );
      return r.length >= expected.length ? r : undefined;
    });
    assert.equal(rows.length, expected.length, 'one point per window, none extra');
    const wrong = compareWindows(rows, expected, STREAM);
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} windows wrong`);

    // The MQTT subscriber on another server saw every result; repeats only identical ones.
    const seen = await eventually('every result at the MQTT subscriber', 60_000, async () => {
      const firstByWindow = new Map<string, string>();
      for (const m of received.filter((r) => r.topic.startsWith(`gridflow/out/${STREAM}/`))) {
        const body = JSON.parse(m.payload) as { time: string };
        const id = `${m.topic}@${body.time}`;
        const first = firstByWindow.get(id);
        assert.ok(first === undefined || first === m.payload, `${id} published with two different payloads`);
        firstByWindow.set(id, m.payload);
      }
      return firstByWindow.size >= expected.length ? firstByWindow : undefined;
    });
    for (const e of expected) {
      const payload = seen.get(`gridflow/out/${STREAM}/${e.key}/avg5m@${new Date(e.timeMs).toISOString()}`);
      assert.deepEqual(payload && JSON.parse(payload), {
        time: new Date(e.timeMs).toISOString(),
        value: e.mean,
        count: e.count,
      });
    }
    assert.equal(seen.size, expected.length);
    // Duplicates only where the message id de-duplicates: the ids are content hashes (same
    // payload, same id), and the output stream kept exactly one message per window.
    const outStored = await eventually('the output stream settled', 30_000, async () => {
      const n = (await subjectCounts(OUTPUT_STREAM, `gridflow.out.${STREAM}.>`)).reduce(
        (a, [, c]) => a + c,
        0,
      );
      return n >= expected.length ? n : undefined;
    });
    assert.equal(outStored, expected.length, 'one stored result per window: replays were de-duplicated');
    const loadResults = received.filter((r) => r.topic.startsWith(`gridflow/out/${STREAM}/`)).length;

    // MQTT QoS 1 ingest through the faults: what the stream stored is exact, losses are counted.
    const faultSamples = await storedSamples(cluster, FAULT_STREAM);
    const faultStored = [...faultSamples.values()].reduce((a, xs) => a + xs.length, 0);
    assert.equal(faultSamples.size, FAULT_KEYS, 'every fault-window MQTT device has samples in the stream');
    const faultExpected = windowsOf(faultSamples);
    const faultRepeats = [...faultSamples.values()]
      .map((xs) => xs.filter((x, i) => xs.slice(0, i).some((y) => y.t >= x.t)).length)
      .reduce((a, n) => a + n, 0);
    const faultRows = await eventually('the MQTT fault-window windows in InfluxDB', 60_000, async () => {
      const r = await influx.query(
        `SELECT mean, min, max, "count" FROM stream_window WHERE "stream" = '${FAULT_STREAM}' GROUP BY "stream", "key"`,
      );
      return r.length >= faultExpected.length ? r : undefined;
    });
    assert.equal(faultRows.length, faultExpected.length, 'one point per stored window, none extra');
    assert.deepEqual(compareWindows(faultRows, faultExpected, FAULT_STREAM).slice(0, 10), []);
    console.log(
      `      MQTT subscriber: ${loadResults} results for ${expected.length} windows (${loadResults - expected.length} replayed duplicates, all de-duplicated in ${OUTPUT_STREAM}); ` +
        `MQTT QoS 1 through the faults: ${faultAcked} of ${faultPublishes.length} PUBACKed (failed: ${JSON.stringify(Object.fromEntries(faultErrors))}), ${faultStored} stored (${faultRepeats} not after their key's newest), ${faultExpected.length} windows exact`,
    );

    // Bad input was reported with a clear reason.
    const logs = w1.logs() + w2.logs();
    assert.match(logs, /payload has no "time"/);
    assert.match(logs, /payload "value" "x" is not a finite number/);
    assert.match(logs, /has no key/);

    // Ownership: never two owners of one partition; the killed worker's partitions taken over in time.
    const takenOver = new Set<number>();
    for (let p = 0; p < PARTITIONS; p++) {
      const history = leaseHistory(leases, p);
      let previous: { lease: Lease | null; deleted: boolean } | undefined;
      for (const entry of history) {
        const lease = entry.operation === 'PUT' ? entry.json<Lease>() : null;
        if (lease && previous?.lease && previous.lease.owner !== lease.owner && !previous.deleted) {
          assert.ok(
            lease.acquiredAtMs >= previous.lease.expiresAtMs,
            `partition ${p}: ${lease.owner} took it at ${lease.acquiredAtMs} before ${previous.lease.owner}'s lease ended at ${previous.lease.expiresAtMs}`,
          );
          if (previous.lease.owner === 'w1' && lease.acquiredAtMs >= killedAtMs) {
            takenOver.add(p);
            assert.ok(
              lease.acquiredAtMs - killedAtMs <= TAKEOVER_BOUND_MS,
              `partition ${p} taken over ${lease.acquiredAtMs - killedAtMs} ms after the kill (bound ${TAKEOVER_BOUND_MS} ms)`,
            );
          }
        }
        previous = { lease: lease ?? previous?.lease ?? null, deleted: entry.operation !== 'PUT' };
      }
    }
    assert.equal(takenOver.size, PARTITIONS / 2, "every partition of the killed worker's was taken over");
    const owners = await currentOwners(cluster);
    assert.equal(owners.get('w2'), PARTITIONS, 'the surviving worker owns every partition');
  });
});
