/**
 * nats-in: one worker of a worker group on a partitioned JetStream stream. Owns the
 * partitions its leases give it, restores each partition's checkpoint, replays from the
 * position it covers and emits (1) every sample and (2) per `<stream>/<key>` every 5-minute
 * window (or as configured) or, with operator cov-resample, every half-hour bucket of the
 * COV readings (as the cov-resampler emits them), with turbine-stats every turbine-day, with
 * anomaly-stream every scored value, or with forecaster every forecast and its accuracy (as
 * those nodes emit them), decided by event time (docs/scale-out.md).
 */
import { hostname } from 'node:os';
import { bucketPayload, type ResampleMethod } from '../core/cov-resample';
import {
  createPartitionOperator,
  type OperatorKind,
  type OperatorSettings,
  type PartitionBucketResult,
} from '../core/partition-operator';
import type { PartitionWindowResult } from '../core/partition-windows';
import type { PartitionTurbineResult } from '../core/partition-turbine-stats';
import type { PartitionAnomalyResult } from '../core/partition-anomaly';
import { DEFAULT_MAD_THRESHOLD, IMPUTE_METHODS, type ImputeMethod } from '../core/turbine-cleaning';
import { assertTimeZone } from '../core/time-zone';
import { ensureStreamLayout, openBuckets, type NatsConnectionNode } from '../nats-connection/nats-streams';
import { configNumber } from '../shared/config-number';
import { failOnBadConfig } from '../shared/config-failure';
import type { Msg, Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { compactCount, showStatus } from '../shared/status';
import type { StreamSample } from './stream-sample';
import { WorkerGroup, type WorkerGroupSettings } from './worker-group';
import { registerNode } from '../shared/node-handler';
import { NATS_IN_MIGRATIONS } from './migrations';
import { parseForecastConfig, type ForecastConfig } from '../shared/forecast-config';
import { accuracyPayload, forecastPayload } from '../core/forecast-stream';
import type { PartitionForecastResult } from '../core/partition-forecaster';

interface NatsInConfig extends NodeDef, ForecastConfig {
  connection?: string;
  group?: string;
  workerId?: string;
  partitions?: string | number;
  replicas?: string | number;
  windowSeconds?: string | number;
  hopSeconds?: string | number;
  leaseSeconds?: string | number;
  checkpointSeconds?: string | number;
  idleSeconds?: string | number;
  maxKeys?: string | number;
  operator?: string;
  bucketSeconds?: string | number;
  method?: string;
  timezone?: string;
  periodSeconds?: string | number;
  impute?: string;
  minPower?: string | number;
  maxPower?: string | number;
  madThreshold?: string | number;
  sigmas?: string | number;
  windowSize?: string | number;
  minCount?: string | number;
}

const OPERATORS: OperatorKind[] = [
  'moving-window',
  'cov-resample',
  'turbine-stats',
  'anomaly-stream',
  'forecaster',
];

function optionalNumber(raw: unknown, name: string): number | undefined {
  return raw === undefined || raw === null || String(raw).trim() === ''
    ? undefined
    : configNumber(raw, name, 0);
}

/** The turbine-stats and anomaly-flagger settings, under those nodes' names; read only for their operator. */
function parseNodeOperator(config: NatsInConfig, operator: OperatorKind): Partial<OperatorSettings> {
  if (operator === 'turbine-stats') {
    const impute = (config.impute || 'linear') as ImputeMethod;
    if (!IMPUTE_METHODS.includes(impute))
      throw new Error(`impute "${impute}" must be ${IMPUTE_METHODS.join(', ')}`);
    return {
      periodSeconds: configNumber(config.periodSeconds, 'periodSeconds', 86400, { min: 1, integer: true }),
      impute,
      minPower: optionalNumber(config.minPower, 'minPower'),
      maxPower: optionalNumber(config.maxPower, 'maxPower'),
      madThreshold: configNumber(config.madThreshold, 'madThreshold', DEFAULT_MAD_THRESHOLD, { min: 0 }),
    };
  }
  if (operator === 'anomaly-stream') {
    const windowSize = configNumber(config.windowSize, 'windowSize', 100, { min: 2, integer: true });
    return {
      sigmas: configNumber(config.sigmas, 'sigmas', 2, { min: Number.MIN_VALUE }),
      windowSize,
      minCount: configNumber(config.minCount, 'minCount', 10, { min: 2, max: windowSize, integer: true }),
    };
  }
  return {};
}

function parseOperator(config: NatsInConfig) {
  const operator = (config.operator || 'moving-window') as OperatorKind;
  if (!OPERATORS.includes(operator))
    throw new Error(`operator "${operator}" must be ${OPERATORS.join(' or ')}`);
  const method = (config.method || 'locf') as ResampleMethod;
  if (method !== 'locf' && method !== 'linear') throw new Error(`method "${method}" must be locf or linear`);
  const timeZone = config.timezone || 'UTC';
  assertTimeZone(timeZone);
  const bucketMs = configNumber(config.bucketSeconds, 'bucketSeconds', 1800, { min: 1 }) * 1000;
  const forecast = operator === 'forecaster' ? parseForecastConfig(config) : undefined;
  return { operator, bucketMs, method, timeZone, forecast, ...parseNodeOperator(config, operator) };
}

function parseSettings(config: NatsInConfig): WorkerGroupSettings & { replicas: number } {
  const settings = parseGroupSettings(config);
  createPartitionOperator(settings); // its own checks (period, power bounds, minCount) at deploy, not at the first claim
  return settings;
}

function parseGroupSettings(config: NatsInConfig): WorkerGroupSettings & { replicas: number } {
  const group = (config.group || 'workers').trim();
  if (!/^[\w-]+$/.test(group)) throw new Error(`group "${group}" may hold only letters, digits, _ and -`);
  const leaseMs = configNumber(config.leaseSeconds, 'leaseSeconds', 6, { min: 1 }) * 1000;
  const checkpointMs = configNumber(config.checkpointSeconds, 'checkpointSeconds', 2, { min: 0.1 }) * 1000;
  const workerId = (config.workerId ?? '').trim();
  return {
    group,
    workerId: workerId && !workerId.includes('${') ? workerId : `${hostname()}-${process.pid}`,
    partitions: configNumber(config.partitions, 'partitions', 8, { min: 1, integer: true }),
    replicas: configNumber(config.replicas, 'replicas', 3, { min: 1, integer: true }),
    windowMs: configNumber(config.windowSeconds, 'windowSeconds', 300, { min: 0.001 }) * 1000,
    hopMs: configNumber(config.hopSeconds, 'hopSeconds', 60, { min: 0.001 }) * 1000,
    idleMs: configNumber(config.idleSeconds, 'idleSeconds', 0, { min: 0 }) * 1000,
    maxKeys: configNumber(config.maxKeys, 'maxKeys', 100_000, { min: 1, integer: true }),
    leaseMs,
    checkpointMs,
    ...parseOperator(config),
  };
}

function sampleMsg(partition: number, s: StreamSample): Msg {
  return {
    topic: `${s.stream}/${s.key}`,
    payload: s.value,
    time: new Date(s.timeMs).toISOString(),
    stream: s.stream,
    key: s.key,
    partition,
    seq: s.seq,
  } as Msg;
}

/** topic `<stream>/<key>` and its two parts. */
function stream(key: string) {
  const slash = key.indexOf('/');
  return { topic: key, stream: key.slice(0, slash), key: key.slice(slash + 1) };
}

function windowMsg(partition: number, w: PartitionWindowResult): Msg {
  return {
    ...stream(w.key),
    partition,
    seq: w.seq,
    payload: {
      start: new Date(w.startMs).toISOString(),
      end: new Date(w.endMs).toISOString(),
      count: w.count,
      mean: w.mean,
      min: w.min,
      max: w.max,
    },
  } as Msg;
}

/** Shaped as the cov-resampler's output, plus where it came from in the stream. */
function bucketMsg(partition: number, b: PartitionBucketResult): Msg {
  return {
    ...stream(b.key),
    partition,
    seq: b.seq,
    payload: bucketPayload(b),
  } as Msg;
}

/** Shaped as turbine-stats' first output (payload: the turbine's stats of the period), topic the key. */
function turbineMsg(partition: number, r: PartitionTurbineResult): Msg {
  const where = stream(r.key);
  return {
    ...where,
    partition,
    seq: r.seq,
    day: r.period.day,
    period: r.period,
    payload: [{ ...r.stats, turbine_id: where.key }],
  } as Msg;
}

/** Shaped as the anomaly-flagger's first output for payload {key, value}: the flags beside the value. */
function anomalyMsg(partition: number, r: PartitionAnomalyResult): Msg {
  const where = stream(r.key);
  const time = new Date(r.timeMs).toISOString();
  const { anomaly, z, mean, stdev, count } = r;
  return {
    ...where,
    partition,
    seq: r.seq,
    time,
    payload: { key: where.key, value: r.value, time, anomaly, z, mean, stdev, count },
  } as Msg;
}

/** Shaped as the forecaster's output 1 (`result: 'forecast'`) or output 2 (`result: 'accuracy'`). */
function forecastMsg(partition: number, r: PartitionForecastResult): Msg {
  const from = { ...stream(r.key), partition, seq: r.seq, result: r.kind };
  if (r.kind === 'accuracy') return { ...from, payload: accuracyPayload(r.accuracy) } as Msg;
  return { ...from, payload: forecastPayload(r.forecast), filled: r.filled } as Msg;
}

export = (RED: NodeAPI) => {
  function NatsInNode(this: Node, config: NatsInConfig) {
    RED.nodes.createNode(this, config);
    try {
      startWorker.call(this, config);
    } catch (err) {
      failOnBadConfig(this, err);
    }
  }

  function startWorker(this: Node, config: NatsInConfig) {
    const settings = parseSettings(config);
    const connection = RED.nodes.getNode(config.connection ?? '') as NatsConnectionNode | null;
    if (!connection?.configured) {
      showStatus(this, 'idle', 'off: no servers');
      return;
    }
    let group: WorkerGroup | undefined;
    let closing = false;
    let badCount = 0;
    const showOwned = () => {
      const owned = group?.ownedPartitions().length ?? 0;
      const bad = badCount > 0 ? ` · ${compactCount(badCount)} bad` : '';
      showStatus(this, badCount > 0 ? 'warn' : 'ok', `${owned} parts${bad}`);
    };
    const events = {
      sample: (p: number, s: StreamSample) => this.send([sampleMsg(p, s), null]),
      windows: (p: number, results: PartitionWindowResult[]) =>
        this.send([null, results.map((w) => windowMsg(p, w))]),
      buckets: (p: number, results: PartitionBucketResult[]) =>
        this.send([null, results.map((b) => bucketMsg(p, b))]),
      turbineStats: (p: number, results: PartitionTurbineResult[]) =>
        this.send([null, results.map((r) => turbineMsg(p, r))]),
      anomalies: (p: number, results: PartitionAnomalyResult[]) =>
        this.send([null, results.map((r) => anomalyMsg(p, r))]),
      forecasts: (p: number, results: PartitionForecastResult[]) =>
        this.send([null, results.map((r) => forecastMsg(p, r))]),
      bad: (p: number, seq: number, subject: string, reason: string) => {
        badCount++;
        this.error(`partition ${p} seq ${seq} (${subject}): ${reason}; skipped`, {
          topic: subject,
          partition: p,
          seq,
        });
        showOwned();
      },
      lost: () => undefined,
      changed: () => {
        this.log(`worker ${settings.workerId} owns partitions [${group?.ownedPartitions().join(',')}]`);
        showOwned();
      },
      warn: (text: string) => this.warn(text),
    };
    showStatus(this, 'busy', 'connecting');
    const join = async (): Promise<void> => {
      const nc = await connection.connection();
      await ensureStreamLayout(nc, { replicas: settings.replicas });
      const buckets = await openBuckets(nc, settings.replicas);
      if (closing) return;
      group = new WorkerGroup(nc.jetstream(), buckets, settings, events);
      group.start();
      showOwned();
    };
    // The cluster may still be electing its JetStream leader: keep trying until it answers.
    const started = (async () => {
      for (let attempt = 1; !closing; attempt++) {
        try {
          return await join();
        } catch (err) {
          if (attempt === 1 || attempt % 10 === 0)
            this.warn(`cannot join worker group "${settings.group}" yet: ${(err as Error).message}`);
          showStatus(this, 'error', 'not connected');
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    })();

    this.on('close', (done: () => void) => {
      closing = true;
      started
        .then(() => group?.close())
        .catch(() => undefined)
        .finally(() => done());
    });
  }
  registerNode(RED, 'nats-in', NATS_IN_MIGRATIONS, NatsInNode);
};
