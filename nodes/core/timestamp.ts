/**
 * Timestamps as they arrive in msgs and files: epoch milliseconds, Date objects and
 * ISO-8601 strings. A string without a zone suffix ("2024-07-05T12:01:00",
 * "2019-11-25 05:54:08.8640000") is read as UTC, since the APIs and files gridflow
 * reads label such fields UTC (see docs/adr/0002-timestamps.md).
 */

const ISO_LIKE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch ms for an ISO-like string, or undefined when it is not one. */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO_LIKE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 24 || Number(mi) > 59 || Number(s) > 60)
    return undefined;
  const utc = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s), ms);
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return undefined;
  return utc - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

/**
 * Years 0000–9999, what ISO-8601 strings here can say: a number beyond it (1e20) is no
 * time a Date can print, and toISOString() would throw in the node that got it.
 */
const MIN_EPOCH_MS = -62_167_219_200_000; // 0000-01-01T00:00:00Z
const MAX_EPOCH_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const inRange = (ms: number) => (ms >= MIN_EPOCH_MS && ms <= MAX_EPOCH_MS ? ms : undefined);

/** Epoch ms from a number (epoch ms), a Date or a time string; undefined when it is none of these. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') return inRange(value); // NaN and ±Infinity fail the range too
  if (value instanceof Date) return inRange(value.getTime());
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) return inRange(Number(trimmed));
    return parseIsoTime(trimmed);
  }
  return undefined;
}

/** ISO-8601 UTC text for an epoch ms value. */
export function isoUtc(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
