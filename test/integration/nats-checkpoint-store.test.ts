/**
 * Large checkpoints on a real nats-server (JetStream, one server): a state over the inline
 * limit goes to the object store bucket and the KV entry holds the pointer and the stream
 * position; reads restore it; a replaced state's object is deleted; a stale revision
 * writes nothing, neither the pointer nor a leftover object. With the cov-resample operator,
 * a worker taking over a partition from its checkpoint gives exactly the half-hour buckets of
 * one uninterrupted CovResampler per meter; with the forecaster operator, exactly the forecasts
 * and accuracy of one uninterrupted ForecastStream per sensor.
 */
import assert from 'node:assert/strict';
import type { ObjectStore } from 'nats';
import { CovResampler } from '../../nodes/core/cov-resample';
import { ForecastStream, type ForecastSettings } from '../../nodes/core/forecast-stream';
import type { PartitionForecastResult } from '../../nodes/core/partition-forecaster';
import type { PartitionBucketResult, PartitionOperatorState } from '../../nodes/core/partition-operator';
import { PartitionWindows, type PartitionWindowResult } from '../../nodes/core/partition-windows';
import { openBuckets, type Buckets } from '../../nodes/nats-connection/nats-streams';
import { CheckpointStore } from '../../nodes/nats-in/checkpoint-store';
import {
  WorkerGroup,
  type WorkerGroupEvents,
  type WorkerGroupSettings,
} from '../../nodes/nats-in/worker-group';
import { eventually } from '../harness/eventually';
import { startTestNatsCluster, type TestNatsCluster } from '../harness/nats-cluster';

const LIMIT = 2048;
const KEYS = 20;
const ROUNDS = 240;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const resultId = (r: PartitionWindowResult) => `${r.key}@${r.endMs}`;

/** Every window of every key, from one single-process PartitionWindows per key. */
function referenceWindows(): Map<string, PartitionWindowResult> {
  const out = new Map<string, PartitionWindowResult>();
  for (let k = 0; k < KEYS; k++) {
    const windows = new PartitionWindows(300_000, 60_000);
    for (let i = 0; i < ROUNDS; i++) {
      const added = windows.add(`load/k${k}`, T0 + i * 1000, (k * 13 + i) / 8, 0);
      for (const r of added.ok ? added.results : []) out.set(resultId(r), r);
    }
  }
  return out;
}

/** A started worker of 8 partitions, 5-minute windows every minute, 3 s leases, 200 ms checkpoints. */
function startWorker(
  cluster: TestNatsCluster,
  buckets: Buckets,
  settings: Pick<WorkerGroupSettings, 'group' | 'workerId'> & Partial<WorkerGroupSettings>,
  events: Pick<WorkerGroupEvents, 'windows'> & Partial<WorkerGroupEvents>,
): WorkerGroup {
  const group = new WorkerGroup(
    cluster.client.jetstream(),
    buckets,
    { partitions: 8, windowMs: 300_000, hopMs: 60_000, leaseMs: 3000, checkpointMs: 200, ...settings },
    {
      sample: () => undefined,
      bad: (p, seq, subject, reason) => assert.fail(`bad ${p} ${seq} ${subject}: ${reason}`),
      lost: () => undefined,
      changed: () => undefined,
      warn: () => undefined,
      ...events,
    },
  );
  group.start();
  return group;
}

function startGroup(
  cluster: TestNatsCluster,
  buckets: Buckets,
  workerId: string,
  into: PartitionWindowResult[],
) {
  return startWorker(
    cluster,
    buckets,
    // Pane windows keep a few hundred bytes per key (docs/adr/0150): a lower limit puts every partition's state in the object store.
    { group: 'big', workerId, checkpointInlineMaxBytes: LIMIT / 8 },
    { windows: (_p, results) => into.push(...results) },
  );
}

function windowsWith(keys: number, seq: number): PartitionWindows {
  const windows = new PartitionWindows(300_000, 60_000);
  let position = 0;
  for (let i = 0; i < 20; i++)
    for (let k = 0; k < keys; k++) windows.add(`load/m${k}`, 1_000 + i * 1000, k + i / 8, ++position);
  windows.skip(seq);
  return windows;
}

/** COV meters: a reading every 90 s only when the value changed, one meter silent for over an hour. */
const METERS = 20;
const COV_ROUNDS = 240;
const HALF_HOUR = 1_800_000;
function meterReadings(from: number, to: number): { key: string; timeMs: number; value: number }[] {
  const out: { key: string; timeMs: number; value: number }[] = [];
  for (let i = from; i < to; i++)
    for (let m = 0; m < METERS; m++) {
      if ((i * (m + 1)) % 3 === 1 || (m === 0 && i >= 60 && i < 110)) continue;
      out.push({ key: `m${m}`, timeMs: T0 + i * 90_000 + m * 1000, value: ((m * 7 + i) % 13) / 4 });
    }
  return out;
}

const bucketId = (b: PartitionBucketResult) => `${b.key}@${b.startMs}`;

function referenceBuckets(): Map<string, PartitionBucketResult> {
  const perMeter = new Map<string, CovResampler>();
  const out = new Map<string, PartitionBucketResult>();
  for (const r of meterReadings(0, COV_ROUNDS)) {
    const key = `meter/${r.key}`;
    let resampler = perMeter.get(key);
    if (!resampler) {
      resampler = new CovResampler({
        bucketMs: HALF_HOUR,
        method: 'locf',
        timeZone: 'UTC',
        maxCarryMs: 0,
        graceMs: 0,
      });
      perMeter.set(key, resampler);
    }
    assert.equal(resampler.add(r.timeMs, r.value), undefined);
    for (const b of resampler.closeByData()) out.set(`${key}@${b.startMs}`, { key, ...b, seq: 0 });
  }
  return out;
}

function startCovGroup(
  cluster: TestNatsCluster,
  buckets: Buckets,
  workerId: string,
  into: PartitionBucketResult[],
) {
  return startWorker(
    cluster,
    buckets,
    { group: 'cov', workerId, operator: 'cov-resample', bucketMs: HALF_HOUR, method: 'locf' },
    {
      windows: () => assert.fail('the cov-resample operator emits buckets, not windows'),
      buckets: (_p, results) => into.push(...results.filter((b) => b.key.startsWith('meter/'))),
    },
  );
}

/** Forecasts: hourly samples of 10 sensors over 3 days, ridge on 24 h of history, refitted at 00:15 of the data. */
const SENSORS = 10;
const HOURS = 72;
const H = 3_600_000;
const FORECAST: ForecastSettings = {
  model: 'ridge',
  stepMs: H,
  season: 24,
  historySteps: 24,
  lags: [0, 1, 2],
  alphas: [0.5],
  ridgeLambda: 1e-4,
  accuracyWindow: 12,
  retrainAt: { hour: 0, minute: 15 },
  timeZone: 'UTC',
  latenessMs: 0,
};
const sensorValue = (s: number, i: number) =>
  10 + s + 4 * Math.sin((2 * Math.PI * (i + s)) / 24) + ((i * 7) % 5) / 10;
const forecastId = (r: PartitionForecastResult) =>
  `${r.key}@${r.kind}@${r.kind === 'forecast' ? r.forecast.timeMs : r.accuracy.targetTimeMs}`;

function referenceForecasts(): Map<string, PartitionForecastResult> {
  const out = new Map<string, PartitionForecastResult>();
  for (let s = 0; s < SENSORS; s++) {
    const key = `temp/s${s}`;
    const stream = new ForecastStream(FORECAST);
    for (let i = 0; i < HOURS; i++)
      for (const o of stream.add(T0 + i * H, sensorValue(s, i))) {
        assert.equal(o.kind, 'forecast');
        if (o.kind !== 'forecast') continue;
        const forecast: PartitionForecastResult = {
          key,
          seq: 0,
          kind: 'forecast',
          forecast: o.forecast,
          filled: 0,
        };
        out.set(forecastId(forecast), forecast);
        if (!o.accuracy) continue;
        const accuracy: PartitionForecastResult = { key, seq: 0, kind: 'accuracy', accuracy: o.accuracy };
        out.set(forecastId(accuracy), accuracy);
      }
  }
  return out;
}

function startForecastGroup(
  cluster: TestNatsCluster,
  buckets: Buckets,
  workerId: string,
  into: PartitionForecastResult[],
  bad: string[],
) {
  return startWorker(
    cluster,
    buckets,
    { group: 'fc', workerId, operator: 'forecaster', forecast: FORECAST },
    {
      windows: () => assert.fail('the forecaster operator emits forecasts, not windows'),
      forecasts: (_p, results) => into.push(...results.filter((r) => r.key.startsWith('temp/'))),
      // The group reads the whole stream: the other tests' 1-second samples are old steps here.
      bad: (_p, _seq, subject, reason) =>
        subject.includes('.temp.') ? bad.push(`${subject}: ${reason}`) : 0,
    },
  );
}

async function objectNames(objects: ObjectStore): Promise<string[]> {
  return (await objects.list()).filter((o) => !o.deleted).map((o) => o.name);
}

describe('nats-in checkpoints over the KV limit (object store, real nats-server)', function () {
  this.timeout(60_000);
  let cluster: TestNatsCluster;
  let buckets: Buckets;

  before(async () => {
    cluster = await startTestNatsCluster({ size: 1 });
    buckets = await openBuckets(cluster.client, 1);
  });
  after(async () => {
    await cluster?.dispose();
  });

  it('puts a large state in the object store behind a pointer, restores it, and cleans up replaced objects', async () => {
    const store = new CheckpointStore(buckets.checkpoints, buckets.checkpointObjects, LIMIT);
    const key = 'workers.p5';
    const large = windowsWith(50, 5_000);
    const largeText = JSON.stringify(large.toJSON());
    assert.ok(largeText.length > LIMIT);

    const first = await store.write(key, large.seq, largeText, 0);
    const pointer = (await buckets.checkpoints.get(key))!.json<{
      object: string;
      seq: number;
      bytes: number;
    }>();
    assert.deepEqual(pointer, { object: `${key}.5000`, seq: 5000, bytes: Buffer.byteLength(largeText) });
    assert.deepEqual(await objectNames(buckets.checkpointObjects), [`${key}.5000`]);

    // Another worker (a fresh store) restores exactly the state written.
    const restored = await new CheckpointStore(buckets.checkpoints, buckets.checkpointObjects, LIMIT).read(
      key,
    );
    assert.equal(restored.revision, first);
    assert.deepEqual(restored.state, large.toJSON());
    assert.deepEqual(PartitionWindows.fromJSON(restored.state!).toJSON(), large.toJSON());

    // A newer large state replaces the object; a stale revision writes nothing.
    const larger = windowsWith(60, 6_000);
    const second = await store.write(key, larger.seq, JSON.stringify(larger.toJSON()), first);
    assert.deepEqual(await objectNames(buckets.checkpointObjects), [`${key}.6000`]);
    await assert.rejects(store.write(key, 7_000, JSON.stringify(windowsWith(70, 7_000).toJSON()), first));
    assert.deepEqual(await objectNames(buckets.checkpointObjects), [`${key}.6000`]);
    assert.equal((await store.read(key)).state?.seq, 6_000);

    // A state that fits again goes inline and the object is deleted.
    const small = windowsWith(1, 8_000);
    const third = await store.write(key, small.seq, JSON.stringify(small.toJSON()), second);
    assert.ok(third > second);
    assert.equal((await buckets.checkpoints.get(key))!.json<{ seq: number }>().seq, 8_000);
    assert.deepEqual(await objectNames(buckets.checkpointObjects), []);
    assert.deepEqual((await store.read(key)).state, small.toJSON());
  });

  it('a worker taking over restores partitions from the object store and the results stay exact', async () => {
    const js = cluster.client.jetstream();
    const publishRounds = async (from: number, to: number) => {
      for (let i = from; i < to; i++)
        for (let k = 0; k < KEYS; k++)
          await js.publish(
            `gridflow.in.load.k${k}`,
            JSON.stringify({ time: T0 + i * 1000, value: (k * 13 + i) / 8 }),
          );
    };
    const expected = referenceWindows();
    const expectedBy = (beforeRound: number) =>
      [...expected.values()].filter((r) => r.endMs < T0 + beforeRound * 1000).length;
    const fromA: PartitionWindowResult[] = [];
    const a = startGroup(cluster, buckets, 'a', fromA);
    await publishRounds(0, ROUNDS / 2);
    await eventually('worker a emitted the first half', 30_000, async () =>
      fromA.length >= expectedBy(ROUNDS / 2 - 1) ? true : undefined,
    );
    const pointers = async () => {
      let n = 0;
      for (let p = 0; p < 8; p++)
        if ((await buckets.checkpoints.get(`big.p${p}`))?.json<{ object?: string }>().object) n++;
      return n;
    };
    await eventually('checkpoints of every partition in the object store', 30_000, async () =>
      (await pointers()) === (a.ownedPartitions().length || -1) ? true : undefined,
    );
    await a.close();

    const fromB: PartitionWindowResult[] = [];
    const b = startGroup(cluster, buckets, 'b', fromB);
    try {
      await publishRounds(ROUNDS / 2, ROUNDS);
      await eventually('every window emitted', 30_000, async () =>
        new Set([...fromA, ...fromB].map(resultId)).size >= expectedBy(ROUNDS - 1) ? true : undefined,
      );
      assert.ok(fromB.length < expectedBy(ROUNDS - 1), 'b replayed from the checkpoints, not from the start');
      for (const r of [...fromA, ...fromB]) {
        // The closing sample's position differs between the stream and the reference.
        assert.deepEqual({ ...r, seq: 0 }, { ...expected.get(resultId(r))!, seq: 0 }, resultId(r));
      }
    } finally {
      await b.close();
    }
  });

  it('cov-resample: a worker taking over a partition from its checkpoint emits exactly the half-hour buckets', async () => {
    const js = cluster.client.jetstream();
    const publish = async (from: number, to: number) => {
      for (const r of meterReadings(from, to))
        await js.publish(`gridflow.in.meter.${r.key}`, JSON.stringify({ time: r.timeMs, value: r.value }));
    };
    const expected = referenceBuckets();
    const expectedBefore = (timeMs: number) => [...expected.values()].filter((b) => b.endMs <= timeMs).length;
    const firstHalfEnd = T0 + (COV_ROUNDS / 2) * 90_000;
    const fromA: PartitionBucketResult[] = [];
    const a = startCovGroup(cluster, buckets, 'cov-a', fromA);
    await publish(0, COV_ROUNDS / 2);
    await eventually('worker a emitted the buckets of the first half', 30_000, async () =>
      fromA.length >= expectedBefore(firstHalfEnd - HALF_HOUR) ? true : undefined,
    );
    const checkpointedMeters = async () => {
      const meters = new Set<string>();
      for (let p = 0; p < 8; p++) {
        const state = (await buckets.checkpoints.get(`cov.p${p}`))?.json<PartitionOperatorState>();
        if (state && 'operator' in state)
          for (const key of Object.keys(state.keys)) if (key.startsWith('meter/')) meters.add(key);
      }
      return meters.size;
    };
    await eventually('every meter in a cov-resample checkpoint', 30_000, async () =>
      (await checkpointedMeters()) === METERS ? true : undefined,
    );
    await a.close();

    const fromB: PartitionBucketResult[] = [];
    const b = startCovGroup(cluster, buckets, 'cov-b', fromB);
    try {
      await publish(COV_ROUNDS / 2, COV_ROUNDS);
      await eventually('every bucket emitted', 30_000, async () =>
        new Set([...fromA, ...fromB].map(bucketId)).size >= expected.size ? true : undefined,
      );
      assert.ok(
        fromB.length > 0 && fromB.length < expected.size,
        'b replayed from the checkpoints, not from the start',
      );
      assert.ok(
        [...expected.values()].some((x) => x.filled),
        'the silent meter has buckets filled by carrying its last value',
      );
      for (const r of [...fromA, ...fromB]) {
        // The closing reading's position differs between the stream and the reference.
        assert.deepEqual({ ...r, seq: 0 }, expected.get(bucketId(r)), bucketId(r));
      }
    } finally {
      await b.close();
    }
  });
  it('forecaster: a worker taking over a partition from its checkpoint gives exactly the forecasts of one uninterrupted run', async () => {
    const js = cluster.client.jetstream();
    const publish = async (from: number, to: number) => {
      for (let i = from; i < to; i++)
        for (let s = 0; s < SENSORS; s++)
          await js.publish(
            `gridflow.in.temp.s${s}`,
            JSON.stringify({ time: T0 + i * H, value: sensorValue(s, i) }),
          );
    };
    const expected = referenceForecasts();
    const forecastsOf = (results: PartitionForecastResult[]) => new Set(results.map(forecastId)).size;
    const bad: string[] = [];
    const fromA: PartitionForecastResult[] = [];
    const a = startForecastGroup(cluster, buckets, 'fc-a', fromA, bad);
    await publish(0, HOURS / 2);
    const firstHalf = [...expected.values()].filter((r) =>
      r.kind === 'forecast'
        ? r.forecast.timeMs < T0 + (HOURS / 2) * H
        : r.accuracy.targetTimeMs < T0 + (HOURS / 2) * H,
    ).length;
    await eventually('worker a forecast the first half', 30_000, async () =>
      forecastsOf(fromA) >= firstHalf ? true : undefined,
    );
    const checkpointedSensors = async () => {
      const sensors = new Set<string>();
      for (let p = 0; p < 8; p++) {
        const state = (await buckets.checkpoints.get(`fc.p${p}`))?.json<PartitionOperatorState>();
        if (state && 'operator' in state && state.operator === 'forecaster')
          for (const key of Object.keys(state.keys)) if (key.startsWith('temp/')) sensors.add(key);
      }
      return sensors.size;
    };
    await eventually('every sensor in a forecaster checkpoint', 30_000, async () =>
      (await checkpointedSensors()) === SENSORS ? true : undefined,
    );
    await a.close();

    const fromB: PartitionForecastResult[] = [];
    const b = startForecastGroup(cluster, buckets, 'fc-b', fromB, bad);
    try {
      await publish(HOURS / 2, HOURS / 2 + 1);
      // A sample for a step already taken: refused with its reason, and the partition goes on.
      await js.publish('gridflow.in.temp.s0', JSON.stringify({ time: T0 + 3 * H, value: 99 }));
      await publish(HOURS / 2 + 1, HOURS);
      await eventually('every forecast emitted', 30_000, async () =>
        forecastsOf([...fromA, ...fromB]) >= expected.size ? true : undefined,
      );
      assert.ok(fromB.length > 0 && forecastsOf(fromB) < expected.size, 'b replayed from the checkpoints');
      assert.deepEqual(bad, [
        'gridflow.part.' +
          bad[0]?.split('.')[2] +
          '.temp.s0: key "temp/s0": sample at 2026-01-05T03:00:00.000Z is for the step at 2026-01-05T03:00:00.000Z, not after the key\'s last step (2026-01-06T12:00:00.000Z)',
      ]);
      const models = new Set(
        [...expected.values()].map((r) => (r.kind === 'forecast' ? r.forecast.model : '')),
      );
      assert.ok(
        models.has('ridge') && models.has('persistence'),
        'warm-up with persistence, then the fitted model',
      );
      for (const r of [...fromA, ...fromB])
        // The position that made it differs between the stream and the reference.
        assert.deepEqual({ ...r, seq: 0 }, expected.get(forecastId(r)), forecastId(r));
    } finally {
      await b.close();
    }
  });
});
