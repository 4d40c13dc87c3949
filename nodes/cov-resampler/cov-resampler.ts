/**
 * cov-resampler: change-of-value readings → one msg per fixed bucket with the
 * time-weighted mean, energy, count and filled/stale flags (nodes/core/cov-resample.ts).
 * Buckets close in event time (docs/adr/0005-event-time.md); the wall clock only bounds
 * readings from the future and closes live keys that went quiet for idleSeconds.
 */
import {
  bucketPayload,
  CovResampler,
  type Bucket,
  type CovResamplerState,
  type ResampleMethod,
} from '../core/cov-resample';
import { assertTimeZone } from '../core/time-zone';
import { toEpochMs } from '../core/timestamp';
import { everyAligned } from '../shared/aligned-clock';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { readKey, readMsgPath, readNumber } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import { parseCheckpointMs, startCheckpoints } from '../shared/checkpoint-timer';
import { DEFAULT_MAX_KEYS, KEY_CAP_WARNING, LruMap } from '../core/lru-keys';
import { compactCount, showStatus, countOf } from '../shared/status';
import type { Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { COV_RESAMPLER_MIGRATIONS } from './migrations';

interface CovResamplerConfig extends NodeDef {
  property?: string;
  timeProperty?: string;
  keyProperty?: string;
  bucketSeconds?: string | number;
  method?: string;
  timezone?: string;
  maxCarrySeconds?: string | number;
  graceSeconds?: string | number;
  idleSeconds?: string | number;
  maxFutureSeconds?: string | number;
  maxKeys?: string | number;
  checkpointSeconds?: string | number;
}

/** The newest reading of a key and when it arrived, for the idle fallback. */
interface Arrival {
  atMs: number;
  newestMs: number;
}

/** Log lines kept apart per key and reason; the map is bounded, the oldest pair forgotten. */
const LOG_EVERY_MS = 60_000;
const LOGGED_PAIRS_MAX = 1000;

type SavedState = Record<string, CovResamplerState>;

function bucketMsg(key: string, b: Bucket): Msg {
  return {
    topic: key,
    payload: bucketPayload(b),
  } as Msg;
}

/** Config → settings; inside parseAllSettings every bad setting is reported at once. */
function parseResamplerSettings(config: CovResamplerConfig) {
  const method = (config.method || 'locf') as ResampleMethod;
  if (method !== 'locf' && method !== 'linear') throw new Error(`method "${method}" must be locf or linear`);
  const timeZone = config.timezone || 'UTC';
  assertTimeZone(timeZone);
  const settings = {
    bucketMs: configNumber(config.bucketSeconds, 'bucketSeconds', 1800, { min: 1 }) * 1000,
    method,
    timeZone,
    maxCarryMs: configNumber(config.maxCarrySeconds, 'maxCarrySeconds', 0, { min: 0 }) * 1000,
    graceMs: configNumber(config.graceSeconds, 'graceSeconds', 0, { min: 0 }) * 1000,
    maxFutureMs: configNumber(config.maxFutureSeconds, 'maxFutureSeconds', 300, { min: 0 }) * 1000,
  };
  const idleMs = configNumber(config.idleSeconds, 'idleSeconds', 60, { min: 1 }) * 1000;
  const maxKeys = configNumber(config.maxKeys, 'maxKeys', DEFAULT_MAX_KEYS, { min: 1, integer: true });
  return { settings, idleMs, maxKeys, checkpointMs: parseCheckpointMs(config.checkpointSeconds) };
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
    const { settings, idleMs, maxKeys, checkpointMs } = parseAllSettings(() =>
      parseResamplerSettings(config),
    );
    const property = config.property || 'payload';
    // Blank Time = arrival time, as in moving-window.
    const timeProperty = (config.timeProperty ?? 'timestamp').trim();
    const keyProperty = config.keyProperty ?? 'topic';
    const keys = new LruMap<CovResampler>(maxKeys);
    for (const [key, state] of Object.entries(loadState<SavedState>(this) ?? {})) {
      keys.set(key, new CovResampler(settings, state));
    }
    const arrivals = new Map<string, Arrival>();
    const loggedAt = new Map<string, number>();
    let emitted = 0;
    let bad = 0;
    let late = 0;

    let capWarned = false;
    const resamplerFor = (key: string) => {
      let r = keys.use(key);
      if (r !== undefined) return r;
      // The key idle the longest makes room; its open buckets are forgotten with it.
      const forgotten = keys.admit(key);
      if (forgotten !== undefined) {
        arrivals.delete(forgotten);
        if (!capWarned) this.warn(KEY_CAP_WARNING(maxKeys));
        capWarned = true;
      }
      keys.set(key, (r = new CovResampler(settings)));
      return r;
    };
    const showCounts = () => {
      const problems = [
        bad > 0 ? `${compactCount(bad)} bad` : '',
        late > 0 ? `${compactCount(late)} late` : '',
      ]
        .filter((t) => t !== '')
        .join(' · ');
      if (keys.evicted > 0) return showStatus(this, 'warn', `key cap ${compactCount(maxKeys)}`);
      showStatus(
        this,
        problems ? 'warn' : 'ok',
        `${countOf(keys.size, 'key')} · ${problems || `${compactCount(emitted)} out`}`,
      );
    };
    /** A warning at most once a minute per key and reason (late readings are not errors). */
    const warnLimited = (key: string, kind: string, text: string) => {
      const pair = `${kind}\u0000${key}`;
      const now = Date.now();
      const last = loggedAt.get(pair);
      if (last !== undefined && now - last < LOG_EVERY_MS) return;
      loggedAt.delete(pair);
      if (loggedAt.size >= LOGGED_PAIRS_MAX) loggedAt.delete(loggedAt.keys().next().value as string);
      loggedAt.set(pair, now);
      this.warn(`key "${key}": ${text}`);
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

    onInput(this, (msg, send, done) => {
      const nowMs = Date.now();
      const key = readKey(readMsgPath(RED, msg, keyProperty));
      // Every bad msg fails through done(err), so a Catch node sees each one.
      const fail = (reason: string) => {
        bad++;
        showCounts();
        done(new Error(key === undefined ? reason : `key "${key}": ${reason}`));
      };
      if (key === undefined) return fail(`msg.${keyProperty} is not a string or number key`);
      if (msg.reset) {
        if (key) keys.delete(key);
        else keys.clear();
        if (key) arrivals.delete(key);
        else arrivals.clear();
        showCounts();
        return done();
      }
      // One reading per msg, or payload = [{time, value}, ...] in any order.
      const raw = msg.payload;
      const readTime = () => (timeProperty ? readMsgPath(RED, msg, timeProperty) : nowMs);
      const readings = Array.isArray(raw)
        ? Array.from(raw, (p: { time?: unknown; timestamp?: unknown; value?: unknown } | undefined) => ({
            time: p?.time ?? p?.timestamp ?? (timeProperty ? undefined : nowMs),
            value: p?.value,
          }))
        : msg.flush && raw === undefined
          ? []
          : [{ time: readTime(), value: readMsgPath(RED, msg, property) }];
      const parsed: Array<{ timeMs: number; value: number }> = [];
      const problems: string[] = [];
      for (const [i, r] of readings.entries()) {
        const where = Array.isArray(raw) ? `msg.payload[${i}]` : `msg`;
        const n = readNumber(r.value, Array.isArray(raw) ? `${where}.value` : `msg.${property}`);
        const t = toEpochMs(r.time);
        if (!n.ok) problems.push(n.reason);
        else if (t === undefined)
          problems.push(
            `${Array.isArray(raw) ? `${where}.time` : `msg.${timeProperty}`} is not a time (ISO string, Date or epoch ms; clear Time to use arrival time)`,
          );
        else parsed.push({ timeMs: t, value: n.value });
      }
      const r = parsed.length > 0 ? resamplerFor(key) : keys.get(key);
      parsed.sort((a, b) => a.timeMs - b.timeMs);
      let lateHere = 0;
      for (const p of parsed) {
        const refusal = r?.add(p.timeMs, p.value, nowMs);
        if (refusal === undefined) continue;
        if (refusal.kind === 'late') {
          lateHere++;
          warnLimited(key, 'late', refusal.reason);
        } else problems.push(refusal.reason);
      }
      late += lateHere;
      if (r && parsed.length > lateHere) {
        const newestMs = r.newestTimeMs;
        if (newestMs !== undefined) arrivals.set(key, { atMs: nowMs, newestMs });
        emit(send, key, r.closeByData());
      }
      if (msg.flush) {
        const untilMs = msg.until === undefined ? undefined : toEpochMs(msg.until);
        if (msg.until !== undefined && untilMs === undefined) {
          problems.push(
            `msg.until "${String(msg.until)}" is not a time (ISO-8601, e.g. 2019-11-26T00:00:00Z)`,
          );
        } else {
          const targets = key === '' ? [...keys.entries()] : r ? [[key, r] as const] : [];
          for (const [k, res] of targets) emit(send, k, res.flush(untilMs));
          save();
        }
      }
      if (problems.length > 0) {
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more in this msg)` : '';
        return fail(problems[0] + more);
      }
      showCounts();
      done();
    });

    // The wall clock's one job: a live key (readings stamped within idleSeconds of their
    // arrival) that has been quiet for idleSeconds gets its buckets closed as the clock
    // passes their end + grace. Replayed and historic keys are closed by data and flush only.
    const idle = everyAligned(
      idleMs,
      () => {
        const now = Date.now();
        for (const [key, r] of keys) {
          const arrival = arrivals.get(key);
          if (!arrival || now - arrival.atMs < idleMs || arrival.atMs - arrival.newestMs > idleMs) continue;
          emit((m) => this.send(m ?? undefined), key, r.closeLive(now));
        }
        showCounts();
      },
      { onError: (err) => this.error(`closing idle keys failed: ${(err as Error).message}`) },
    );
    showCounts();

    const checkpoints = startCheckpoints(checkpointMs, save, (err) =>
      this.error(`checkpoint failed: ${(err as Error).message}`),
    );

    this.on('close', (_removed: boolean, done: () => void) => {
      idle.stop();
      checkpoints.stop();
      done();
    });
  }
  registerNode(RED, 'cov-resampler', COV_RESAMPLER_MIGRATIONS, CovResamplerNode);
};
