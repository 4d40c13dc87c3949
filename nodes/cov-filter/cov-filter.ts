/**
 * cov-filter: the change-of-value rule per key (nodes/core/cov-rule.ts). Passes a msg
 * when its value moved more than the absolute and/or percentage threshold from the last
 * passed value, or when the heartbeat is due; `msg.cov` says why.
 */
import { CovRule, type CovRuleState } from '../core/cov-rule';
import { configNumber } from '../shared/config-number';
import { readKey, readMsgPath, readNumber } from '../shared/msg-property';
import { loadState, saveState } from '../shared/node-state';
import { compactCount, showStatus } from '../shared/status';
import type { Done, Msg, Node, NodeAPI, NodeDef, Send } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';

interface CovFilterConfig extends NodeDef {
  property?: string;
  keyProperty?: string;
  absolute?: string | number;
  percent?: string | number;
  heartbeatSeconds?: string | number;
}

const STATUS_EVERY_MS = 1000;

function reader(RED: NodeAPI, path: string): (msg: Msg) => unknown {
  if (/^[A-Za-z_$][\w$]*$/.test(path)) return (msg) => msg[path];
  return (msg) => readMsgPath(RED, msg, path);
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
    const rule = new CovRule(
      {
        absolute: configNumber(config.absolute, 'absolute', 0, { min: 0 }),
        percent: configNumber(config.percent, 'percent', 0, { min: 0 }),
        heartbeatMs: configNumber(config.heartbeatSeconds, 'heartbeatSeconds', 0, { min: 0 }) * 1000,
      },
      loadState<CovRuleState>(this),
    );
    const readValue = reader(RED, property);
    const readKeyValue = keyProperty ? reader(RED, keyProperty) : () => '';
    const badKeys = new Set<string>();
    let passed = 0;
    let blocked = 0;
    let bad = 0;
    let statusAt = 0;

    const showCounts = (nowMs: number) => {
      statusAt = nowMs;
      const text = `${compactCount(passed)} of ${compactCount(passed + blocked + bad)} passed`;
      showStatus(this, bad > 0 ? 'warn' : 'ok', text);
    };

    this.on('input', (input, nodeSend, done: Done) => {
      const msg = input as Msg;
      const send = nodeSend as Send;
      const key = readKey(readKeyValue(msg));
      const nowMs = Date.now();
      if (msg.reset) {
        rule.reset(key || undefined);
        return done();
      }
      const n = readNumber(readValue(msg), `msg.${property}`);
      if (key === undefined || !n.ok) {
        bad++;
        const k = key ?? '';
        if (!badKeys.has(k)) {
          badKeys.add(k);
          this.error(
            key === undefined
              ? `msg.${keyProperty} is not a string or number key`
              : `key "${k}": ${(n as { reason: string }).reason}`,
            msg,
          );
        }
        showCounts(nowMs);
        return done();
      }
      if (badKeys.size > 0) badKeys.delete(key);
      const decision = rule.offer(key, n.value, nowMs);
      if (decision.pass) {
        passed++;
        msg.cov = { reason: decision.reason, previous: decision.previous ?? null };
        send(msg);
      } else blocked++;
      if (nowMs - statusAt >= STATUS_EVERY_MS) showCounts(nowMs);
      done();
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      saveState(this, rule.toJSON());
      done();
    });
  }
  RED.nodes.registerType('cov-filter', CovFilterNode);
};
