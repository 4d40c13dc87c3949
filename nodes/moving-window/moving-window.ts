/**
 * moving-window: sliding/tumbling time windows or count windows per key, O(1) per
 * sample (nodes/core/sliding-window.ts), emitted in event time (docs/adr/0005): the
 * window (T − length, T] goes out when the key's watermark (newest sample time −
 * latenessSeconds) reaches T (nodes/core/keyed-windows.ts). The wall clock only runs the
 * idle fallback for keys that go quiet, the checkpoints and the key TTL.
 */
import { DEFAULT_MAX_FUTURE_MS } from '../core/event-time';
import { KeyedWindows, type ClosedWindow, type KeyedWindowsState, type Refusal } from '../core/keyed-windows';
import { AGGREGATES, CountWindow, type Aggregate, type WindowSummary } from '../core/sliding-window';
import { toEpochMs } from '../core/timestamp';
import { everyAligned, type AlignedClock } from '../shared/aligned-clock';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { msgPathReader, readKey, readNumber } from '../shared/msg-property';
import { loadState, saveState, type StateFormat } from '../shared/node-state';
import { CheckpointSlots, parseCheckpointMs } from '../shared/checkpoint-timer';
import { OncePerKey } from '../core/lru-keys';
import { compactCount, showStatus, countOf } from '../shared/status';
import type { Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { MOVING_WINDOW_MIGRATIONS } from './migrations';

interface MovingWindowConfig extends NodeDef {
  property?: string;
  keyProperty?: string;
  timeProperty?: string;
  windowSeconds?: string | number;
  hopSeconds?: string | number;
  countWindow?: string | number;
  aggregates?: Aggregate[];
  latenessSeconds?: string | number;
  idleSeconds?: string | number;
  maxFutureSeconds?: string | number;
  lateOutput?: string;
  output?: string;
  emitEmpty?: boolean;
  emitWarmup?: boolean;
  keyTtlSeconds?: string | number;
  maxKeys?: string | number;
  checkpointSeconds?: string | number;
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
  idleMs: number;
  maxFutureMs: number;
  lateToOutput: boolean;
  /** One msg per emission carrying every window closed together (docs/adr/0151). */
  batch: boolean;
  emitEmpty: boolean;
  emitWarmup: boolean;
  ttlMs: number;
  maxKeys: number;
  checkpointMs: number;
}

/** Config → settings; throws an error naming the bad setting. Flows saved before a setting existed get its default. */
function parseSettings(config: MovingWindowConfig): MovingWindowSettings {
  const windowMs = configNumber(config.windowSeconds, 'windowSeconds', 300, { min: 0.001 }) * 1000;
  const hopSeconds = configNumber(config.hopSeconds, 'hopSeconds', 60, { min: 0 });
  if (hopSeconds > 0 && hopSeconds < 0.001)
    throw new Error(`setting hopSeconds = "${hopSeconds}" must be 0 or ≥ 0.001`);
  const count = configNumber(config.countWindow, 'countWindow', 0, { min: 0, integer: true });
  const latenessMs = configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000;
  const timeProperty = config.timeProperty ?? '';
  // With arrival time the wall clock is the event time, so a quiet key follows it at once.
  const idleDefault = timeProperty ? 60 : 0;
  const idleMs = configNumber(config.idleSeconds, 'idleSeconds', idleDefault, { min: 0 }) * 1000;
  // Text aggregates ("mean,max", the first release) are lifted to a list by migrations.ts.
  const aggregates = (config.aggregates ?? ['mean'])
    .map((a) => String(a).trim())
    .filter((a) => a !== '') as Aggregate[];
  for (const a of aggregates) {
    if (!AGGREGATES.includes(a))
      throw new Error(`aggregate "${a}" is unknown (use ${AGGREGATES.join(', ')})`);
  }
  const checkpointMs = parseCheckpointMs(config.checkpointSeconds);
  const lateOutput = config.lateOutput || 'output';
  if (lateOutput !== 'output' && lateOutput !== 'drop')
    throw new Error(`setting lateOutput = "${lateOutput}" must be "output" or "drop"`);
  const output = config.output || 'each';
  if (output !== 'each' && output !== 'batch')
    throw new Error(`setting output = "${output}" must be "each" (one msg per window) or "batch"`);
  // A key idle this long is forgotten: by default once its last window went out and was checkpointed.
  const autoTtlMs = count > 0 ? 86_400_000 : 2 * windowMs + hopSeconds * 1000 + latenessMs + idleMs;
  return {
    property: config.property || 'payload',
    keyProperty: config.keyProperty ?? 'topic',
    timeProperty,
    windowMs,
    hopMs: Math.round(hopSeconds * 1000),
    count,
    aggregates: aggregates.length > 0 ? aggregates : ['mean'],
    latenessMs,
    idleMs,
    maxFutureMs:
      configNumber(config.maxFutureSeconds, 'maxFutureSeconds', DEFAULT_MAX_FUTURE_MS / 1000, { min: 0 }) *
      1000,
    lateToOutput: lateOutput === 'output',
    batch: output === 'batch',
    emitEmpty: config.emitEmpty === true || String(config.emitEmpty) === 'true',
    emitWarmup: config.emitWarmup !== false && String(config.emitWarmup) !== 'false',
    ttlMs:
      configNumber(config.keyTtlSeconds, 'keyTtlSeconds', 0, { min: 0 }) * 1000 || autoTtlMs + checkpointMs,
    maxKeys: configNumber(config.maxKeys, 'maxKeys', 100_000, { min: 1, integer: true }),
    checkpointMs,
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

/**
 * The output payload's first fields. Built up from an empty literal: V8 gives `{}` room
 * for four fields in the object itself, so start, end, count and the first aggregate need
 * no second allocation per msg (a three-field literal has room for three only, and the
 * aggregate went to a property store of its own, 40 bytes that live while the msg does).
 */
function payloadHead(startMs: number | null, endMs: number | null, count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out.start = startMs === null ? null : isoTime(startMs);
  out.end = endMs === null ? null : isoTime(endMs);
  out.count = count;
  return out;
}

/** The output payload: {start, end, count, <aggregate>...}. */
function windowPayload(
  s: WindowSummary,
  aggregates: readonly Aggregate[],
  startMs: number | null,
  endMs: number | null,
): Record<string, unknown> {
  const out = payloadHead(startMs, endMs, s.count);
  for (const a of aggregates) if (a !== 'count') out[a] = s[a];
  return out;
}

/** The output payload of a count window read straight from the window: the same as windowPayload of its summary. */
function countPayload(w: CountWindow, aggregates: readonly Aggregate[]): Record<string, unknown> {
  const out = payloadHead(w.oldestTimeMs(), w.newestTimeMs(), w.size);
  for (const a of aggregates) if (a !== 'count') out[a] = w.aggregate(a);
  return out;
}

/**
 * Version 2: hop windows save panes, not samples (docs/adr/0150). A version 1 state
 * (ring samples) restores as it is: KeyedWindows folds its samples into panes. The bump
 * makes an older gridflow keep a pane state aside instead of failing on it.
 */
const STATE_FORMAT: StateFormat = { version: 2, upgrades: { 0: (state) => state, 1: (state) => state } };

/** How often the wall clock looks for quiet keys: the idle fallback is this precise. */
const IDLE_CHECK_MS = 1000;

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
    const settings = parseAllSettings(() => parseSettings(config));
    const { aggregates, windowMs, hopMs, count } = settings;
    // Count windows emitted per sample: the hot path, one payload object per msg.
    const perSampleCount = count > 0 && hopMs === 0 && !settings.batch;
    const windows = new KeyedWindows(
      {
        lengthMs: windowMs,
        count,
        hopMs,
        latenessMs: settings.latenessMs,
        maxFutureMs: settings.maxFutureMs,
        idleMs: settings.idleMs,
        emitEmpty: settings.emitEmpty,
        emitWarmup: settings.emitWarmup,
        ttlMs: settings.ttlMs,
        maxKeys: settings.maxKeys,
      },
      loadState<KeyedWindowsState>(this, STATE_FORMAT),
    );
    const readValue = msgPathReader(RED, settings.property);
    const readKeyValue = settings.keyProperty ? msgPathReader(RED, settings.keyProperty) : () => '';
    const readTime = settings.timeProperty ? msgPathReader(RED, settings.timeProperty) : undefined;
    const badKeys = new OncePerKey(); // keys whose bad input was reported already
    let badCount = 0;
    let lateCount = 0;
    let capWarned = false;
    let shownStatus = '';
    const label = count > 0 ? `${count} values` : `${windowMs / 1000} s`;

    const showKeys = () => {
      let text = countOf(windows.size, 'key');
      if (lateCount > 0) text += ` · ${compactCount(lateCount)} late`;
      if (badCount > 0) text += ` · ${compactCount(badCount)} bad`;
      if (capWarned && windows.size >= settings.maxKeys) text = `key cap ${compactCount(settings.maxKeys)}`;
      if (text === shownStatus) return;
      shownStatus = text;
      showStatus(this, badCount > 0 || lateCount > 0 || capWarned ? 'warn' : 'ok', text);
    };
    const reportBad = (key: string, msg: Msg, reason: string) => {
      badCount++;
      if (badKeys.first(key)) {
        this.error(`key "${key}": ${reason}; not counted in the ${label} window`, msg);
      }
      showKeys();
    };
    const toMsg = (w: ClosedWindow, reuse?: Msg): Msg => {
      const msg = reuse ?? ({} as Msg);
      msg.topic = w.key;
      msg.payload = windowPayload(w.summary, aggregates, w.startMs, w.endMs);
      return msg;
    };
    const emit = (closed: ClosedWindow[]) => {
      if (settings.batch) {
        // One msg for the whole emission: {payload: [{topic, payload}, …]} (docs/adr/0151).
        if (closed.length > 0) this.send({ payload: closed.map((w) => toMsg(w)) } as Msg);
        return;
      }
      // One send per window: Node-RED deep-clones every msg but the first of an array send
      // (~20 µs each; 10,000 keys at a tick spent most of their burst there, issue 16).
      for (const w of closed) this.send(toMsg(w));
    };

    onInput(this, (msg, send, done) => {
      const key = readKey(readKeyValue(msg));
      if (msg.reset || msg.flush) {
        if (msg.flush) emit(windows.flush(key || undefined));
        if (msg.reset) windows.reset(key || undefined);
        showKeys();
        return done();
      }
      if (key === undefined) {
        reportBad('', msg, `msg.${settings.keyProperty} is not a string or number key`);
        return done();
      }
      const raw = readValue(msg);
      // Plain finite numbers go straight on (no result object per msg); readNumber parses
      // strings and explains failures.
      let value = typeof raw === 'number' ? raw : NaN;
      if (!Number.isFinite(value)) {
        const n = readNumber(raw, `msg.${settings.property}`);
        if (!n.ok) {
          reportBad(key, msg, n.reason);
          return done();
        }
        value = n.value;
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
      if (perSampleCount) {
        const window = windows.addCounted(key, timeMs, value, nowMs);
        if (window instanceof CountWindow) {
          badKeys.forget(key);
          msg.topic = key;
          msg.payload = countPayload(window, aggregates);
          // Bare, not [msg, null]: a node wired on its first output only takes Node-RED's
          // single-wire path (1.05–1.17× per CPU-s side by side, 2026-12-02).
          send(msg);
        } else if (window === null) badKeys.forget(key);
        else refused(key, msg, window, send);
        return done();
      }
      const result = windows.add(key, timeMs, value, nowMs);
      if (!result.ok) {
        refused(key, msg, result, send);
        return done();
      }
      badKeys.forget(key);
      const { closed } = result;
      // One window per sample (hopSeconds 0, no lateness) goes out on the msg object itself.
      if (closed.length === 1 && hopMs === 0 && !settings.batch) send(toMsg(closed[0], msg));
      else emit(closed);
      done();
    });

    const refused = (key: string, msg: Msg, refusal: Refusal, send: Send) => {
      if (refusal.kind === 'future') reportBad(key, msg, refusal.reason);
      else if (refusal.kind === 'full') warnCap(refusal.reason);
      else {
        lateCount++;
        if (settings.lateToOutput) {
          msg.reason = refusal.reason;
          send([null, msg]);
        }
        showKeys();
      }
    };
    const warnCap = (reason: string) => {
      if (!capWarned) {
        capWarned = true;
        this.warn(`${reason}: samples of new keys are dropped until keys go idle (keyTtlSeconds)`);
      }
      showKeys();
    };

    // Checkpoints every checkpointSeconds on the wall clock, halfway between emissions (:30
    // for a window emitted every minute), so saving does not hold up the results of :00.
    const checkpoints = new CheckpointSlots(settings.checkpointMs, Date.now(), hopMs / 2);
    let checkpointAfterSends: NodeJS.Immediate | undefined;
    const checkpoint = () => {
      checkpointAfterSends = undefined;
      windows.evictIdle(Date.now());
      saveState(this, windows.toJSON(), STATE_FORMAT);
      showKeys();
    };
    const tick = () => {
      const nowMs = Date.now();
      emit(windows.closeIdle(nowMs));
      // After the tick's sends are queued, so the first results leave before the checkpoint runs.
      if (checkpoints.due(nowMs) && checkpointAfterSends === undefined)
        checkpointAfterSends = setImmediate(checkpoint);
      showKeys();
    };
    // 1 ms past each boundary, so a sample arriving exactly at T (arrival time) still joins the window ending T.
    const clock: AlignedClock = everyAligned(
      hopMs > 0 ? Math.min(hopMs, IDLE_CHECK_MS) : IDLE_CHECK_MS,
      tick,
      {
        offsetMs: 1,
        onError: (err) => this.error(`emission failed: ${(err as Error).message}`),
      },
    );
    showKeys();

    this.on('close', (_removed: boolean, done: () => void) => {
      clock.stop();
      if (checkpointAfterSends !== undefined) clearImmediate(checkpointAfterSends);
      saveState(this, windows.toJSON(), STATE_FORMAT);
      done();
    });
  }
  registerNode(RED, 'moving-window', MOVING_WINDOW_MIGRATIONS, MovingWindowNode);
};
