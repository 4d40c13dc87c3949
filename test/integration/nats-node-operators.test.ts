/**
 * The turbine-stats and anomaly-stream operators of nats-in on a real nats-server: a worker
 * hands its partitions over mid-stream (final checkpoint, lease deleted), another restores
 * the checkpoints and replays from their positions, and every result equals one
 * uninterrupted run of the node's own core per key (TurbineStats, StreamAnomalyDetector).
 * Bad samples among them are reported with their reason and do not block their partition.
 * The nats-in node itself sends the results shaped as the two nodes send theirs.
 */
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import natsConnectionNode from '../../nodes/nats-connection/nats-connection';
import natsInNode from '../../nodes/nats-in/nats-in';
import { StreamAnomalyDetector } from '../../nodes/core/fleet-anomaly';
import type { PartitionAnomalyResult } from '../../nodes/core/partition-anomaly';
import type { PartitionOperatorState } from '../../nodes/core/partition-operator';
import type { PartitionTurbineResult } from '../../nodes/core/partition-turbine-stats';
import { TurbineStats } from '../../nodes/core/turbine-stats';
import { openBuckets, type Buckets } from '../../nodes/nats-connection/nats-streams';
import {
  WorkerGroup,
  type WorkerGroupEvents,
  type WorkerGroupSettings,
} from '../../nodes/nats-in/worker-group';
import { eventually } from '../harness/eventually';
import { startTestNatsCluster, type TestNatsCluster } from '../harness/nats-cluster';

helper.init(require.resolve('node-red'));

const T0 = Date.parse('2026-03-27T00:00:00Z');
const TURBINES = 10;
const STEP = 20 * 60_000;
/** Two full days and the first reading of the third, which closes the second. */
const TURBINE_ROUNDS = 2 * 72 + 1;
const SENSORS = 8;
const SENSOR_ROUNDS = 150;

interface Reading {
  key: string;
  timeMs: number;
  value: number;
}

/** 20-minute power readings; now and then a 300 MW spike (outlier) or a reading sent twice. */
function turbineReadings(from: number, to: number): Reading[] {
  const out: Reading[] = [];
  for (let i = from; i < to; i++)
    for (let t = 0; t < TURBINES; t++) {
      const value = (i * (t + 3)) % 41 === 7 ? 300 : 2 + ((i * 7 + t * 5) % 23) / 4;
      const reading = { key: `t${t}`, timeMs: T0 + i * STEP + t * 1000, value };
      out.push(reading);
      if ((i + t) % 37 === 0) out.push(reading);
    }
  return out;
}

function sensorReadings(from: number, to: number): Reading[] {
  const out: Reading[] = [];
  for (let i = from; i < to; i++)
    for (let s = 0; s < SENSORS; s++)
      out.push({
        key: `s${s}`,
        timeMs: T0 + i * 1000,
        value: (i * (s + 1)) % 53 === 11 ? 90 : 10 + Math.sin(i / 7 + s) * 3 + ((i * 13) % 7) / 9,
      });
  return out;
}

const periodId = (r: PartitionTurbineResult) => `${r.key}@${r.period.start}`;
const scoreId = (r: PartitionAnomalyResult) => `${r.key}@${r.timeMs}`;

function referenceTurbineDays(): Map<string, PartitionTurbineResult> {
  const perKey = new Map<string, TurbineStats>();
  const out = new Map<string, PartitionTurbineResult>();
  for (const r of turbineReadings(0, TURBINE_ROUNDS)) {
    const key = `wind/${r.key}`;
    let stats = perKey.get(key);
    if (!stats) {
      stats = new TurbineStats({
        periodSeconds: 86_400,
        timeZone: 'UTC',
        impute: 'linear',
        minPower: 0,
        maxPower: 10,
        madThreshold: 6,
        closeOnData: true,
      });
      perKey.set(key, stats);
    }
    assert.ok(
      stats.add({
        turbineId: key,
        timeMs: r.timeMs,
        power: r.value,
        row: { time: r.timeMs, value: r.value },
      }),
    );
    for (const p of stats.closeReady())
      for (const s of p.stats) {
        const result = { key, seq: 0, period: { start: s.start, end: s.end, day: p.day }, stats: s };
        out.set(periodId(result), result);
      }
  }
  return out;
}

function referenceScores(): Map<string, PartitionAnomalyResult> {
  const detector = new StreamAnomalyDetector(2, 20, 5);
  const out = new Map<string, PartitionAnomalyResult>();
  for (const r of sensorReadings(0, SENSOR_ROUNDS)) {
    const key = `vib/${r.key}`;
    const result = { key, timeMs: r.timeMs, value: r.value, ...detector.check(key, r.value), seq: 0 };
    out.set(scoreId(result), result);
  }
  return out;
}

describe('nats-in turbine-stats and anomaly-stream operators move with their partition (real nats-server)', function () {
  this.timeout(90_000);
  let cluster: TestNatsCluster;
  let buckets: Buckets;

  before(async () => {
    cluster = await startTestNatsCluster({ size: 1 });
    buckets = await openBuckets(cluster.client, 1);
  });
  after(async () => {
    await cluster?.dispose();
  });

  function startWorker(
    settings: Pick<WorkerGroupSettings, 'group' | 'workerId'> & Partial<WorkerGroupSettings>,
    events: Partial<WorkerGroupEvents>,
  ): WorkerGroup {
    const group = new WorkerGroup(
      cluster.client.jetstream(),
      buckets,
      { partitions: 8, windowMs: 300_000, hopMs: 60_000, leaseMs: 3000, checkpointMs: 200, ...settings },
      {
        sample: () => undefined,
        windows: () => assert.fail('no moving windows here'),
        bad: () => undefined,
        lost: () => undefined,
        changed: () => undefined,
        warn: () => undefined,
        ...events,
      },
    );
    group.start();
    return group;
  }

  const publish = async (stream: string, readings: Reading[]) => {
    const js = cluster.client.jetstream();
    for (const r of readings)
      await js.publish(`gridflow.in.${stream}.${r.key}`, JSON.stringify({ time: r.timeMs, value: r.value }));
  };

  /** Keys with the prefix found in the group's checkpoints. */
  const checkpointedKeys = async (group: string, prefix: string) => {
    const keys = new Set<string>();
    for (let p = 0; p < 8; p++) {
      const state = (await buckets.checkpoints.get(`${group}.p${p}`))?.json<PartitionOperatorState>();
      if (state && 'operator' in state)
        for (const key of Object.keys(state.keys)) if (key.startsWith(prefix)) keys.add(key);
    }
    return keys.size;
  };

  it('turbine-stats: the next owner closes the open days exactly; bad samples are reported and skipped', async () => {
    const expected = referenceTurbineDays();
    assert.equal(expected.size, 2 * TURBINES);
    assert.ok(
      [...expected.values()].some((r) => r.stats.quality.outliers > 0 && r.stats.quality.duplicates > 0),
    );
    const settings = { group: 'turbines', operator: 'turbine-stats' as const, minPower: 0, maxPower: 10 };
    const bad: string[] = [];
    const collect = (into: PartitionTurbineResult[]): Partial<WorkerGroupEvents> => ({
      turbineStats: (_p, results) => into.push(...results.filter((r) => r.key.startsWith('wind/'))),
      bad: (_p, _seq, subject, reason) => bad.push(`${subject}: ${reason}`),
    });
    const fromA: PartitionTurbineResult[] = [];
    const a = startWorker({ ...settings, workerId: 'ta' }, collect(fromA));
    const firstPart = 100; // day 1 closed, day 2 open
    await publish('wind', turbineReadings(0, firstPart));
    const js = cluster.client.jetstream();
    await js.publish('gridflow.in.wind.t0', JSON.stringify({ value: 1 }));
    await js.publish('gridflow.in.wind.t1', JSON.stringify({ time: T0 + firstPart * STEP, value: 'high' }));
    await js.publish('gridflow.in.wind.t2', JSON.stringify({ time: T0 + 3_600_000, value: 4 }));
    await eventually('worker ta closed day 1 of every turbine', 30_000, async () =>
      fromA.length >= TURBINES && bad.length >= 3 ? true : undefined,
    );
    await eventually('every turbine in a turbine-stats checkpoint', 30_000, async () =>
      (await checkpointedKeys('turbines', 'wind/')) === TURBINES ? true : undefined,
    );
    await a.close();

    const fromB: PartitionTurbineResult[] = [];
    const b = startWorker({ ...settings, workerId: 'tb' }, collect(fromB));
    try {
      await publish('wind', turbineReadings(firstPart, TURBINE_ROUNDS));
      await eventually('every turbine-day emitted', 30_000, async () =>
        new Set([...fromA, ...fromB].map(periodId)).size >= expected.size ? true : undefined,
      );
      assert.ok(
        fromB.length > 0 && fromB.length < expected.size,
        'tb restored the open days, not the stream start',
      );
      for (const r of [...fromA, ...fromB])
        assert.deepEqual({ ...r, seq: 0 }, expected.get(periodId(r)), periodId(r));
      assert.ok(
        bad.some((b) => /wind\.t0: payload has no "time"/.test(b)),
        bad.join('\n'),
      );
      assert.ok(
        bad.some((b) => /wind\.t1: payload "value" "high" is not a finite number/.test(b)),
        bad.join('\n'),
      );
      assert.ok(
        bad.some((b) => /wind\.t2: .*"wind\/t2" is in a period already emitted/.test(b)),
        bad.join('\n'),
      );
    } finally {
      await b.close();
    }
  });

  it('anomaly-stream: the next owner scores on, bit for bit as one uninterrupted detector', async () => {
    const expected = referenceScores();
    assert.ok([...expected.values()].some((r) => r.anomaly));
    const settings = {
      group: 'anomalies',
      operator: 'anomaly-stream' as const,
      sigmas: 2,
      windowSize: 20,
      minCount: 5,
    };
    const bad: string[] = [];
    const collect = (into: PartitionAnomalyResult[]): Partial<WorkerGroupEvents> => ({
      anomalies: (_p, results) => into.push(...results.filter((r) => r.key.startsWith('vib/'))),
      bad: (_p, _seq, subject, reason) => bad.push(`${subject}: ${reason}`),
    });
    const fromA: PartitionAnomalyResult[] = [];
    const a = startWorker({ ...settings, workerId: 'aa' }, collect(fromA));
    const firstPart = 67; // not a multiple of the window: the restored windows are mid-cycle
    await publish('vib', sensorReadings(0, firstPart));
    await cluster.client.jetstream().publish('gridflow.in.vib.s3', JSON.stringify({ time: T0, value: 1 }));
    await eventually('worker aa scored the first part', 30_000, async () =>
      fromA.length >= firstPart * SENSORS && bad.length >= 1 ? true : undefined,
    );
    await eventually('every sensor in an anomaly-stream checkpoint', 30_000, async () =>
      (await checkpointedKeys('anomalies', 'vib/')) === SENSORS ? true : undefined,
    );
    await a.close();

    const fromB: PartitionAnomalyResult[] = [];
    const b = startWorker({ ...settings, workerId: 'ab' }, collect(fromB));
    try {
      await publish('vib', sensorReadings(firstPart, SENSOR_ROUNDS));
      await eventually('every value scored', 30_000, async () =>
        new Set([...fromA, ...fromB].map(scoreId)).size >= expected.size ? true : undefined,
      );
      assert.ok(fromB.length < expected.size, 'ab restored the windows, not the stream start');
      for (const r of [...fromA, ...fromB])
        assert.deepEqual({ ...r, seq: 0 }, expected.get(scoreId(r)), scoreId(r));
      assert.ok(
        bad.some((b) => /vib\.s3: .*before the newest of key "vib\/s3"/.test(b)),
        bad.join('\n'),
      );
    } finally {
      await b.close();
    }
  });

  it('the nats-in node sends them shaped as the turbine-stats and anomaly-flagger nodes send theirs', async () => {
    const node = (id: string, settings: object) => ({
      id,
      type: 'nats-in',
      connection: 'nats',
      workerId: `node-${id}`,
      checkpointSeconds: 0.2,
      wires: [[], [`${id}-out`]],
      ...settings,
    });
    await helper.load([natsConnectionNode, natsInNode], [
      { id: 'nats', type: 'nats-connection', servers: cluster.urls.join(',') },
      node('ts', { group: 'node-turbines', operator: 'turbine-stats', minPower: '0', maxPower: '10' }),
      node('an', { group: 'node-anomalies', operator: 'anomaly-stream', windowSize: 20, minCount: 5 }),
      { id: 'ts-out', type: 'helper' },
      { id: 'an-out', type: 'helper' },
    ] as unknown as Parameters<typeof helper.load>[1]);
    const received = (id: string) => {
      const msgs: Record<string, unknown>[] = [];
      helper.getNode(id).on('input', (m: Record<string, unknown>) => msgs.push(m));
      return msgs;
    };
    const days = received('ts-out');
    const scores = received('an-out');
    try {
      // Both groups replay the stream the tests above filled.
      await eventually('turbine-days and scores from the nodes', 30_000, async () =>
        days.filter((m) => m.stream === 'wind').length >= 2 * TURBINES &&
        scores.filter((m) => m.stream === 'vib').length >= SENSORS * SENSOR_ROUNDS
          ? true
          : undefined,
      );
      const expectedDay = referenceTurbineDays().get(`wind/t3@${new Date(T0).toISOString()}`)!;
      const day = days.find((m) => m.topic === 'wind/t3' && m.day === expectedDay.period.day)!;
      assert.deepEqual(
        { topic: day.topic, key: day.key, day: day.day, period: day.period, payload: day.payload },
        {
          topic: 'wind/t3',
          key: 't3',
          day: '2026-03-27',
          period: expectedDay.period,
          payload: [{ ...expectedDay.stats, turbine_id: 't3' }],
        },
      );
      const expectedScore = referenceScores().get(`vib/s2@${T0 + 40_000}`)!;
      const score = scores.find(
        (m) => m.topic === 'vib/s2' && m.time === new Date(T0 + 40_000).toISOString(),
      )!;
      const { anomaly, z, mean, stdev, count } = expectedScore;
      assert.deepEqual(score.payload, {
        key: 's2',
        value: expectedScore.value,
        time: new Date(T0 + 40_000).toISOString(),
        anomaly,
        z,
        mean,
        stdev,
        count,
      });
      assert.equal(typeof score.partition, 'number');
      assert.equal(typeof score.seq, 'number');
    } finally {
      await helper.unload();
    }
  });
});
