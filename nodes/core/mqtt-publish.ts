/**
 * What a msg wired into the embedded broker publishes (aedes-broker's input, docs/adr/0151).
 * Pure: no I/O.
 * - `msg.topic` (a string) and `msg.payload`: one message;
 * - no `msg.topic` and `msg.payload` an array of `{topic, payload}` items: one message per
 *   item, in order (moving-window's batch output).
 * Messages go out at QoS 0: aedes 1.2 loses a QoS 1 message it publishes itself when a QoS 0
 * one follows at once (seen in this repo's tests), so `msg.qos` 1 or 2 is refused with the
 * advice to use mqtt out. `msg.retain` (default false) applies to every message.
 * Payloads go out as MQTT out sends them: a Buffer as it is, a string as its UTF-8 bytes,
 * null/undefined as an empty payload, anything else as JSON.
 */
export interface BrokerPublish {
  topic: string;
  payload: Buffer;
  qos: 0;
  retain: boolean;
}

export interface PublishPlan {
  publishes: BrokerPublish[];
  /** Why items (or the msg) were not published, one line each. */
  refused: string[];
}

const MAX_TOPIC_BYTES = 65_535;

/** Why `topic` cannot be published to, or undefined when it can. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic === '') return 'the topic is not a non-empty string';
  if (topic.includes('+') || topic.includes('#')) return `topic "${topic}" has a wildcard (+ or #)`;
  if (topic.startsWith('$')) return `topic "${topic}" starts with $ (reserved for the broker)`;
  if (topic.includes('\u0000')) return 'the topic holds a NUL character';
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) return `the topic is longer than ${MAX_TOPIC_BYTES} bytes`;
  return undefined;
}

export function payloadBytes(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload);
  if (payload === null || payload === undefined) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(payload) ?? '');
}

function qosProblem(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '' || Number(raw) === 0) return undefined;
  return Number(raw) === 1 || Number(raw) === 2
    ? `msg.qos ${JSON.stringify(raw)}: msgs wired into the broker go out at QoS 0; use an mqtt out node for QoS 1 or 2`
    : `msg.qos ${JSON.stringify(raw)} is not 0, 1 or 2`;
}

function isBatch(msg: Record<string, unknown>): msg is { payload: unknown[] } {
  return (msg.topic === undefined || msg.topic === '') && Array.isArray(msg.payload);
}

export function publishesOf(msg: Record<string, unknown>): PublishPlan {
  const badQos = qosProblem(msg.qos);
  if (badQos !== undefined) return { publishes: [], refused: [badQos] };
  const retain = msg.retain === true || msg.retain === 'true';
  const publishes: BrokerPublish[] = [];
  const refused: string[] = [];
  const add = (topic: unknown, payload: unknown, where: string) => {
    const problem = topicProblem(topic);
    if (problem !== undefined) return refused.push(`${where}.topic: ${problem}`);
    try {
      publishes.push({ topic: topic as string, payload: payloadBytes(payload), qos: 0, retain });
    } catch (err) {
      refused.push(`${where}.payload cannot be written as JSON (${(err as Error).message})`);
    }
  };
  if (!isBatch(msg)) {
    add(msg.topic, msg.payload, 'msg');
    return { publishes, refused };
  }
  msg.payload.forEach((item, i) => {
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const { topic, payload } = item as Record<string, unknown>;
      add(topic, payload, `msg.payload[${i}]`);
    } else refused.push(`msg.payload[${i}] is not a {topic, payload} object`);
  });
  return { publishes, refused };
}
