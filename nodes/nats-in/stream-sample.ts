/**
 * A sample as it sits in the partitioned stream: subject
 * `gridflow.part.<partition>.<stream>.<key>`, payload `{"time": ISO-8601 or epoch ms,
 * "value": number}` (design README § Scale-out). Bad samples get a reason that says what
 * to send instead; they never stop the partition.
 */
import { toEpochMs } from '../core/timestamp';

export interface StreamSample {
  stream: string;
  key: string;
  timeMs: number;
  value: number;
  seq: number;
}

export type ParsedSample = { ok: true; sample: StreamSample } | { ok: false; reason: string };

const decoder = new TextDecoder();

export function parseStreamSample(subject: string, data: Uint8Array, seq: number): ParsedSample {
  const tokens = subject.split('.');
  const stream = tokens[3] ?? '';
  const key = tokens.slice(4).join('.');
  if (stream === '' || key === '') {
    return { ok: false, reason: `subject "${subject}" has no key (publish to gridflow/in/<stream>/<key>)` };
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, reason: 'payload is not JSON (send {"time": ..., "value": number})' };
  }
  if (typeof body !== 'object' || body === null) {
    return { ok: false, reason: 'payload is not an object (send {"time": ..., "value": number})' };
  }
  const { time, value } = body as { time?: unknown; value?: unknown };
  if (time === undefined || time === null || time === '') {
    return { ok: false, reason: 'payload has no "time" (ISO-8601 or epoch ms)' };
  }
  const timeMs = toEpochMs(time);
  if (timeMs === undefined || !Number.isFinite(timeMs)) {
    return { ok: false, reason: `payload "time" ${JSON.stringify(time)} is not ISO-8601 or epoch ms` };
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return { ok: false, reason: `payload "value" ${JSON.stringify(value)} is not a finite number` };
  }
  return { ok: true, sample: { stream, key, timeMs, value, seq } };
}
