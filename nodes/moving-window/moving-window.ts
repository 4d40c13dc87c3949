/**
 * moving-window: sliding/tumbling time windows or count windows per key, O(1) per
 * sample (nodes/core/sliding-window.ts). Emits on the clock at wall-clock multiples of
 * the hop, or after every sample when hopSeconds is 0; late samples go to output 2.
 */
import { KeyedWindows, type KeyedWindowsState } from '../core/keyed-windows';
import { AGGREGATES, type Aggregate, type WindowSummary } from '../core/sliding-window';
import { toEpochMs } from '../core/timestamp';
import { everyAligned, type AlignedClock } from '../shared/aligned-clock';
import { configNumber } from '../shared/config-number';
import { readKey, readMsgPath, readNumber } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import { compactCount, showStatus } from '../shared/status';
import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';

interface MovingWindowConfig extends NodeDef {
  property?: string;
  keyProperty?: string;
  timeProperty?: string;
  windowSeconds?: string | number;
  hopSeconds?: string | number;
  countWindow?: string | number;
  aggregates?: Aggregate[] | string;
  latenessSeconds?: string | number;
  emitEmpty?: boolean;
  keyTtlSeconds?: string | number;
}

interface MovingWindowSettings {
  property: string;
  keyProperty: string;
  timeProperty: string;
  windowMs: number;
  hopMs: number;
  count: number;
  aggregates: Aggregate[];
  latenessMs: number;
  emitEmpty: boolean;
  ttlMs: number;
}

/** Config → settings; throws an error naming the bad setting. */
function parseSettings(config: MovingWindowConfig): MovingWindowSettings {
  const windowMs = configNumber(config.windowSeconds, 'windowSeconds', 300, { min: 0.001 }) * 1000;
  const count = configNumber(config.countWindow, 'countWindow', 0, { min: 0, integer: true });
  const latenessMs = configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000;
  const raw =
    typeof config.aggregates === 'string' ? config.aggregates.split(',') : (config.aggregates ?? ['mean']);
  const aggregates = raw.map((a) => String(a).trim()).filter((a) => a !== '') as Aggregate[];
  for (const a of aggregates) {
    if (!AGGREGATES.includes(a))
      throw new Error(`aggregate "${a}" is unknown (use ${AGGREGATES.join(', ')})`);
  }
  // A key idle this long is forgotten: by default one window past its last sample.
  const autoTtlMs = count > 0 ? 86_400_000 : 2 * windowMs + latenessMs;
  return {
    property: config.property || 'payload',
    keyProperty: config.keyProperty ?? 'topic',
    timeProperty: config.timeProperty ?? '',
    windowMs,
    hopMs: configNumber(config.hopSeconds, 'hopSeconds', 60, { min: 0 }) * 1000,
    count,
    aggregates: aggregates.length > 0 ? aggregates : ['mean'],
    latenessMs,
    emitEmpty: config.emitEmpty === true || String(config.emitEmpty) === 'true',
    ttlMs: configNumber(config.keyTtlSeconds, 'keyTtlSeconds', 0, { min: 0 }) * 1000 || autoTtlMs,
  };
}

// ISO text of the last instants formatted: per-sample emission at high rates formats the
// same millisecond over and over, and toISOString is the dearest step on that path.
const isoCache = { ms: [NaN, NaN], text: ['', ''], next: 0 };
function isoTime(ms: number): string {
  if (ms === isoCache.ms[0]) return isoCache.text[0];
  if (ms === isoCache.ms[1]) return isoCache.text[1];
  const slot = (isoCache.next ^= 1);
  isoCache.ms[slot] = ms;
  return (isoCache.text[slot] = new Date(ms).toISOString());
}

/** The output payload: {start, end, count, <aggregate>...}. */
function windowPayload(
  s: WindowSummary,
  aggregates: readonly Aggregate[],
  startMs: number | null,
  endMs: number | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    start: startMs === null ? null : isoTime(startMs),
    end: endMs === null ? null : isoTime(endMs),
    count: s.count,
  };
  for (const a of aggregates) if (a !== 'count') out[a] = s[a];
  return out;
}

/** Fast path for plain property names ("payload"); dotted paths go through Node-RED. */
function reader(RED: NodeAPI, path: string): (msg: Msg) => unknown {
  if (/^[A-Za-z_$][\w$]*$/.test(path)) return (msg) => msg[path];
  return (msg) => readMsgPath(RED, msg, path);
}

export = (RED: NodeAPI) => {
  function MovingWindowNode(this: Node, config: MovingWindowConfig) {
    RED.nodes.createNode(this, config);
    try {
      startMovingWindow.call(this, config);
    } catch (err) {
      failOnBadConfig(this, err);
    }
  }

  function startMovingWindow(this: Node, config: MovingWindowConfig) {
    const settings = parseSettings(config);
    const { aggregates, windowMs, hopMs, count, emitEmpty } = settings;
    const windows = new KeyedWindows(
      { lengthMs: windowMs, count, latenessMs: settings.latenessMs, ttlMs: settings.ttlMs },
      loadState<KeyedWindowsState>(this),
    );
    const readValue = reader(RED, settings.property);
    const readKeyValue = settings.keyProperty ? reader(RED, settings.keyProperty) : () => '';
    const readTime = settings.timeProperty ? reader(RED, settings.timeProperty) : undefined;
    const badKeys = new Set<string>(); // keys whose bad input was reported already
    let badCount = 0;
    const label = count > 0 ? `${count} values` : `${windowMs / 1000} s`;

    const showKeys = () => {
      const text = `${compactCount(windows.size)} keys${badCount > 0 ? ` · ${compactCount(badCount)} bad` : ''}`;
      showStatus(this, badCount > 0 ? 'warn' : 'ok', text);
    };
    const reportBad = (key: string, msg: Msg, reason: string) => {
      badCount++;
      if (badKeys.has(key)) return;
      badKeys.add(key);
      this.error(`key "${key}": ${reason}; not counted in the ${label} window`, msg);
      showKeys();
    };

    this.on('input', (input, nodeSend, done: Done) => {
      const msg = input as Msg;
      const send = nodeSend as Send;
      const key = readKey(readKeyValue(msg));
      if (msg.reset) {
        windows.reset(key || undefined);
        showKeys();
        return done();
      }
      if (key === undefined) {
        reportBad('', msg, `msg.${settings.keyProperty} is not a string or number key`);
        return done();
      }
      const raw = readValue(msg);
      // Fast path for plain finite numbers; readNumber parses strings and explains failures.
      const n =
        typeof raw === 'number' && Number.isFinite(raw)
          ? { ok: true as const, value: raw }
          : readNumber(raw, `msg.${settings.property}`);
      if (!n.ok) {
        reportBad(key, msg, n.reason);
        return done();
      }
      const nowMs = Date.now();
      let timeMs = nowMs;
      if (readTime !== undefined) {
        const t = toEpochMs(readTime(msg));
        if (t === undefined) {
          reportBad(key, msg, `msg.${settings.timeProperty} is not a time (ISO string, Date or epoch ms)`);
          return done();
        }
        timeMs = t;
      }
      if (badKeys.size > 0) badKeys.delete(key);
      const late = windows.add(key, timeMs, n.value, nowMs);
      if (late !== undefined) {
        msg.reason = late;
        send([null, msg]);
        return done();
      }
      if (hopMs === 0) {
        // Emit per sample: the window ending at the newest sample, on the same msg object.
        const summary = windows.latestSummary(key) as WindowSummary;
        const start = count > 0 ? summary.firstTimeMs : (summary.lastTimeMs as number) - windowMs;
        msg.topic = key;
        msg.payload = windowPayload(summary, aggregates, start, summary.lastTimeMs);
        send([msg, null]);
      }
      done();
    });

    const emitAll = (endMs: number) => {
      const out: Msg[] = [];
      for (const key of windows.keys()) {
        const s = windows.summary(key, endMs) as WindowSummary;
        if (s.count === 0 && !emitEmpty) continue;
        const start = count > 0 ? s.firstTimeMs : endMs - windowMs;
        const end = count > 0 ? s.lastTimeMs : endMs;
        out.push({ topic: key, payload: windowPayload(s, aggregates, start, end) } as Msg);
      }
      if (out.length > 0) this.send([out, null]);
    };
    const tick = (alignedMs: number) => {
      if (hopMs > 0) emitAll(alignedMs);
      windows.evictIdle(Date.now());
      saveState(this, windows.toJSON());
      showKeys();
    };
    // hopSeconds 0 emits per sample; the clock then only saves state and evicts idle keys.
    const clock: AlignedClock = everyAligned(hopMs > 0 ? hopMs : 60_000, tick, {
      onError: (err) => this.error(`emission failed: ${(err as Error).message}`),
    });
    showKeys();

    this.on('close', (_removed: boolean, done: () => void) => {
      clock.stop();
      saveState(this, windows.toJSON());
      done();
    });
  }
  RED.nodes.registerType('moving-window', MovingWindowNode);
};
