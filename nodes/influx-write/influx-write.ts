/**
 * influx-write: points from msgs → line protocol → batched HTTP writes, with a disk buffer
 * when InfluxDB is down (store and forward). Output 1: one receipt per acknowledged batch;
 * output 2: points InfluxDB (or we) refused, with the reason. See docs/adr/0020–0024.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import type { InfluxConnectionNode } from '../shared/influx-connection-settings';
import { CREATE_DATABASES, type CreateDatabases, type WriteTarget } from '../shared/influx-http';
import { InfluxWriter } from '../shared/influx-writer';
import { configNumber } from '../shared/config-number';
import { compactCount, showStatus } from '../shared/status';
import { isPointShape, LineBuilder, PRECISIONS, type Point, type Precision } from '../core/line-protocol';
import { failOnBadConfig } from '../shared/config-failure';

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
  const one = (item: unknown): Point | undefined => {
    if (isPointShape(item)) return item;
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
      if (!p) return `payload[${i}] is not a point, number or object of fields`;
      points[i] = p;
    }
    return points;
  }
  const p = one(payload);
  return p
    ? [p]
    : 'payload must be a point {measurement, tags, fields, timestamp}, an array of points, a number or an object of fields';
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
  function InfluxWriteNode(this: Node, config: InfluxWriteConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: ReturnType<typeof parseSettings>;
    try {
      settings = parseSettings(config);
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const connection = RED.nodes.getNode(config.connection) as InfluxConnectionNode | null;
    if (!connection) {
      node.error('no influx-connection selected');
      showStatus(node, 'error', 'no connection');
      return;
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
        node.warn(`InfluxDB refused ${lines.length} point(s): ${status} ${message}`);
        node.send([null, { topic: 'rejected', payload: lines, error: { status, message }, ...target }]);
      },
      onRetry: (message, delayMs) =>
        node.log(`write failed (${message}); next try in ${Math.round(delayMs)} ms`),
      onDropped: (points) => node.warn(`buffer full: dropped the ${points} oldest point(s)`),
      onDiskFault: (message) => {
        node.error(`disk buffer: ${message}`);
        refreshStatus();
      },
      onChange: refreshStatus,
    });
    const builder = new LineBuilder(settings.precision);
    const apiVersion = connection.settings.apiVersion;

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
      if (writer.lastError) return showStatus(node, 'warn', writer.lastError);
      showStatus(
        node,
        writer.writtenPoints > 0 ? 'ok' : 'idle',
        `written ${compactCount(writer.writtenPoints)}`,
      );
    }
    updateStatus();
    if (!connection.configured) node.warn('InfluxDB url is not set: points wait in the disk buffer');

    node.on('input', (input, send, done: Done) => {
      const msg = input as Msg;
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
        const result = builder.line(points[i], measurement, now);
        if (result.ok) writer.add(key, target, result.line);
        else {
          (rejected ??= []).push(points[i]);
          (reasons ??= []).push(result.reason);
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
      writer
        .close(Date.now() + CLOSE_BUDGET_MS)
        .catch((err: Error) => node.error(`closing: ${err.message}`))
        .then(() => done());
    });
  }
  RED.nodes.registerType('influx-write', InfluxWriteNode);
};
