import { isoUtc, toEpochMs } from '../core/timestamp';
import type { ModelName } from '../core/forecast-models';
import {
  accuracyPayload,
  forecastPayload,
  ForecastStream,
  type ForecastSettings,
  type ForecastStreamState,
  type AccuracyOutput,
  type ObserveResult,
} from '../core/forecast-stream';
import { configNumber } from '../shared/config-number';
import { readKey, readMsgPath, readNumber } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import type { Msg, Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { compactCount, showStatus } from '../shared/status';
import { DEFAULT_MAX_KEYS, KEY_CAP_WARNING, LruMap } from '../core/lru-keys';
import { settingsOrFail } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { FORECASTER_MIGRATIONS } from './migrations';
import { parseForecastConfig, type ForecastConfig } from '../shared/forecast-config';

interface ForecasterConfig extends NodeDef, ForecastConfig {
  idleSeconds?: string | number;
  maxFutureSeconds?: string | number;
  property?: string;
  timeProperty?: string;
  keyProperty?: string;
  maxKeys?: string | number;
}

interface Settings extends ForecastSettings {
  property: string;
  timeProperty: string;
  keyProperty: string;
  idleMs: number;
  maxKeys: number;
}

interface SavedState {
  keys: Record<string, ForecastStreamState>;
}

const SHORT: Record<ModelName, string> = {
  persistence: 'persist',
  'seasonal-naive': 'snaive',
  'holt-winters': 'HW',
  ridge: 'ridge',
};

function accuracyMsg(key: string, accuracy: AccuracyOutput): Msg {
  return { topic: key, payload: accuracyPayload(accuracy) } as Msg;
}

function parseSettings(config: ForecasterConfig): Settings {
  return {
    ...parseForecastConfig(config),
    idleMs: configNumber(config.idleSeconds, 'idleSeconds', 300, { min: 1 }) * 1000,
    maxFutureMs: configNumber(config.maxFutureSeconds, 'maxFutureSeconds', 300, { min: 0 }) * 1000,
    property: config.property || 'payload',
    timeProperty: config.timeProperty ?? 'timestamp',
    keyProperty: config.keyProperty ?? 'topic',
    maxKeys: configNumber(config.maxKeys, 'maxKeys', DEFAULT_MAX_KEYS, { min: 1, integer: true }),
  };
}

export = (RED: NodeAPI) => {
  function ForecasterNode(this: Node, config: ForecasterConfig) {
    RED.nodes.createNode(this, config);
    const settings = settingsOrFail(this, () => parseSettings(config));
    if (!settings) return;
    const streams = new LruMap<ForecastStream>(settings.maxKeys);
    const saved = loadState<SavedState>(this);
    for (const [key, state] of Object.entries(saved?.keys ?? {})) {
      try {
        streams.set(key, new ForecastStream(settings, state));
      } catch (err) {
        this.warn(`saved state of key "${key}" not restored (${(err as Error).message}); starting it empty`);
      }
    }
    // Saved after every step, so a crash loses at most the msg in flight; only the key
    // that changed is serialised again.
    let keys: Record<string, ForecastStreamState> = {};
    const persist = (changed?: string) => {
      if (changed === undefined) {
        keys = {};
        for (const [key, stream] of streams) keys[key] = stream.toJSON();
      } else {
        const stream = streams.get(changed);
        if (stream) keys[changed] = stream.toJSON();
      }
      saveState(this, { keys } satisfies SavedState);
    };
    const retrain = (only?: string) => {
      let trained = 0;
      for (const [key, stream] of streams)
        if ((only === undefined || key === only) && stream.retrain()) trained++;
      persist();
      return trained;
    };
    const stepText = (ms: number) =>
      settings.stepMs >= 60_000 ? isoUtc(ms).slice(11, 16) : isoUtc(ms).slice(11, 19);

    const lastArrival = new Map<string, number>();
    let capWarned = false;
    /** At maxKeys, the key idle the longest makes room for `key` (one warning). */
    const forgetIdlestIfFull = (key: string) => {
      const forgotten = streams.admit(key);
      if (forgotten === undefined) return;
      Reflect.deleteProperty(keys, forgotten);
      lastArrival.delete(forgotten);
      if (!capWarned) this.warn(KEY_CAP_WARNING(settings.maxKeys));
      capWarned = true;
    };
    const forecastMsgs = (key: string, stream: ForecastStream, results: ObserveResult[]): [Msg[], Msg[]] => {
      const forecasts: Msg[] = [];
      const accuracies: Msg[] = [];
      for (const result of results) {
        if (result.kind === 'dropped') {
          showStatus(this, 'warn', `old step ${stepText(result.stepTimeMs)}`);
          continue;
        }
        const { forecast, accuracy, filled } = result;
        forecasts.push({
          topic: key,
          payload: forecastPayload(forecast),
          filled,
        } as Msg);
        if (accuracy) accuracies.push(accuracyMsg(key, accuracy));
        if (capWarned) showStatus(this, 'warn', `key cap ${compactCount(settings.maxKeys)}`);
        else if (!stream.ready)
          showStatus(this, 'warn', `persist ${stream.series.length}/${stream.minHistory}`);
        else if (filled > 0)
          showStatus(this, 'warn', `filled ${filled} → ${stepText(forecast.targetTimeMs)}`);
        else showStatus(this, 'ok', `${SHORT[forecast.model]} → ${stepText(forecast.targetTimeMs)}`);
      }
      return [forecasts, accuracies];
    };
    /** Sends one msg per output port when there is a single result (the common case), else arrays. */
    const sendAll = (
      send: (msgs: (Msg | Msg[] | null)[]) => void,
      [forecasts, accuracies]: [Msg[], Msg[]],
    ) => {
      if (forecasts.length === 0 && accuracies.length === 0) return;
      const port = (msgs: Msg[]) => (msgs.length === 0 ? null : msgs.length === 1 ? msgs[0] : msgs);
      send([port(forecasts), port(accuracies)]);
    };
    const flushKeys = (send: (msgs: (Msg | Msg[] | null)[]) => void, only?: string) => {
      for (const [key, stream] of streams) {
        if (only !== undefined && key !== only) continue;
        if (stream.heldCount === 0) continue;
        sendAll(send, forecastMsgs(key, stream, stream.flush()));
        persist(key);
      }
    };

    onInput(this, (msg, send, done) => {
      const key = readKey(readMsgPath(RED, msg, settings.keyProperty));
      if (msg.reset) {
        if (key) streams.delete(key);
        else streams.clear();
        persist();
        showStatus(this, 'idle', 'reset');
        return done();
      }
      if (msg.retrain) {
        const trained = retrain(key || undefined);
        showStatus(this, 'ok', `retrained ${trained}`);
        return done();
      }
      if (msg.flush && msg.payload === undefined) {
        flushKeys(send, key || undefined);
        return done();
      }
      if (key === undefined) throw new Error(`msg.${settings.keyProperty} must be a string or number key`);
      const value = readNumber(readMsgPath(RED, msg, settings.property), `msg.${settings.property}`);
      if (!value.ok) throw new Error(value.reason);
      const nowMs = Date.now();
      let timeMs = nowMs;
      if (settings.timeProperty) {
        const raw = readMsgPath(RED, msg, settings.timeProperty);
        const t = toEpochMs(raw);
        if (t === undefined) {
          throw new Error(
            `msg.${settings.timeProperty} ${raw === undefined ? 'is missing' : `"${String(raw)}" is not a time`}` +
              ' (send epoch ms or ISO-8601, or clear Time property to use arrival time)',
          );
        }
        timeMs = t;
      }
      let stream = streams.use(key);
      if (!stream) {
        stream = new ForecastStream(settings);
        forgetIdlestIfFull(key);
        streams.set(key, stream);
      }
      const admission = stream.admit(timeMs, nowMs);
      if (!admission.ok) throw new Error(`${admission.reason}; raise maxFutureSeconds if the clocks differ`);
      lastArrival.set(key, nowMs);
      const out = forecastMsgs(key, stream, stream.add(timeMs, value.value));
      if (msg.flush) {
        const [forecasts, accuracies] = forecastMsgs(key, stream, stream.flush());
        out[0].push(...forecasts);
        out[1].push(...accuracies);
      }
      persist(key);
      if (stream.heldCount > 0 && out[0].length === 0) showStatus(this, 'busy', `held ${stream.heldCount}`);
      sendAll(send, out);
      done();
    });

    // The one use of the wall clock: samples held for the lateness of a key that went
    // quiet are released after idleSeconds without new samples.
    const idleTimer = setInterval(
      () => {
        const nowMs = Date.now();
        for (const [key, stream] of streams) {
          if (stream.heldCount === 0 || nowMs - (lastArrival.get(key) ?? 0) < settings.idleMs) continue;
          sendAll((msgs) => this.send(msgs), forecastMsgs(key, stream, stream.flush()));
          persist(key);
        }
      },
      Math.min(settings.idleMs, 60_000),
    );
    persist();
    showStatus(this, 'idle', streams.size > 0 ? `restored ${streams.size}` : 'waiting');

    this.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(idleTimer);
      persist();
      done();
    });
  }
  registerNode(RED, 'forecaster', FORECASTER_MIGRATIONS, ForecasterNode);
};
