/**
 * cov-filter: the change-of-value rule per key (nodes/core/cov-rule.ts). Passes a msg
 * when its value moved more than the absolute and/or percentage threshold from the last
 * passed value, or when the heartbeat is due in event time; `msg.cov` says why. With
 * lateness, msgs wait until the key's watermark passes them (docs/adr/0005).
 */
import { DEFAULT_MAX_FUTURE_MS } from '../core/event-time';
import { EventTimeCov, type CovDecided, type EventTimeCovState } from '../core/cov-rule';
import { toEpochMs } from '../core/timestamp';
import { everyAligned, type AlignedClock } from '../shared/aligned-clock';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { msgPathReader, readKey, readNumber } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import { parseCheckpointMs, startCheckpoints } from '../shared/checkpoint-timer';
import { DEFAULT_MAX_KEYS, KEY_CAP_WARNING, OncePerKey } from '../core/lru-keys';
import { compactCount, showStatus } from '../shared/status';
import type { Msg, Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { COV_FILTER_MIGRATIONS } from './migrations';

interface CovFilterConfig extends NodeDef {
  property?: string;
  keyProperty?: string;
  timeProperty?: string;
  absolute?: string | number;
  percent?: string | number;
  heartbeatSeconds?: string | number;
  latenessSeconds?: string | number;
  idleSeconds?: string | number;
  maxFutureSeconds?: string | number;
  maxKeys?: string | number;
  checkpointSeconds?: string | number;
}

const STATUS_EVERY_MS = 1000;

/** Config → the filter's options; inside parseAllSettings every bad setting is reported at once. */
function parseCovFilterOptions(config: CovFilterConfig, timeProperty: string) {
  const latenessMs = configNumber(config.latenessSeconds, 'latenessSeconds', 0, { min: 0 }) * 1000;
  // With arrival time the wall clock is the event time, so a quiet key follows it at once.
  const idleMs = configNumber(config.idleSeconds, 'idleSeconds', timeProperty ? 60 : 0, { min: 0 }) * 1000;
  const options = {
    absolute: configNumber(config.absolute, 'absolute', 0, { min: 0 }),
    percent: configNumber(config.percent, 'percent', 0, { min: 0 }),
    heartbeatMs: configNumber(config.heartbeatSeconds, 'heartbeatSeconds', 0, { min: 0 }) * 1000,
    latenessMs,
    maxFutureMs:
      configNumber(config.maxFutureSeconds, 'maxFutureSeconds', DEFAULT_MAX_FUTURE_MS / 1000, {
        min: 0,
      }) * 1000,
    maxKeys: configNumber(config.maxKeys, 'maxKeys', DEFAULT_MAX_KEYS, { min: 1, integer: true }),
  };
  return { options, idleMs, checkpointMs: parseCheckpointMs(config.checkpointSeconds) };
}

export = (RED: NodeAPI) => {
  function CovFilterNode(this: Node, config: CovFilterConfig) {
    RED.nodes.createNode(this, config);
    try {
      startCovFilter.call(this, config);
    } catch (err) {
      failOnBadConfig(this, err);
    }
  }

  function startCovFilter(this: Node, config: CovFilterConfig) {
    const property = config.property || 'payload';
    const keyProperty = config.keyProperty ?? 'topic';
    const timeProperty = config.timeProperty ?? '';
    const { options, idleMs, checkpointMs } = parseAllSettings(() =>
      parseCovFilterOptions(config, timeProperty),
    );
    const { latenessMs } = options;
    const filter = new EventTimeCov<Msg>(options, loadState<EventTimeCovState>(this));
    const readValue = msgPathReader(RED, property);
    const readKeyValue = keyProperty ? msgPathReader(RED, keyProperty) : () => '';
    const readTime = timeProperty ? msgPathReader(RED, timeProperty) : undefined;
    const badKeys = new OncePerKey();
    let passed = 0;
    let blocked = 0;
    let bad = 0;
    let late = 0;
    let statusAt = 0;

    const showCounts = (nowMs: number) => {
      statusAt = nowMs;
      const capped = filter.evictedKeys > 0;
      const text = capped
        ? `key cap ${compactCount(options.maxKeys)}`
        : `${compactCount(passed)} of ${compactCount(passed + blocked + bad + late)} passed`;
      showStatus(this, bad > 0 || late > 0 || capped ? 'warn' : 'ok', text);
    };
    let capWarned = false;
    const warnCapOnce = () => {
      if (capWarned || filter.evictedKeys === 0) return;
      capWarned = true;
      this.warn(KEY_CAP_WARNING(options.maxKeys));
      showCounts(Date.now());
    };
    const reportBad = (key: string, msg: Msg, reason: string) => {
      bad++;
      if (badKeys.first(key)) {
        this.error(reason, msg);
      }
      showCounts(Date.now());
    };
    const sendDecided = (decided: CovDecided<Msg>[], send: (msg: Msg) => void) => {
      for (const { item, decision } of decided) {
        if (!decision.pass) {
          blocked++;
          continue;
        }
        passed++;
        item.cov = { reason: decision.reason, previous: decision.previous ?? null };
        send(item);
      }
    };

    onInput(this, (msg, send, done) => {
      const key = readKey(readKeyValue(msg));
      const nowMs = Date.now();
      if (msg.reset || msg.flush) {
        if (msg.flush) sendDecided(filter.flush(key || undefined), send);
        if (msg.reset) filter.reset(key || undefined);
        return done();
      }
      const n = readNumber(readValue(msg), `msg.${property}`);
      if (key === undefined || !n.ok) {
        const reason =
          key === undefined
            ? `msg.${keyProperty} is not a string or number key`
            : `key "${key}": ${(n as { reason: string }).reason}`;
        reportBad(key ?? '', msg, reason);
        return done();
      }
      let timeMs = nowMs;
      if (readTime !== undefined) {
        const t = toEpochMs(readTime(msg));
        if (t === undefined) {
          reportBad(
            key,
            msg,
            `key "${key}": msg.${timeProperty} is not a time (ISO string, Date or epoch ms)`,
          );
          return done();
        }
        timeMs = t;
      }
      const offer = filter.offer(key, timeMs, n.value, msg, nowMs);
      if (!offer.ok) {
        if (offer.kind === 'future') reportBad(key, msg, `key "${key}": ${offer.reason}`);
        else {
          late++; // behind a value already decided: deciding it now would depend on arrival order
          showCounts(nowMs);
        }
        return done();
      }
      badKeys.forget(key);
      warnCapOnce();
      sendDecided(offer.decided, send);
      if (nowMs - statusAt >= STATUS_EVERY_MS) showCounts(nowMs);
      done();
    });

    // Held msgs exist only with lateness: then the wall clock releases those of quiet keys.
    const idleClock: AlignedClock | undefined =
      latenessMs > 0
        ? everyAligned(1000, () => sendDecided(filter.closeIdle(Date.now(), idleMs), (m) => this.send(m)), {
            offsetMs: 1,
            onError: (err) => this.error(`idle release failed: ${(err as Error).message}`),
          })
        : undefined;

    // Held msgs are not saved: a checkpoint keeps the decided state, a crash loses only held msgs.
    const checkpoints = startCheckpoints(
      checkpointMs,
      () => saveState(this, filter.toJSON()),
      (err) => this.error(`checkpoint failed: ${(err as Error).message}`),
    );

    this.on('close', (_removed: boolean, done: () => void) => {
      idleClock?.stop();
      // Msgs still waiting for the watermark are decided now rather than lost.
      sendDecided(filter.flush(), (m) => this.send(m));
      checkpoints.stop();
      done();
    });
  }
  registerNode(RED, 'cov-filter', COV_FILTER_MIGRATIONS, CovFilterNode);
};
