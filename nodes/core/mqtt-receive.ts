/**
 * What the aedes-broker node sends for a message published to a topic its *Subscribe*
 * filter matches (docs/adr/0151). Pure: no I/O. Payload types as the core mqtt in node
 * offers them: `auto` (parsed JSON when the text is JSON, else the text, else a Buffer),
 * `json` (parsed JSON, else refused), `utf8` (the text), `buffer` (the bytes).
 */
export const PAYLOAD_TYPES = ['auto', 'json', 'utf8', 'buffer'] as const;
export type PayloadType = (typeof PAYLOAD_TYPES)[number];

export type Decoded = { ok: true; payload: unknown } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function jsonOf(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function decodePayload(bytes: Buffer, type: PayloadType): Decoded {
  if (type === 'buffer') return { ok: true, payload: bytes };
  const text = textOf(bytes);
  if (type === 'utf8')
    return text === undefined
      ? { ok: false, reason: 'the payload is not UTF-8 text' }
      : { ok: true, payload: text };
  if (text === undefined)
    return type === 'auto'
      ? { ok: true, payload: bytes }
      : { ok: false, reason: 'the payload is not UTF-8 text' };
  const json = jsonOf(text);
  if (json.ok) return { ok: true, payload: json.value };
  return type === 'auto' ? { ok: true, payload: text } : { ok: false, reason: 'the payload is not JSON' };
}
