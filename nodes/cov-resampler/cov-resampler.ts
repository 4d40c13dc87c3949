/**
 * cov-resampler: change-of-value readings → one msg per fixed bucket with the
 * time-weighted mean, energy, count and filled/stale flags (nodes/core/cov-resample.ts).
 */
import { CovResampler, type Bucket, type CovResamplerState, type ResampleMethod } from '../core/cov-resample';
import { assertTimeZone } from '../core/time-zone';
import { toEpochMs } from '../core/timestamp';
import { everyAligned } from '../shared/aligned-clock';
import { configNumber } from '../shared/config-number';
import { readKey, readMsgPath, readNumber } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import { compactCount, showStatus } from '../shared/status';
import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';

interface CovResamplerConfig extends NodeDef {
  property?: string;
  timeProperty?: string;
  keyProperty?: string;
  bucketSeconds?: string | number;
  method?: string;
  timezone?: string;
  maxCarrySeconds?: string | number;
  graceSeconds?: string | number;
}

type SavedState = Record<string, CovResamplerState>;

function bucketMsg(key: string, b: Bucket): Msg {
  return {
    topic: key,
    payload: {
      bucket_id: b.bucketId,
      start: new Date(b.startMs).toISOString(),
      end: new Date(b.endMs).toISOString(),
      mean: b.mean,
      energy: b.energy,
      count: b.count,
      filled: b.filled,
      stale: b.stale,
    },
  } as Msg;
}

export = (RED: NodeAPI) => {
  function CovResamplerNode(this: Node, config: CovResamplerConfig) {
    RED.nodes.createNode(this, config);
    try {
      startCovResampler.call(this, config);
    } catch (err) {
      failOnBadConfig(this, err);
    }
  }

  function startCovResampler(this: Node, config: CovResamplerConfig) {
    const method = (config.method || 'locf') as ResampleMethod;
    if (method !== 'locf' && method !== 'linear')
      throw new Error(`method "${method}" must be locf or linear`);
    const timeZone = config.timezone || 'UTC';
    assertTimeZone(timeZone);
    const settings = {
      bucketMs: configNumber(config.bucketSeconds, 'bucketSeconds', 1800, { min: 1 }) * 1000,
      method,
      timeZone,
      maxCarryMs: configNumber(config.maxCarrySeconds, 'maxCarrySeconds', 0, { min: 0 }) * 1000,
      graceMs: configNumber(config.graceSeconds, 'graceSeconds', 0, { min: 0 }) * 1000,
    };
    const property = config.property || 'payload';
    const timeProperty = config.timeProperty ?? 'timestamp';
    const keyProperty = config.keyProperty ?? 'topic';
    const keys = new Map<string, CovResampler>();
    for (const [key, state] of Object.entries(loadState<SavedState>(this) ?? {})) {
      keys.set(key, new CovResampler(settings, state));
    }
    const reported = new Set<string>();
    let emitted = 0;
    let refused = 0;

    const resamplerFor = (key: string) => {
      let r = keys.get(key);
      if (r === undefined) keys.set(key, (r = new CovResampler(settings)));
      return r;
    };
    const showCounts = () =>
      showStatus(
        this,
        refused > 0 ? 'warn' : 'ok',
        `${compactCount(keys.size)} keys · ${compactCount(emitted)} out`,
      );
    const reportOnce = (key: string, text: string, msg: Msg, asError: boolean) => {
      refused++;
      if (reported.has(key)) return;
      reported.add(key);
      if (asError) this.error(`key "${key}": ${text}`, msg);
      else this.warn(`key "${key}": ${text}`);
    };
    const emit = (send: Send, key: string, buckets: Bucket[]) => {
      if (buckets.length === 0) return;
      emitted += buckets.length;
      send([buckets.map((b) => bucketMsg(key, b))]);
    };
    const save = () => {
      const state: SavedState = {};
      for (const [key, r] of keys) state[key] = r.toJSON();
      saveState(this, state);
    };

    this.on('input', (input, nodeSend, done: Done) => {
      const msg = input as Msg;
      const send = nodeSend as Send;
      const key = readKey(readMsgPath(RED, msg, keyProperty));
      if (key === undefined) {
        reportOnce('', `msg.${keyProperty} is not a string or number key`, msg, true);
        return done();
      }
      if (msg.reset) {
        if (key) keys.delete(key);
        else keys.clear();
        showCounts();
        return done();
      }
      // One reading per msg, or payload = [{time, value}, ...] in any order.
      const raw = msg.payload;
      const readings = Array.isArray(raw)
        ? Array.from(raw, (p: { time?: unknown; timestamp?: unknown; value?: unknown } | undefined) => ({
            time: p?.time ?? p?.timestamp,
            value: p?.value,
          }))
        : msg.flush && raw === undefined
          ? []
          : [{ time: readMsgPath(RED, msg, timeProperty), value: readMsgPath(RED, msg, property) }];
      const parsed: Array<{ timeMs: number; value: number }> = [];
      for (const [i, r] of readings.entries()) {
        const where = Array.isArray(raw) ? `msg.payload[${i}]` : `msg`;
        const n = readNumber(r.value, Array.isArray(raw) ? `${where}.value` : `msg.${property}`);
        const t = toEpochMs(r.time);
        if (!n.ok) reportOnce(key, n.reason, msg, true);
        else if (t === undefined)
          reportOnce(key, `${where} has no valid time (ISO string, Date or epoch ms)`, msg, true);
        else parsed.push({ timeMs: t, value: n.value });
      }
      const r = parsed.length > 0 ? resamplerFor(key) : keys.get(key);
      parsed.sort((a, b) => a.timeMs - b.timeMs);
      for (const p of parsed) {
        const late = r?.add(p.timeMs, p.value);
        if (late !== undefined) reportOnce(key, late, msg, false);
      }
      if (r && parsed.length > 0) emit(send, key, r.closeByData());
      if (msg.flush) {
        const untilMs = msg.until === undefined ? undefined : toEpochMs(msg.until);
        if (msg.until !== undefined && untilMs === undefined) {
          this.error(
            `msg.until "${String(msg.until)}" is not a time (ISO-8601, e.g. 2019-11-26T00:00:00Z)`,
            msg,
          );
        } else {
          const targets = key === '' ? [...keys.entries()] : r ? [[key, r] as const] : [];
          for (const [k, res] of targets) emit(send, k, res.flush(untilMs));
          save();
        }
      }
      showCounts();
      done();
    });

    const clock = everyAligned(
      settings.bucketMs,
      () => {
        const now = Date.now();
        for (const [key, r] of keys) emit((m) => this.send(m ?? undefined), key, r.closeByClock(now));
        save();
        showCounts();
      },
      {
        offsetMs: settings.graceMs % settings.bucketMs,
        onError: (err) => this.error(`closing buckets failed: ${(err as Error).message}`),
      },
    );
    showCounts();

    this.on('close', (_removed: boolean, done: () => void) => {
      clock.stop();
      save();
      done();
    });
  }
  RED.nodes.registerType('cov-resampler', CovResamplerNode);
};
