/**
 * Each node's config as flows saved it at each version: index = version (0 = saved before
 * versions existed, the shape of the node's first release, from `git log -p` of its
 * editor defaults), the last entry = today's shape. Migrating any entry gives the last.
 * The pattern of node-red-contrib-home-assistant-websocket's test/migrations/*.test.ts.
 */
import type { SavedConfig } from '../../../nodes/shared/config-migrations';

type Chain = readonly SavedConfig[];

/** A chain whose only step names the version: the first release's shape is today's. */
function unchanged(first: SavedConfig): Chain {
  return [first, { ...first, version: 1 }];
}

export const SAVED_CONFIGS: Record<string, Chain> = {
  'aedes-broker': [
    { name: '', port: '1883', bind: '127.0.0.1', wsPort: '', anonymous: 'loopback', accessRules: '' },
    {
      name: '',
      port: '1883',
      bind: '127.0.0.1',
      wsPort: '',
      anonymous: 'loopback',
      accessRules: '',
      version: 1,
    },
    // before the output (issue 16)
    {
      name: '',
      port: '1883',
      bind: '127.0.0.1',
      wsPort: '',
      anonymous: 'loopback',
      accessRules: '',
      subscribe: '',
      datatype: 'auto',
      version: 2,
    },
  ],
  'anomaly-flagger': [
    // 97b26e8: the threshold was `k`
    {
      name: '',
      mode: 'stream',
      k: 3,
      property: 'payload',
      keyProperty: 'topic',
      windowSize: 20,
      minCount: 5,
    },
    {
      name: '',
      mode: 'stream',
      sigmas: 3,
      property: 'payload',
      keyProperty: 'topic',
      windowSize: 20,
      minCount: 5,
      version: 1,
    },
  ],
  'api-endpoint': unchanged({
    name: '',
    baseUrl: 'https://api.openweathermap.org',
    authIn: 'query',
    authName: 'appid',
    keyRequired: true,
    keyEnv: 'OWM_API_KEY',
    timeoutSeconds: 10,
    rateRequests: 60,
    ratePeriodSeconds: 60,
    maxResponseMegabytes: 16,
  }),
  'api-poller': (() => {
    const first = {
      name: '',
      endpoint: 'endpoint',
      url: '/data/3.0/onecall',
      targetsFrom: 'none',
      targetsFile: '',
      targetsJson: '[]',
      schedule: 'aligned',
      intervalSeconds: 60,
      offsetSeconds: 0,
      pollOnStart: true,
      recordsPath: '',
      timeField: '',
      timeUnit: 'ms',
      output: 'record',
      maxRetries: 3,
      backoffBaseSeconds: 1,
      backoffMaxSeconds: 60,
      watchdogSeconds: 0,
      workerIndex: 0,
      workerCount: 1,
    };
    // c33a4d8 added maxFutureSeconds
    return [first, { ...first, maxFutureSeconds: 300, version: 1 }];
  })(),
  'carbon-footprint': unchanged({ name: '', keyProperty: 'topic', dateProperty: 'target.date' }),
  'cov-filter': [
    // 60c5569, before event time (fcafa9d)
    { name: '', property: 'payload', keyProperty: 'topic', absolute: 1, percent: 0, heartbeatSeconds: 0 },
    {
      name: '',
      property: 'payload',
      keyProperty: 'topic',
      absolute: 1,
      percent: 0,
      heartbeatSeconds: 0,
      timeProperty: '',
      latenessSeconds: 0,
      idleSeconds: '',
      maxFutureSeconds: 300,
      version: 1,
    },
  ],
  'cov-resampler': (() => {
    const first = {
      name: '',
      property: 'payload',
      timeProperty: 'timestamp',
      keyProperty: 'topic',
      bucketSeconds: 1800,
      method: 'locf',
      timezone: 'UTC',
      maxCarrySeconds: 0,
      graceSeconds: 0,
    };
    // f4dbf9f added idleSeconds and maxFutureSeconds
    return [first, { ...first, idleSeconds: 60, maxFutureSeconds: 300, version: 1 }];
  })(),
  'csv-source': unchanged({
    name: '',
    path: '',
    delimiter: ',',
    quote: '"',
    decimalComma: false,
    hasHeader: true,
    columns: '',
    timeColumn: '',
    timeFormat: 'auto',
    timezone: 'UTC',
    numberColumns: '',
    output: 'rows',
    tagColumns: '',
    fieldColumns: '',
    fileTag: '',
    batchSize: 5000,
    readOnStart: false,
    watch: false,
    doneFolder: '',
  }),
  'footprint-request': unchanged({ name: '', measurement: 'carbon_footprint', tag: 'asset_id' }),
  'footprint-response': unchanged({ name: '' }),
  forecaster: (() => {
    const first = {
      name: '',
      stepSeconds: 3600,
      season: 24,
      historySteps: 120,
      accuracyWindow: 168,
      retrainAt: '00:15',
      timezone: 'UTC',
      property: 'payload',
      timeProperty: 'timestamp',
      keyProperty: 'topic',
    };
    // 4a0a8dd added event time
    return [first, { ...first, latenessSeconds: 0, idleSeconds: 300, maxFutureSeconds: 300, version: 1 }];
  })(),
  'influx-connection': unchanged({
    name: '',
    url: 'http://127.0.0.1:8086',
    apiVersion: 'v1',
    database: 'gridflow',
    retentionPolicy: '',
    org: '',
    bucket: 'gridflow',
  }),
  'influx-query': unchanged({ name: '', connection: 'conn', query: '' }),
  // baa6411 added createDatabases: blank = 'configured', chosen on purpose for old flows too
  'influx-write': unchanged({
    name: '',
    connection: 'conn',
    measurement: '',
    precision: 'ms',
    batchSize: 5000,
    flushSeconds: 1,
    bufferMegabytes: 100,
  }),
  'moving-window': [
    // 60c5569: aggregates as text, before event time (df7ffd5) and emitWarmup (8a8b0b7)
    {
      name: '',
      property: 'payload',
      keyProperty: 'topic',
      timeProperty: '',
      windowSeconds: 300,
      hopSeconds: 0,
      countWindow: 3,
      aggregates: 'mean, max,',
      latenessSeconds: 0,
      emitEmpty: false,
      keyTtlSeconds: 0,
    },
    {
      name: '',
      property: 'payload',
      keyProperty: 'topic',
      timeProperty: '',
      windowSeconds: 300,
      hopSeconds: 0,
      countWindow: 3,
      aggregates: ['mean', 'max'],
      latenessSeconds: 0,
      emitEmpty: false,
      keyTtlSeconds: 0,
      idleSeconds: '',
      maxFutureSeconds: 300,
      lateOutput: 'output',
      emitWarmup: true,
      maxKeys: 100000,
      checkpointSeconds: 60,
      version: 1,
    },
    {
      // before the batch output (issue 16)
      name: '',
      property: 'payload',
      keyProperty: 'topic',
      timeProperty: '',
      windowSeconds: 300,
      hopSeconds: 0,
      countWindow: 3,
      aggregates: ['mean', 'max'],
      latenessSeconds: 0,
      emitEmpty: false,
      keyTtlSeconds: 0,
      idleSeconds: '',
      maxFutureSeconds: 300,
      lateOutput: 'output',
      emitWarmup: true,
      maxKeys: 100000,
      checkpointSeconds: 60,
      output: 'each',
      version: 2,
    },
  ],
  'nats-connection': unchanged({
    name: '',
    servers: '${GRIDFLOW_NATS_URL}',
    tls: false,
    caFile: '',
    certFile: '',
    keyFile: '',
  }),
  'nats-in': unchanged({
    name: '',
    connection: 'nats',
    group: 'workers',
    workerId: '${GRIDFLOW_WORKER_ID}',
    partitions: 8,
    replicas: 3,
    windowSeconds: 300,
    hopSeconds: 60,
    leaseSeconds: 6,
    checkpointSeconds: 2,
  }),
  'nats-out': unchanged({ name: '', connection: 'nats', subject: '' }),
  'rain-next-hour': unchanged({ name: '', property: 'payload', horizonMinutes: 30, unit: 'mm' }),
  'series-request': [
    // 7ee1c36, before rollups (9ddadec)
    { name: '', measurement: 'grid_frequency', field: 'hz', tag: 'series' },
    {
      name: '',
      measurement: 'grid_frequency',
      field: 'hz',
      tag: 'series',
      rollupLevels: '',
      rollupRetentionPolicy: '',
      version: 1,
    },
  ],
  'series-response': unchanged({ name: '' }),
  'series-rollup': unchanged({ name: '', field: 'hz', tag: 'series', retentionPolicy: '' }),
  'turbine-stats': (() => {
    const first = {
      name: '',
      turbineProperty: 'turbine_id',
      timeProperty: 'timestamp',
      powerProperty: 'power_output',
      periodSeconds: 86400,
      timezone: 'UTC',
      impute: 'linear',
      minPower: '',
      maxPower: '',
      madThreshold: 6,
      closeOnData: true,
    };
    // e2f1e2a added the event-time watermark
    return [first, { ...first, latenessSeconds: 0, idleSeconds: 300, maxFutureSeconds: 300, version: 1 }];
  })(),
};
