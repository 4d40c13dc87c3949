/**
 * series-rollup: points in (e.g. from csv-source) → the same msg out on output 1 (raw, to
 * influx-write) and, on output 2, the 1 min / 15 min / 1 h / 1 d buckets the rows closed, as
 * points of `<measurement>_<level>` with `mean, min, max, count, sum` (the coarsest level
 * also `first_ms, last_ms, step_ms` for the catalog), one msg per level with `msg.retentionPolicy` for influx-write. Buckets close in
 * event time (nodes/core/series-rollup.ts, docs/adr/0090); `msg.flush` closes the rest.
 */
import { parseLevels, SeriesRollup, type RollupBucket } from '../core/series-rollup';
import { quotePlainIdentifier } from '../core/series-query';
import { toEpochMs } from '../core/timestamp';
import { configNumber } from '../shared/config-number';
import { clearRollupWatermark, setRollupWatermark } from '../shared/rollup-progress';
import { settingsOrFail } from '../shared/config-failure';
import { compactCount, showStatus, countOf } from '../shared/status';
import type { Msg, Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { onInput, registerNode } from '../shared/node-handler';
import { SERIES_ROLLUP_MIGRATIONS } from './migrations';

interface SeriesRollupConfig extends NodeDef {
  levels?: string;
  field?: string;
  tag?: string;
  latenessSeconds?: string | number;
  retentionPolicy?: string;
}

interface RollupPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  timestamp: number;
}

function parseSettings(config: SeriesRollupConfig) {
  const settings = {
    levels: parseLevels(config.levels ?? '1m,15m,1h,1d'),
    field: (config.field || 'hz').trim(),
    tag: (config.tag || 'series').trim(),
    latenessMs: configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000,
    retentionPolicy: (config.retentionPolicy ?? '').trim(),
  };
  quotePlainIdentifier(settings.field, 'field');
  quotePlainIdentifier(settings.tag, 'tag');
  for (const level of settings.levels) {
    const rp = retentionPolicyOf(settings.retentionPolicy, level.name);
    if (rp) quotePlainIdentifier(rp, 'retention policy');
  }
  return settings;
}

function retentionPolicyOf(template: string, level: string): string {
  return template.replace(/\{level\}/g, level);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export = (RED: NodeAPI) => {
  function SeriesRollupNode(this: Node, config: SeriesRollupConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const settings = settingsOrFail(node, () => parseSettings(config));
    if (!settings) return;
    const rollup = new SeriesRollup(settings.levels, settings.latenessMs);
    const coarsest = rollup.levels[rollup.levels.length - 1].name;
    // the core keys state by one string: measurement and series tag, split again on output
    const keys = new Map<string, { measurement: string; series: string }>();
    let rows = 0;
    let buckets = 0;
    let last = { measurement: '', series: '', key: '' };
    const touched = new Set<string>();
    /** Tells series-request how far each series' rollups are written (nodes/shared/rollup-progress). */
    const publishWatermarks = () => {
      for (const k of touched) {
        const key = keys.get(k);
        const watermarkMs = rollup.watermark(k);
        if (key && watermarkMs !== undefined) setRollupWatermark(key.measurement, key.series, watermarkMs);
      }
      touched.clear();
    };
    const forgetAll = () => {
      for (const key of keys.values()) clearRollupWatermark(key.measurement, key.series);
      keys.clear();
      touched.clear();
      last = { measurement: '', series: '', key: '' };
    };
    showStatus(node, 'idle', 'ready');

    const toMsgs = (closed: RollupBucket[]): Msg[] => {
      const byLevel = new Map<string, RollupPoint[]>();
      for (const b of closed) {
        const key = keys.get(b.series);
        if (!key) continue;
        const fields: Record<string, number> = {
          mean: b.sum / b.count,
          min: b.min,
          max: b.max,
          count: b.count,
          sum: b.sum,
        };
        // the catalog reads these from the coarsest level only: fewer field values to write
        if (b.level === coarsest) {
          fields.first_ms = b.firstMs;
          fields.last_ms = b.lastMs;
          if (b.stepMs !== undefined) fields.step_ms = b.stepMs;
        }
        const point = {
          measurement: `${key.measurement}_${b.level}`,
          tags: { [settings.tag]: key.series },
          fields,
          timestamp: b.startMs,
        };
        const list = byLevel.get(b.level);
        if (list) list.push(point);
        else byLevel.set(b.level, [point]);
      }
      buckets += closed.length;
      return [...byLevel.entries()].map(([level, points]) => {
        const msg: Msg = { topic: level, payload: points, _msgid: RED.util.generateId() };
        const rp = retentionPolicyOf(settings.retentionPolicy, level);
        if (rp) msg.retentionPolicy = rp;
        return msg;
      });
    };

    /** Adds the points of a msg; counts those it could read and those it could not. */
    const addPoints = (payload: unknown, closed: RollupBucket[]) => {
      const points = Array.isArray(payload) ? payload : [payload];
      let good = 0;
      for (const item of points) {
        const point = record(item);
        const series = record(point?.tags)?.[settings.tag];
        const value = record(point?.fields)?.[settings.field];
        const timeMs = toEpochMs(point?.timestamp);
        const measurement = point?.measurement;
        if (
          typeof series !== 'string' ||
          typeof value !== 'number' ||
          !Number.isFinite(value) ||
          timeMs === undefined ||
          typeof measurement !== 'string'
        ) {
          continue;
        }
        if (measurement !== last.measurement || series !== last.series) {
          // a batch is one series: build the key once per run of points, not per point
          last = { measurement, series, key: `${measurement}\n${series}` };
          if (!keys.has(last.key)) keys.set(last.key, { measurement, series });
          touched.add(last.key);
        }
        rollup.add(last.key, timeMs, value, closed);
        good++;
      }
      rows += good;
      return { good, bad: points.length - good };
    };

    onInput(node, (msg, send, done) => {
      if (msg.reset === true) {
        rollup.reset();
        forgetAll();
        showStatus(node, 'idle', 'reset');
        return done();
      }
      const flush = msg.flush === true;
      const closed: RollupBucket[] = [];
      // a flush msg may carry a last batch; anything else must carry points
      const counts =
        flush && !Array.isArray(msg.payload) ? { good: 0, bad: 0 } : addPoints(msg.payload, closed);
      if (flush) closed.push(...rollup.flush());
      const rollupMsgs = toMsgs(closed);
      if (flush) forgetAll();
      else publishWatermarks();
      // raw points go on only when some are readable: influx-write reports the rest
      if (counts.good > 0 || rollupMsgs.length > 0) send([counts.good > 0 ? msg : null, rollupMsgs]);
      const kind = counts.bad > 0 ? 'warn' : 'ok';
      showStatus(node, kind, `${countOf(rows, 'row')} ${compactCount(buckets)} bkt`);
      if (counts.bad > 0) {
        return done(
          new Error(
            `${counts.bad} point(s) without a numeric fields.${settings.field}, a tags.${settings.tag}, ` +
              'a measurement and a timestamp were left out of the rollups',
          ),
        );
      }
      done();
    });

    node.on('close', (done: () => void) => {
      // open buckets are not persisted: a file read again rewrites them (docs/adr/0090)
      done();
    });
  }
  registerNode(RED, 'series-rollup', SERIES_ROLLUP_MIGRATIONS, SeriesRollupNode);
};
