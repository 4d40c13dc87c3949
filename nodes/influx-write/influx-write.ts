/**
 * influx-write: points from msgs → line protocol → batched HTTP writes, with a disk buffer
 * when InfluxDB is down (store and forward). Output 1: one receipt per acknowledged batch;
 * output 2: points InfluxDB (or we) refused, with the reason. See docs/adr/0020–0024.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { missingConnection, type InfluxConnectionNode } from '../shared/influx-connection-settings';
import {
  CREATE_DATABASES,
  type CreateDatabases,
  type InfluxHttp,
  type WriteTarget,
} from '../shared/influx-http';
import { InfluxWriter } from '../shared/influx-writer';
import { configNumber } from '../shared/config-number';
import { compactCount, showStatus } from '../shared/status';
import { isPointShape, LineBuilder, PRECISIONS, type Point, type Precision } from '../core/line-protocol';
import { quoteIdentifier } from '../core/influxql';
import { failEveryMsg, settingsOrFail } from '../shared/config-failure';
import {
  isPartialWrite,
  linesWithConflictingTypes,
  parseLine,
  refusedLines,
  type FieldType,
} from '../core/partial-write';
import { useNodeRedSettings } from '../shared/node-state';
import { onInput, registerNode } from '../shared/node-handler';
import { INFLUX_WRITE_MIGRATIONS } from './migrations';

interface InfluxWriteConfig extends NodeDef {
  connection: string;
  measurement: string;
  precision: string;
  batchSize: string | number;
  flushSeconds: string | number;
  bufferMegabytes: string | number;
  createDatabases?: string;
}

/** Node-RED gives a node 15 s to close; we stop trying a little before. */
const CLOSE_BUDGET_MS = 10_000;
const STATUS_EVERY_MS = 500;

function parseSettings(config: InfluxWriteConfig) {
  const precision = (config.precision || 'ms') as Precision;
  if (!PRECISIONS.includes(precision))
    throw new Error(`precision "${config.precision}" is not one of ns, us, ms, s`);
  const createDatabases = (config.createDatabases || 'configured') as CreateDatabases;
  if (!CREATE_DATABASES.includes(createDatabases))
    throw new Error(
      `createDatabases "${config.createDatabases}" is not one of ${CREATE_DATABASES.join(', ')}`,
    );
  return {
    createDatabases,
    measurement: (config.measurement ?? '').trim(),
    precision,
    batchSize: configNumber(config.batchSize, 'batchSize', 5000, { min: 1, max: 1_000_000, integer: true }),
    flushMs: configNumber(config.flushSeconds, 'flushSeconds', 1, { min: 0.01, max: 3600 }) * 1000,
    bufferBytes:
      configNumber(config.bufferMegabytes, 'bufferMegabytes', 100, { min: 0.1, max: 1e6 }) * 1024 * 1024,
  };
}

/** The points a msg carries: a point, an array of them, a number (field `value`) or an object of fields. */
function pointsOf(msg: Msg): Point[] | string {
  const payload = msg.payload;
  const tags = msg.tags as Point['tags'];
  const timestamp = msg.timestamp as Point['timestamp'];
  const one = (item: unknown): Point | string | undefined => {
    if (isPointShape(item)) return item;
    if (looksLikePointWithoutFields(item))
      return 'has measurement/tags/timestamp but no fields (a point needs fields: {name: value})';
    if (typeof item === 'number' || typeof item === 'bigint')
      return { fields: { value: item }, tags, timestamp };
    if (typeof item === 'object' && item !== null && !Array.isArray(item) && !(item instanceof Date))
      return { fields: item as Point['fields'], tags, timestamp };
    return undefined;
  };
  if (Array.isArray(payload)) {
    const points: Point[] = new Array(payload.length);
    for (let i = 0; i < payload.length; i++) {
      const p = one(payload[i]);
      if (typeof p === 'string') return `payload[${i}] ${p}`;
      if (!p) return `payload[${i}] is not a point, number or object of fields`;
      points[i] = p;
    }
    return points;
  }
  const p = one(payload);
  if (typeof p === 'string') return `payload ${p}`;
  return p
    ? [p]
    : 'payload must be a point {measurement, tags, fields, timestamp}, an array of points, a number or an object of fields';
}

/** `{measurement, tags, timestamp}` without `fields`: a point that lost its fields, not an object of fields. */
function looksLikePointWithoutFields(item: unknown): boolean {
  if (typeof item !== 'object' || item === null || Array.isArray(item) || 'fields' in item) return false;
  const { measurement, tags } = item as { measurement?: unknown; tags?: unknown };
  return typeof measurement === 'string' || (typeof tags === 'object' && tags !== null);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function targetOf(msg: Msg, apiVersion: string): { key: string; target: WriteTarget } {
  const target: WriteTarget = {};
  if (apiVersion === 'v2') {
    if (typeof msg.bucket === 'string' && msg.bucket) target.bucket = msg.bucket;
    if (typeof msg.org === 'string' && msg.org) target.org = msg.org;
  } else {
    if (typeof msg.database === 'string' && msg.database) target.database = msg.database;
    if (typeof msg.retentionPolicy === 'string' && msg.retentionPolicy)
      target.retentionPolicy = msg.retentionPolicy;
  }
  const key =
    target.bucket || target.org || target.database || target.retentionPolicy ? JSON.stringify(target) : '';
  return { key, target };
}

export = (RED: NodeAPI) => {
  useNodeRedSettings(RED);
  function InfluxWriteNode(this: Node, config: InfluxWriteConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const settings = settingsOrFail(node, () => parseSettings(config));
    if (!settings) return;
    const connection = RED.nodes.getNode(config.connection) as InfluxConnectionNode | null;
    if (!connection || connection.configError) {
      const why = connection?.configError ?? missingConnection(config.connection);
      return failEveryMsg(node, new Error(why), connection ? 'bad connection' : 'no connection');
    }
    const userDir =
      (RED.settings as { userDir?: string }).userDir || process.env.GRIDFLOW_USER_DIR || tmpdir();
    const bufferDir = join(userDir, 'gridflow-buffer', node.id.replace(/[^\w.-]/g, '_'));

    let statusTimer: NodeJS.Timeout | undefined;
    const refreshStatus = () => {
      if (statusTimer) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        updateStatus();
      }, STATUS_EVERY_MS);
    };
    const client = connection.createClient();
    if (client) client.createDatabases = settings.createDatabases;
    const writer = new InfluxWriter({
      client,
      precision: settings.precision,
      batchSize: settings.batchSize,
      flushMs: settings.flushMs,
      bufferDir,
      bufferBytes: settings.bufferBytes,
      onWritten: (points, target) => node.send([{ topic: 'written', payload: { points, ...target } }, null]),
      onRejected: (lines, status, message, target) => {
        if (isPartialWrite(message)) return void reportPartialWrite(lines, status, message, target);
        node.warn(`InfluxDB refused ${plural(lines.length, 'point')}: ${status} ${message}`);
        node.send([null, { topic: 'rejected', payload: lines, error: { status, message }, ...target }]);
      },
      onRetry: (message, delayMs) =>
        node.log(`write failed (${message}); next try in ${Math.round(delayMs)} ms`),
      onDropped: (points) => node.warn(`buffer full: dropped the oldest ${plural(points, 'point')}`),
      onDiskFault: (message) => {
        node.error(`disk buffer: ${message}`);
        refreshStatus();
      },
      onChange: refreshStatus,
    });
    const builder = new LineBuilder(settings.precision);
    const apiVersion = connection.settings.apiVersion;
    /** Points stored from batches InfluxDB took in part (the writer counts whole batches). */
    let writtenInPartialBatches = 0;
    let typeClient: InfluxHttp | undefined;

    /**
     * A partial write: InfluxDB stored all but `dropped=N` lines. Output 1 gets the
     * stored count, output 2 only the refused lines. The answer names one field-type
     * conflict; when more lines were dropped, the server's field types say which.
     */
    async function reportPartialWrite(lines: string[], status: number, message: string, target: WriteTarget) {
      const answer = refusedLines(lines, message);
      let refused = answer.refused;
      if (answer.typeConflict && answer.dropped !== undefined && refused.length < answer.dropped) {
        refused = await conflictsWithServerTypes(lines, target, refused).catch((err: Error) => {
          node.warn(`could not read field types to find the refused lines: ${err.message}`);
          return refused;
        });
      }
      const stored = Math.max(0, lines.length - (answer.dropped ?? refused.length));
      writtenInPartialBatches += stored;
      node.warn(
        `InfluxDB stored ${plural(stored, 'point')} of a batch of ${lines.length} and refused ` +
          `${answer.dropped ?? refused.length}: ${message}`,
      );
      node.send([
        stored > 0 ? { topic: 'written', payload: { points: stored, ...target } } : null,
        {
          topic: 'rejected',
          payload: refused,
          error: { status, message, dropped: answer.dropped ?? refused.length },
          ...target,
        },
      ]);
      refreshStatus();
    }

    /** v1: the lines whose field types differ from those the database now holds. */
    async function conflictsWithServerTypes(
      lines: string[],
      target: WriteTarget,
      named: string[],
    ): Promise<string[]> {
      if (apiVersion !== 'v1') return named;
      typeClient ??= connection!.createClient();
      if (!typeClient) return named;
      const measurements = new Set(
        lines.map((l) => parseLine(l)?.measurement).filter((m) => m !== undefined),
      );
      const serverTypes = new Map<string, Map<string, FieldType>>();
      for (const measurement of measurements) {
        const rows = await typeClient.influxql(
          `SHOW FIELD KEYS FROM ${quoteIdentifier(measurement)}`,
          '',
          target.database,
        );
        serverTypes.set(
          measurement,
          new Map(rows.map((r) => [String(r.fieldKey), String(r.fieldType) as FieldType])),
        );
      }
      return linesWithConflictingTypes(lines, serverTypes);
    }

    function updateStatus() {
      // red while points wait in memory instead of on disk, yellow once they are sent
      if (writer.diskFaultCode) {
        const inMemory = writer.unacknowledgedPoints - writer.bufferedPoints;
        return showStatus(node, inMemory > 0 ? 'error' : 'warn', `disk: ${writer.diskFaultCode}`);
      }
      if (writer.quarantinedPoints > 0)
        return showStatus(node, 'error', `quarantined ${compactCount(writer.quarantinedPoints)}`);
      if (writer.droppedPoints > 0)
        return showStatus(node, 'error', `dropped ${compactCount(writer.droppedPoints)}`);
      if (writer.bufferedPoints > 0)
        return showStatus(node, 'warn', `buffered ${compactCount(writer.bufferedPoints)}`);
      if (!connection!.configured) return showStatus(node, 'warn', 'not configured');
      if (writer.lastError && !isPartialWrite(writer.lastError))
        return showStatus(node, 'warn', writer.lastError);
      const written = writer.writtenPoints + writtenInPartialBatches;
      showStatus(node, written > 0 ? 'ok' : 'idle', `written ${compactCount(written)}`);
    }
    updateStatus();
    if (!connection.configured)
      node.warn(
        'InfluxDB url is not set (set it in the influx-connection node, or INFLUX_URL when the url is ${INFLUX_URL}): ' +
          'points wait in the disk buffer',
      );

    onInput(node, (msg, send, done) => {
      if (msg.flush === true && msg.payload === undefined) {
        writer.flush();
        return done();
      }
      const points = pointsOf(msg);
      if (typeof points === 'string') return done(new Error(points));
      const { key, target } = targetOf(msg, apiVersion);
      const measurement =
        settings.measurement || (typeof msg.measurement === 'string' ? msg.measurement : undefined);
      const now = Date.now();
      let rejected: Point[] | undefined;
      let reasons: string[] | undefined;
      for (let i = 0; i < points.length; i++) {
        const point = points[i];
        const reason = writer.addWith(key, target, (sink) => builder.write(point, measurement, now, sink));
        if (reason !== undefined) {
          (rejected ??= []).push(point);
          (reasons ??= []).push(reason);
        }
      }
      if (msg.flush === true) writer.flush();
      if (rejected && reasons) {
        (send as Send)([
          null,
          { topic: 'invalid', payload: rejected, error: { status: 0, message: reasons[0] }, reasons },
        ]);
        if (rejected.length === points.length) return done(new Error(reasons[0]));
      }
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = undefined;
      typeClient?.close();
      writer
        .close(Date.now() + CLOSE_BUDGET_MS)
        .catch((err: Error) => node.error(`closing: ${err.message}`))
        .then(() => done());
    });
  }
  registerNode(RED, 'influx-write', INFLUX_WRITE_MIGRATIONS, InfluxWriteNode);
};
