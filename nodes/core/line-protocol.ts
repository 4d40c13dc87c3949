/**
 * InfluxDB line protocol, built directly: the hot path of influx-write. Escaping follows
 * the line-protocol spec as InfluxDB 1.x parses it (docs/adr/0020):
 * - measurement: `,` and space escaped;
 * - tag keys, tag values, field keys: `,`, `=` and space escaped;
 * - string field values: in double quotes, `"` and `\` escaped; newlines kept as they are
 *   (InfluxDB reads them inside quotes);
 * - a newline or carriage return in a name or tag value cannot be carried by line
 *   protocol: it is written as the two characters `\n` / `\r` (as the official v2 client
 *   does), so one odd tag never breaks a whole batch;
 * - a backslash is literal; an odd run of backslashes right before an escaped character or
 *   at the end of a name/tag value gets one more, else it would escape the delimiter; in a
 *   field key a backslash run before `"` gets one more (InfluxDB unescapes `\"` there).
 * Numbers are floats; integers are written with `i` when the value is a bigint or
 * `{int: n}` (docs/adr/0021). Timestamps are converted to the precision exactly, without
 * going through a float for us/ns.
 */
import { floatText } from './float-text';
import { parseIsoTime } from './timestamp';

export type Precision = 'ns' | 'us' | 'ms' | 's';
export const PRECISIONS: readonly Precision[] = ['ns', 'us', 'ms', 's'];

/** An explicit integer field value: `{int: 42}` (number, bigint or digit string). */
export interface IntegerValue {
  int: number | bigint | string;
}
export type FieldValue = number | bigint | boolean | string | IntegerValue | null | undefined;
export type Timestamp = number | string | Date | bigint;

export interface Point {
  measurement?: string;
  tags?: Record<string, unknown>;
  fields: Record<string, FieldValue>;
  /** Epoch ms (number), ISO-8601 string, Date, or epoch nanoseconds (bigint). */
  timestamp?: Timestamp;
}

/** One line, or why the point cannot be written. */
export type LineResult = { ok: true; line: string } | { ok: false; reason: string };

const NAME_SPECIAL = /[, =\\\n\r]/;
const MEASUREMENT_SPECIAL = /[, \\\n\r]/;
const STRING_SPECIAL = /["\\]/;

function escapeWith(text: string, special: RegExp, withEquals: boolean, fieldKey = false): string {
  if (!special.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ',' || c === ' ' || (withEquals && c === '=')) out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\\') {
      // InfluxDB's scanner pairs backslashes from the left: a run of them right before an
      // escaped character or the end must be even, or it would swallow the delimiter.
      let end = i;
      while (text[end] === '\\') end++;
      const next = text[end];
      const beforeDelimiter =
        next === undefined || next === ',' || next === ' ' || (withEquals && next === '=');
      const run = end - i;
      // Field keys also read `\"` as an escaped quote: one more backslash keeps the run intact.
      const extra = (beforeDelimiter && run % 2 === 1) || (fieldKey && next === '"') ? 1 : 0;
      out += '\\'.repeat(run + extra);
      i = end - 1;
    } else out += c;
  }
  return out;
}

export function escapeMeasurement(name: string): string {
  return escapeWith(name, MEASUREMENT_SPECIAL, false);
}

/** Tag keys and tag values. */
export function escapeKey(name: string): string {
  return escapeWith(name, NAME_SPECIAL, true);
}

/** Field keys: as tag keys, and InfluxDB also unescapes `\"` in them. */
export function escapeFieldKey(name: string): string {
  return escapeWith(name, NAME_SPECIAL, true, true);
}

/** A string field value, quoted. */
export function quoteString(value: string): string {
  if (!STRING_SPECIAL.test(value)) return '"' + value + '"';
  return '"' + value.replace(/["\\]/g, '\\$&') + '"';
}

const INTEGER_TEXT = /^-?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The line-protocol text of a field value, `undefined` to leave the field out, or an error. */
export function formatFieldValue(value: FieldValue): string | undefined | Error {
  switch (typeof value) {
    case 'number':
      if (Number.isFinite(value)) return value === 0 ? '0' : floatText(value);
      return new Error(`is ${String(value)}, which InfluxDB cannot store`);
    case 'string':
      return quoteString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return formatInteger(value);
    case 'undefined':
      return undefined;
    case 'object':
      if (value === null) return undefined;
      if ('int' in value) return formatInteger(value.int);
      return new Error('is an object (send a number, string, boolean, bigint or {int: n})');
    default:
      return new Error(`is a ${typeof value}`);
  }
}

function formatInteger(raw: unknown): string | Error {
  let n: bigint;
  if (typeof raw === 'bigint') n = raw;
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) n = BigInt(raw);
  else if (typeof raw === 'string' && INTEGER_TEXT.test(raw.trim())) n = BigInt(raw.trim());
  else
    return new Error(`{int: ${String(raw)}} is not an integer (use a safe integer, bigint or digit string)`);
  if (n < INT64_MIN || n > INT64_MAX) return new Error(`integer ${n} is outside the 64-bit range`);
  return `${n}i`;
}

const DIGITS: Record<Precision, number> = { s: 0, ms: 3, us: 6, ns: 9 };
const PAD = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000', '000000000'];
/** Date's range: ±8.64e15 ms around 1970. */
const MAX_EPOCH_MS = 8.64e15;

/**
 * The timestamp in `precision` as integer text, or an Error. Numbers are epoch ms (a
 * fraction gives sub-ms time, as exact as the float is); a bigint is epoch ns; ISO strings
 * keep all nine fraction digits. Finer parts than the precision are truncated toward the past.
 */
export function formatTimestamp(value: Timestamp, precision: Precision): string | Error {
  if (typeof value === 'number') return epochMsToPrecision(value, precision);
  if (value instanceof Date) return epochMsToPrecision(value.getTime(), precision);
  if (typeof value === 'bigint') return nsToPrecision(value, precision);
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return epochMsToPrecision(Number(text), precision);
    const ns = isoToEpochNs(text);
    if (ns === undefined) return new Error(`timestamp "${text}" is not ISO-8601 or epoch ms`);
    return nsToPrecision(ns, precision);
  }
  return new Error(`timestamp is a ${typeof value} (send epoch ms, an ISO-8601 string or a Date)`);
}

export function epochMsToPrecision(ms: number, precision: Precision): string | Error {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS)
    return new Error(`timestamp ${ms} is out of range`);
  if (Number.isInteger(ms)) {
    // Integer ms: exact by string arithmetic, no float multiplication for us/ns.
    switch (precision) {
      case 'ms':
        return integerText(ms);
      case 's':
        return String(Math.floor(ms / 1000));
      default:
        return ms === 0 ? '0' : integerText(ms) + (precision === 'us' ? '000' : '000000');
    }
  }
  const whole = Math.floor(ms);
  const ns = BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
  return nsToPrecision(ns, precision);
}

/**
 * String(n) of an integer above 2^31 runs the double-to-text algorithm (≈ 1 µs, the
 * dearest part of a line): split epoch ms into a high part (whole 1,000 s, which changes
 * rarely from point to point, so its text is cached) and a low part below 10^6.
 */
let lastHigh = -1;
let lastHighText = '';
const LOW_PAD = ['00000', '0000', '000', '00', '0', ''];

function integerText(n: number): string {
  if (n < 1e6 || n >= 1e15) return String(n);
  const high = Math.floor(n / 1e6);
  if (high !== lastHigh) {
    lastHigh = high;
    lastHighText = String(high);
  }
  const low = n - high * 1e6;
  const digits = low < 10 ? 1 : low < 100 ? 2 : low < 1000 ? 3 : low < 10_000 ? 4 : low < 100_000 ? 5 : 6;
  return lastHighText + LOW_PAD[digits - 1] + String(low);
}

function nsToPrecision(ns: bigint, precision: Precision): string {
  const divisor = 10n ** BigInt(9 - DIGITS[precision]);
  let q = ns / divisor;
  if (ns < 0n && q * divisor !== ns) q -= 1n; // floor, not toward zero
  return q.toString();
}

const ISO_FRACTION = /^(.*?\d{2}:\d{2}:\d{2})[.,](\d+)(.*)$/;

/** Epoch nanoseconds of an ISO-8601 string, keeping up to nine fraction digits exactly. */
export function isoToEpochNs(text: string): bigint | undefined {
  const m = ISO_FRACTION.exec(text);
  if (!m) {
    const ms = parseIsoTime(text);
    return ms === undefined ? undefined : BigInt(ms) * 1_000_000n;
  }
  const seconds = parseIsoTime(m[1] + m[3]);
  if (seconds === undefined) return undefined;
  const fraction = (m[2] + PAD[9]).slice(0, 9);
  return BigInt(seconds) * 1_000_000n + BigInt(fraction);
}

/**
 * Where the pieces of a line go. influx-write's batches write them as bytes: one line
 * string per point would be a rope of ~10 pieces that UTF-8 encoding must first flatten
 * (≈ 0.5 µs a point, more than building it).
 */
export interface LineSink {
  /** Appends `text` as it is. */
  text(text: string): void;
  /** Appends the decimal digits of `n`, an integer in [0, 2^53). */
  digits(n: number): void;
  /** Appends floatText(n) of a finite number (String's text of it). */
  float(n: number): void;
  /** The current end, to go back to when a point turns out bad half-way. */
  mark(): number;
  rollback(mark: number): void;
}

/** A sink that keeps the pieces as a string: for `LineBuilder.line`. */
class StringSink implements LineSink {
  value = '';
  text(text: string): void {
    this.value += text;
  }
  digits(n: number): void {
    this.value += integerText(n);
  }
  float(n: number): void {
    this.value += floatText(n);
  }
  mark(): number {
    return this.value.length;
  }
  rollback(mark: number): void {
    this.value = this.value.slice(0, mark);
  }
}

/**
 * Builds lines for points; caches the escaped measurement and keys, which repeat from
 * point to point. Missing timestamps get `nowMs` so a replay is idempotent (docs/adr/0023).
 */
const NEVER_EQUAL = Symbol('never equal');

export class LineBuilder {
  /** The last series (measurement and tags) and its escaped text: points of a batch mostly share one. */
  private lastMeasurement = '';
  private readonly lastTagKeys: string[] = [];
  private readonly lastTagValues: unknown[] = [];
  private lastTagCount = 0;
  private lastSeries = '';
  private readonly keyCache = new Map<string, string>();
  /** ` key=` for the first field of a line, `,key=` for the others. */
  private readonly firstFieldPrefixes = new Map<string, string>();
  private readonly fieldPrefixes = new Map<string, string>();
  /** Series texts by measurement, tag key, tag value, …: a file's points cycle through a few series. */
  private readonly seriesTexts = new SeriesTexts();

  constructor(readonly precision: Precision) {}

  /** The point as one line (without the newline), or why it cannot be written. */
  line(point: Point, defaultMeasurement: string | undefined, nowMs: number): LineResult {
    const sink = new StringSink();
    const reason = this.write(point, defaultMeasurement, nowMs, sink);
    return reason === undefined ? { ok: true, line: sink.value } : { ok: false, reason };
  }

  /**
   * Writes the point's line (without a newline) into `sink`; returns why it cannot be written
   * (then nothing of it stays in the sink), or undefined.
   */
  write(
    point: Point,
    defaultMeasurement: string | undefined,
    nowMs: number,
    sink: LineSink,
  ): string | undefined {
    const measurement = point.measurement ?? defaultMeasurement;
    if (typeof measurement !== 'string' || measurement === '')
      return reasonFor('has no measurement (set one in the node or send msg.measurement)');
    const tags = point.tags;
    if (tags && typeof tags !== 'object') return reasonFor('has tags that are not an object');
    const fields = point.fields;
    if (!fields || typeof fields !== 'object') return reasonFor('has no fields');
    const start = sink.mark();
    if (measurement !== this.lastMeasurement || !this.sameTags(tags)) this.newSeries(measurement, tags);
    sink.text(this.lastSeries);
    let first = true;
    for (const key in fields) {
      const value = fields[key];
      if (typeof value === 'number' && Number.isFinite(value)) {
        // formatFieldValue's text of a number, written without a string where the sink can.
        sink.text(this.fieldPrefix(key, first));
        sink.float(value);
        first = false;
        continue;
      }
      const text = formatFieldValue(value);
      if (text === undefined) continue;
      if (text instanceof Error) {
        sink.rollback(start);
        return reasonFor(`field "${key}" ${text.message}`);
      }
      sink.text(this.fieldPrefix(key, first));
      sink.text(text);
      first = false;
    }
    if (first) {
      sink.rollback(start);
      return reasonFor('has no field with a value');
    }
    const timestamp = point.timestamp ?? nowMs;
    const whole = this.wholeTime(timestamp);
    if (whole !== undefined) {
      sink.text(' ');
      sink.digits(whole);
      return undefined;
    }
    const time = formatTimestamp(timestamp, this.precision);
    if (time instanceof Error) {
      sink.rollback(start);
      return reasonFor(time.message);
    }
    sink.text(' ');
    sink.text(time);
    return undefined;
  }

  /**
   * The time as the integer to write, for the usual case: epoch ms at or after 1970 that are
   * whole, in ms or s precision (formatTimestamp's text of them, without building a string
   * per point); undefined otherwise.
   */
  private wholeTime(timestamp: Timestamp): number | undefined {
    if (typeof timestamp !== 'number' || !Number.isInteger(timestamp)) return undefined;
    if (timestamp < 0 || timestamp > MAX_EPOCH_MS) return undefined;
    if (this.precision === 'ms') return timestamp;
    return this.precision === 's' ? Math.floor(timestamp / 1000) : undefined;
  }

  /** Whether `tags` has the keys and values of the last series, in the same order. */
  private sameTags(tags: Record<string, unknown> | undefined): boolean {
    const keys = this.lastTagKeys;
    const values = this.lastTagValues;
    const count = this.lastTagCount;
    let i = 0;
    for (const key in tags) {
      if (i >= count || keys[i] !== key || values[i] !== tags[key]) return false;
      i++;
    }
    return i === count;
  }

  private newSeries(measurement: string, tags: Record<string, unknown> | undefined): void {
    this.lastMeasurement = measurement;
    let count = 0;
    let cached: SeriesNode | undefined = this.seriesTexts.start(measurement);
    for (const key in tags) {
      const value = tags[key];
      this.lastTagKeys[count] = key;
      // An object's text may change while it stays the same object: never a match.
      const changeable = (typeof value === 'object' && value !== null) || typeof value === 'function';
      this.lastTagValues[count++] = changeable ? NEVER_EQUAL : value;
      cached = changeable ? undefined : this.seriesTexts.next(this.seriesTexts.next(cached, key), value);
    }
    this.lastTagCount = count;
    if (cached?.text !== undefined) {
      this.lastSeries = cached.text;
      return;
    }
    let series = escapeMeasurement(measurement);
    for (const key in tags) {
      const value = tags[key];
      if (value === undefined || value === null || value === '') continue; // InfluxDB has no empty tags
      series += ',' + this.key(key) + '=' + escapeKey(typeof value === 'string' ? value : String(value));
    }
    this.lastSeries = series;
    if (cached) cached.text = series;
  }

  private key(name: string): string {
    let escaped = this.keyCache.get(name);
    if (escaped === undefined) {
      escaped = escapeKey(name);
      if (this.keyCache.size < 10_000) this.keyCache.set(name, escaped);
    }
    return escaped;
  }

  private fieldPrefix(name: string, first: boolean): string {
    const cache = first ? this.firstFieldPrefixes : this.fieldPrefixes;
    let prefix = cache.get(name);
    if (prefix === undefined) {
      prefix = (first ? ' ' : ',') + escapeFieldKey(name) + '=';
      if (cache.size < 10_000) cache.set(name, prefix);
    }
    return prefix;
  }
}

interface SeriesNode {
  text?: string;
  next?: Map<unknown, SeriesNode>;
}

/** A trie of series texts; emptied when it holds MAX_NODES (a tag that never repeats, say). */
class SeriesTexts {
  private static readonly MAX_NODES = 20_000;
  private root: SeriesNode = {};
  private nodes = 0;

  /** The node of a measurement. */
  start(measurement: string): SeriesNode {
    return this.child(this.root, measurement);
  }

  /** The node after `parent` for a tag key or value; none after none. */
  next(parent: SeriesNode | undefined, part: unknown): SeriesNode | undefined {
    return parent && this.child(parent, part);
  }

  private child(parent: SeriesNode, part: unknown): SeriesNode {
    const next = (parent.next ??= new Map());
    let node = next.get(part);
    if (node === undefined) {
      if (++this.nodes > SeriesTexts.MAX_NODES) {
        this.root = {};
        this.nodes = 0;
      }
      node = {};
      next.set(part, node);
    }
    return node;
  }
}

function reasonFor(what: string): string {
  return `point ${what}`;
}

/** Whether a value is a point (`{fields: {...}}`) rather than an object of fields. */
export function isPointShape(value: unknown): value is Point {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Point).fields === 'object' &&
    (value as Point).fields !== null
  );
}
