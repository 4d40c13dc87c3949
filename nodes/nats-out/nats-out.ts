/**
 * nats-out: publishes each msg to JetStream with a deterministic message id, so the
 * stream's de-duplication drops a result that a replay after failover publishes again.
 * The subject comes from the node or from msg.topic (MQTT `a/b/c` becomes NATS `a.b.c`,
 * so MQTT subscribers of any server of the cluster see it on the same topic).
 */
import { createHash } from 'node:crypto';
import type { JetStreamClient } from 'nats';
import { publishUntilAcked } from '../nats-connection/js-publish';
import type { NatsConnectionNode } from '../nats-connection/nats-streams';
import { failOnBadConfig } from '../shared/config-failure';
import type { Msg, Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { compactCount, showStatus } from '../shared/status';
import { onInput, registerNode } from '../shared/node-handler';
import { NATS_OUT_MIGRATIONS } from './migrations';

interface NatsOutConfig extends NodeDef {
  connection?: string;
  subject?: string;
}

const encoder = new TextEncoder();

function mqttTopicToSubject(topic: string): string {
  return topic.replace(/\//g, '.');
}

function subjectOf(configured: string, msg: Msg): string {
  const raw = configured || (typeof msg.topic === 'string' ? msg.topic : '');
  const subject = mqttTopicToSubject(raw.trim());
  if (subject === '' || /(^\.|\.\.|\.$|[\s*>])/.test(subject)) {
    throw new Error(
      `subject "${raw}" is not a publishable NATS subject (set msg.topic, e.g. gridflow/out/s/k/avg5m)`,
    );
  }
  return subject;
}

/** msg.messageId, else a digest of subject + body: a replayed identical result gets the same id. */
function messageId(msg: Msg, subject: string, body: string): string {
  if (typeof msg.messageId === 'string' && msg.messageId !== '') return msg.messageId;
  return createHash('sha256').update(subject).update('\n').update(body).digest('base64url');
}

export = (RED: NodeAPI) => {
  function NatsOutNode(this: Node, config: NatsOutConfig) {
    RED.nodes.createNode(this, config);
    try {
      startPublisher.call(this, config);
    } catch (err) {
      failOnBadConfig(this, err);
    }
  }

  function startPublisher(this: Node, config: NatsOutConfig) {
    const connection = RED.nodes.getNode(config.connection ?? '') as NatsConnectionNode | null;
    const configuredSubject = (config.subject ?? '').trim();
    let js: Promise<JetStreamClient> | undefined;
    let published = 0;
    let duplicates = 0;
    let closed = false;
    this.on('close', () => {
      closed = true;
    });
    if (!connection?.configured) showStatus(this, 'idle', 'off: no servers');

    onInput(this, (msg, _send, done) => {
      void (async () => {
        if (!connection?.configured)
          throw new Error('no NATS servers set in the connection (GRIDFLOW_NATS_URL)');
        const subject = subjectOf(configuredSubject, msg);
        const body = typeof msg.payload === 'string' ? msg.payload : JSON.stringify(msg.payload ?? null);
        const id = messageId(msg, subject, body);
        js ??= connection.connection().then((nc) => nc.jetstream());
        // Retried through a server restart or leader election: the same id keeps it stored once.
        const ack = await publishUntilAcked(await js, subject, encoder.encode(body), {
          msgID: id,
          cancelled: () => closed,
        });
        if (ack.duplicate) duplicates++;
        else published++;
        showStatus(
          this,
          'ok',
          `${compactCount(published)} sent${duplicates ? ` ${compactCount(duplicates)} dup` : ''}`,
        );
      })().then(
        () => done(),
        (err: Error) => {
          js = undefined;
          showStatus(this, 'error', 'publish failed');
          done(err);
        },
      );
    });
  }
  registerNode(RED, 'nats-out', NATS_OUT_MIGRATIONS, NatsOutNode);
};
