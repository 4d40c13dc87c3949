import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { showStatus, compactCount } from '../shared/status';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { loadState, saveState, useNodeRedSettings } from '../shared/node-state';
import { readKey, readMsgPath, readNumber } from '../shared/msg-property';
import {
  fleetZScores,
  StreamAnomalyDetector,
  type StreamAnomalyState,
  type ZScore,
} from '../core/fleet-anomaly';
import { failOnBadConfig } from '../shared/config-failure';
import { EventOrderBuffer } from '../core/event-order';
import { toEpochMs } from '../core/timestamp';
import { onInput, registerNode } from '../shared/node-handler';
import { ANOMALY_FLAGGER_MIGRATIONS } from './migrations';
import { DEFAULT_MAX_KEYS, KEY_CAP_WARNING, OncePerKey } from '../core/lru-keys';
import { parseCheckpointMs, startCheckpoints } from '../shared/checkpoint-timer';

/** Stream mode in event time: blank timeProperty = arrival order, as before. */
interface StreamTimeConfig {
  timeProperty?: string;
  latenessSeconds?: string | number;
  idleSeconds?: string | number;
  maxFutureSeconds?: string | number;
}

interface StreamTime {
  timeProperty: string;
  latenessMs: number;
  idleMs: number;
  maxFutureMs: number;
}

function parseStreamTime(config: StreamTimeConfig): StreamTime {
  return {
    timeProperty: (config.timeProperty ?? '').trim(),
    latenessMs: configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000,
    idleMs: configNumber(config.idleSeconds, 'idleSeconds', 300, { min: 1 }) * 1000,
    maxFutureMs: configNumber(config.maxFutureSeconds, 'maxFutureSeconds', 300, { min: 0 }) * 1000,
  };
}

interface AnomalyFlaggerConfig extends NodeDef {
  mode: 'fleet' | 'stream';
  sigmas: string | number;
  property: string;
  keyProperty: string;
  windowSize: string | number;
  minCount: string | number;
  maxKeys?: string | number;
  checkpointSeconds?: string | number;
}

interface Settings {
  mode: 'fleet' | 'stream';
  sigmas: number;
  property: string;
  keyProperty: string;
  windowSize: number;
  minCount: number;
  maxKeys: number;
  checkpointMs: number;
}

function parseSettings(config: AnomalyFlaggerConfig): Settings {
  const mode = config.mode || 'fleet';
  if (mode !== 'fleet' && mode !== 'stream') throw new Error(`mode "${mode}" must be fleet or stream`);
  const windowSize = configNumber(config.windowSize, 'windowSize', 100, { min: 2, integer: true });
  return {
    mode,
    sigmas: configNumber(config.sigmas, 'sigmas', 2, { min: Number.MIN_VALUE }),
    property: (config.property || 'payload.value').trim(),
    keyProperty: (config.keyProperty ?? 'payload.key').trim(),
    windowSize,
    minCount: configNumber(config.minCount, 'minCount', 10, { min: 2, max: windowSize, integer: true }),
    maxKeys: configNumber(config.maxKeys, 'maxKeys', DEFAULT_MAX_KEYS, { min: 1, integer: true }),
    checkpointMs: parseCheckpointMs(config.checkpointSeconds),
  };
}

/** In fleet mode the paths name a member's field: `payload.mean` → each member's `mean`. */
function memberPath(path: string): string[] {
  const parts = path.split('.');
  return parts[0] === 'payload' ? parts.slice(1) : parts;
}

function readMember(member: unknown, path: string[]): unknown {
  let value = member;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function scoreFields(score: ZScore) {
  return { anomaly: score.anomaly, z: score.z, mean: score.mean, stdev: score.stdev };
}

export = (RED: NodeAPI) => {
  useNodeRedSettings(RED);
  function AnomalyFlaggerNode(this: Node, config: AnomalyFlaggerConfig & StreamTimeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: Settings;
    let stream: StreamAnomalyDetector;
    let time: StreamTime;
    try {
      settings = parseAllSettings(() => parseSettings(config));
      time = parseStreamTime(config);
      const saved = settings.mode === 'stream' ? loadState<StreamAnomalyState>(node) : undefined;
      stream = new StreamAnomalyDetector(
        settings.sigmas,
        settings.windowSize,
        settings.minCount,
        saved,
        settings.maxKeys,
      );
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const valuePath = memberPath(settings.property);
    let seen = 0;
    let flagged = 0;
    let capWarned = false;
    const showCounts = () =>
      capWarned
        ? showStatus(node, 'warn', `key cap ${compactCount(settings.maxKeys)}`)
        : showStatus(
            node,
            flagged > 0 || late > 0 ? 'warn' : 'ok',
            late > 0
              ? `${compactCount(flagged)} of ${compactCount(seen)} · ${compactCount(late)} late`
              : `${compactCount(flagged)} of ${compactCount(seen)} flagged`,
          );

    function fleet(msg: Msg, send: Send, done: Done) {
      if (!Array.isArray(msg.payload))
        return done(new Error('fleet mode needs msg.payload = array of members'));
      const members = msg.payload as unknown[];
      const values = members.map((m) => {
        const read = readNumber(valuePath.length === 0 ? m : readMember(m, valuePath));
        return read.ok ? read.value : null;
      });
      const scores = fleetZScores(values, settings.sigmas);
      const out = members.map((m, i) =>
        m !== null && typeof m === 'object' && !Array.isArray(m)
          ? { ...(m as object), ...scoreFields(scores[i]) }
          : { value: m, ...scoreFields(scores[i]) },
      );
      const anomalies = out.filter((m) => m.anomaly);
      seen += out.length;
      flagged += anomalies.length;
      const fleetStats = {
        mean: scores[0]?.mean ?? null,
        stdev: scores[0]?.stdev ?? null,
        count: values.filter((v) => v !== null).length,
      };
      send([
        { ...msg, payload: out, fleet: fleetStats },
        anomalies.length > 0 ? { ...msg, payload: anomalies, fleet: fleetStats } : null,
      ]);
      showCounts();
      done();
    }

    const order = new EventOrderBuffer<{ msg: Msg; value: number }>(
      { latenessMs: time.latenessMs, maxFutureMs: time.maxFutureMs },
      settings.maxKeys,
    );
    const lateKeys = new OncePerKey();
    let late = 0;
    let lastInputMs = Date.now();

    function streamOne(msg: Msg, send: Send, done: Done) {
      const read = readNumber(readMsgPath(RED, msg, settings.property), settings.property);
      if (!read.ok) return done(new Error(read.reason));
      const key = readKey(readMsgPath(RED, msg, settings.keyProperty));
      if (key === undefined) return done(new Error(`${settings.keyProperty} must be a string or number key`));
      if (!time.timeProperty) {
        score(key, read.value, msg, send);
        return done();
      }
      const timeMs = toEpochMs(readMsgPath(RED, msg, time.timeProperty));
      if (timeMs === undefined)
        return done(new Error(`msg.${time.timeProperty} is not a time (ISO string, Date or epoch ms)`));
      lastInputMs = Date.now();
      const result = order.add(key, timeMs, { msg, value: read.value }, lastInputMs);
      if (!result.ok && result.kind === 'future')
        return done(new Error(`${result.reason}; raise maxFutureSeconds if the clocks differ`));
      if (!result.ok) {
        late++;
        if (lateKeys.first(key))
          node.warn(`key "${key}": ${result.reason}; not scored (raise latenessSeconds)`);
        showCounts();
        return done();
      }
      // A key forgotten to make room for this one: its held samples are scored now, not lost.
      if (result.forgotten)
        for (const held of result.forgotten[1]) score(result.forgotten[0], held.value, held.msg, send);
      for (const held of result.released) score(key, held.value, held.msg, send);
      done();
    }

    /** Scores one value in its key's (event-time) order and sends the msg with the flags. */
    function score(key: string, value: number, msg: Msg, send: Send) {
      const score = stream.check(key, value);
      if (!capWarned && stream.evictedKeys > 0) {
        capWarned = true;
        node.warn(KEY_CAP_WARNING(settings.maxKeys));
      }
      const fields = { ...scoreFields(score), count: score.count };
      // The flags go beside the value: into payload for payload.value, onto msg for payload.
      const parentPath = settings.property.split('.').slice(0, -1).join('.');
      const parent = parentPath ? readMsgPath(RED, msg, parentPath) : msg;
      if (parent !== null && typeof parent === 'object') Object.assign(parent, fields);
      else Object.assign(msg, fields);
      seen++;
      if (score.anomaly) flagged++;
      send([msg, score.anomaly ? RED.util.cloneMessage(msg) : null]);
      showCounts();
    }

    const releaseAll = (send: Send, key?: string) => {
      for (const [k, items] of order.flush(key))
        for (const held of items) score(k, held.value, held.msg, send);
    };
    // The wall clock's one job in stream mode: values held for the lateness of keys that
    // had no input for idleSeconds are scored then.
    const idle =
      settings.mode === 'stream' && time.timeProperty && time.latenessMs > 0
        ? setInterval(
            () => {
              if (order.heldCount > 0 && Date.now() - lastInputMs >= time.idleMs)
                releaseAll((out) => node.send(out ?? undefined));
            },
            Math.min(time.idleMs, 60_000),
          )
        : undefined;

    onInput(node, (msg, send, done) => {
      if (msg.reset) {
        const key = readKey(readMsgPath(RED, msg, settings.keyProperty));
        stream.reset(key ? key : undefined);
        order.reset(key ? key : undefined);
        seen = 0;
        late = 0;
        flagged = 0;
        showStatus(node, 'idle', 'reset');
        return done();
      }
      if (settings.mode === 'fleet') fleet(msg, send, done);
      else if (msg.flush && msg.payload === undefined) {
        const key = readKey(readMsgPath(RED, msg, settings.keyProperty));
        releaseAll(send, key ? key : undefined);
        done();
      } else streamOne(msg, send, done);
    });

    const checkpoints =
      settings.mode === 'stream'
        ? startCheckpoints(
            settings.checkpointMs,
            () => saveState(node, stream.toJSON()),
            (err) => node.error(`checkpoint failed: ${(err as Error).message}`),
          )
        : undefined;

    node.on('close', (_removed: boolean, done: () => void) => {
      if (idle) clearInterval(idle);
      checkpoints?.stop();
      done();
    });
  }

  registerNode(RED, 'anomaly-flagger', ANOMALY_FLAGGER_MIGRATIONS, AnomalyFlaggerNode);
};
