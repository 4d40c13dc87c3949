/**
 * Incremental CSV parsing from text or byte chunks: records come out as soon as their line
 * is complete, so a file is never held whole. Lines without a quote character take a fast
 * path (`split` on text; on bytes, one loop that finds the delimiters, handing out the
 * fields as byte ranges, so no string is made for a time or a number); quoted fields (with
 * doubled quotes, delimiters and newlines inside) take a character loop. CRLF and LF both
 * end a line. Line numbers are physical lines, 1-based, counting the header and blank
 * lines, so a report points at the file as an editor shows it.
 */
import { compileTimeParsers, type ByteTimeParser, type TimeFormat, type TimeParser } from './csv-timestamp';

export interface CsvSyntax {
  /** Field separator, one character [","]. */
  delimiter?: string;
  /** Quote character, one character ['"']; blank = no quoting. */
  quote?: string;
}

/** Receives each record (its fields) and the line it starts on. */
export type RecordHandler = (fields: string[], line: number) => void;
/** Receives a record that could not be read, with the line it starts on. */
export type BadRecordHandler = (line: number, reason: string) => void;
/**
 * Receives a record read from bytes: field i is `bytes[bounds[2i], bounds[2i+1])`, UTF-8.
 * `bytes` and `bounds` are reused: valid only during the call.
 */
export type ByteRecordHandler = (bytes: Buffer, bounds: Int32Array, count: number, line: number) => void;

export class CsvRecordReader {
  private readonly delimiter: string;
  private readonly quote: string;
  private carry = '';
  /** The incomplete last line of the bytes pushed so far. */
  private carryBytes: Buffer | undefined;
  /** Field bounds of the record being handed out from bytes (start, end pairs). */
  private bounds: Int32Array = new Int32Array(64);
  /** Lines fully consumed so far. */
  private linesDone = 0;

  /**
   * Records from text, and quoted records from bytes, go to `onRecord`; the other records
   * from bytes go to `onBytes`, or, without it, to `onRecord` as strings.
   */
  constructor(
    syntax: CsvSyntax,
    private readonly onRecord: RecordHandler,
    private readonly onBad: BadRecordHandler = () => {},
    private readonly onBytes?: ByteRecordHandler,
  ) {
    this.delimiter = syntax.delimiter ?? ',';
    this.quote = syntax.quote ?? '"';
    if (this.delimiter.length !== 1) throw new Error(`delimiter "${this.delimiter}" must be one character`);
    if (this.quote.length > 1) throw new Error(`quote "${this.quote}" must be one character or blank`);
    if (this.quote === this.delimiter) throw new Error('quote and delimiter must differ');
    if (this.delimiter.charCodeAt(0) > 127 || this.quote.charCodeAt(0) > 127) {
      // A byte scan finds only ASCII separators; others are read from text (pushBytes decodes).
      this.asciiSyntax = false;
    }
  }

  private readonly asciiSyntax: boolean = true;

  /** Lines read so far (the line number of the last complete line). */
  get lines(): number {
    return this.linesDone;
  }

  /** Feeds the next piece of text; complete records are handed out immediately. */
  push(chunk: string): void {
    const text = this.carry === '' ? chunk : this.carry + chunk;
    this.carry = '';
    const consumed = this.scan(text, false);
    if (consumed < text.length) this.carry = text.slice(consumed);
  }

  /** Ends the input: a last line without a newline is a record too. */
  end(): void {
    const bytes = this.carryBytes;
    this.carryBytes = undefined;
    if (bytes !== undefined) this.scanBytes(bytes, true);
    const text = this.carry;
    this.carry = '';
    if (text !== '') this.scan(text, true);
  }

  /**
   * Feeds the next piece of a UTF-8 byte stream (a chunk may end inside a character).
   * Use either this or `push` on one reader, not both.
   */
  pushBytes(chunk: Buffer): void {
    if (!this.asciiSyntax) return this.pushDecoded(chunk);
    let bytes = chunk;
    const carry = this.carryBytes;
    if (carry !== undefined) {
      this.carryBytes = undefined;
      // Only the line cut by the chunk boundary is copied together, not the whole chunk.
      const newline = chunk.indexOf(10);
      const head = Buffer.concat([carry, newline === -1 ? chunk : chunk.subarray(0, newline + 1)]);
      const used = newline === -1 ? 0 : this.scanBytes(head, false);
      bytes =
        used === head.length
          ? chunk.subarray(newline + 1)
          : Buffer.concat([
              head.subarray(used),
              newline === -1 ? Buffer.alloc(0) : chunk.subarray(newline + 1),
            ]);
    }
    const consumed = this.scanBytes(bytes, false);
    // A copy: the caller may reuse the chunk's memory.
    if (consumed < bytes.length) this.carryBytes = Buffer.from(bytes.subarray(consumed));
  }

  /** With a non-ASCII delimiter or quote: whole characters decoded, then read as text. */
  private pushDecoded(chunk: Buffer): void {
    let bytes = chunk;
    if (this.carryBytes !== undefined) {
      bytes = Buffer.concat([this.carryBytes, chunk]);
      this.carryBytes = undefined;
    }
    const whole = completeUtf8Length(bytes);
    if (whole < bytes.length) this.carryBytes = Buffer.from(bytes.subarray(whole));
    this.push(bytes.toString('utf8', 0, whole));
  }

  /** Reads records from `bytes`; returns how many bytes were consumed. */
  private scanBytes(bytes: Buffer, final: boolean): number {
    if (!this.asciiSyntax) {
      this.push(bytes.toString('utf8'));
      return bytes.length;
    }
    const delim = this.delimiter.charCodeAt(0);
    const q = this.quote === '' ? -1 : this.quote.charCodeAt(0);
    const length = bytes.length;
    let bounds: Int32Array = this.bounds;
    let start = 0;
    while (start < length) {
      let count = 0;
      let i = start;
      let quoted = false;
      bounds[0] = start;
      for (; i < length; i++) {
        const c = bytes[i];
        if (c === 10) break;
        if (c === delim) {
          if (2 * count + 3 > bounds.length) bounds = this.growBounds();
          bounds[2 * count + 1] = i;
          count++;
          bounds[2 * count] = i + 1;
        } else if (c === q) {
          quoted = true;
          break;
        }
      }
      if (quoted) {
        const next = this.quotedBytes(bytes, start, final);
        if (next === undefined) return start;
        start = next;
        continue;
      }
      if (i === length && !final) return start;
      const lineEnd = i > start && bytes[i - 1] === 13 ? i - 1 : i;
      this.linesDone++;
      if (lineEnd > start) {
        bounds[2 * count + 1] = lineEnd;
        this.recordFromBytes(bytes, bounds, count + 1);
      }
      start = i + 1;
    }
    return length;
  }

  private growBounds(): Int32Array {
    const bigger = new Int32Array(this.bounds.length * 2);
    bigger.set(this.bounds);
    this.bounds = bigger;
    return bigger;
  }

  private recordFromBytes(bytes: Buffer, bounds: Int32Array, count: number): void {
    if (this.onBytes) return this.onBytes(bytes, bounds, count, this.linesDone);
    this.onRecord(textFields(bytes, bounds, count), this.linesDone);
  }

  /**
   * A record with a quote character in its first line, read as text one line at a time
   * until it ends; returns the byte index after it, or undefined when it continues past
   * the bytes read so far. Files quoting every field take this path for every line.
   */
  private quotedBytes(bytes: Buffer, start: number, final: boolean): number | undefined {
    let from = start;
    for (;;) {
      const newline = bytes.indexOf(10, from);
      const last = newline === -1;
      const stop = last ? bytes.length : newline + 1;
      if (last && !final) return undefined;
      const text = bytes.toString('utf8', start, stop);
      const consumed = this.quotedRecord(text, 0, final && last);
      // A record ends at a line end, so it takes the whole text decoded.
      if (consumed !== undefined) {
        return consumed === text.length ? stop : start + Buffer.byteLength(text.slice(0, consumed));
      }
      if (last) return undefined;
      from = stop;
    }
  }

  /** Reads records from `text`; returns how many characters were consumed. */
  private scan(text: string, final: boolean): number {
    const { delimiter, quote } = this;
    const length = text.length;
    let start = 0;
    // The next quote position is looked up again only once it is passed, so text
    // without quotes is scanned once, not once per line.
    let quoteAt = -2;
    while (start < length) {
      let newline = text.indexOf('\n', start);
      if (newline === -1) {
        if (!final) return start;
        newline = length;
      }
      if (quoteAt !== -1 && quoteAt < start) quoteAt = quote === '' ? -1 : text.indexOf(quote, start);
      if (quoteAt === -1 || quoteAt > newline) {
        const lineEnd = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
        this.linesDone++;
        if (lineEnd > start) this.onRecord(text.slice(start, lineEnd).split(delimiter), this.linesDone);
        start = newline + 1;
        continue;
      }
      const quoted = this.quotedRecord(text, start, final);
      if (quoted === undefined) return start;
      start = quoted;
    }
    return length;
  }

  /**
   * A record with quoted fields starting at `start`; returns the index after it, or
   * undefined when the record continues past the end of the text read so far.
   */
  private quotedRecord(text: string, start: number, final: boolean): number | undefined {
    const delim = this.delimiter.charCodeAt(0);
    const q = this.quote.charCodeAt(0);
    const line = this.linesDone + 1;
    const fields: string[] = [];
    let field = '';
    let i = start;
    let inQuotes = false;
    let newlines = 0;
    let malformed = '';
    const length = text.length;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (inQuotes) {
        if (c === q) {
          if (i + 1 < length && text.charCodeAt(i + 1) === q) {
            field += this.quote;
            i += 2;
            continue;
          }
          if (i + 1 >= length && !final) return undefined;
          inQuotes = false;
          i++;
          continue;
        }
        if (c === 10) newlines++;
        field += text[i];
        i++;
        continue;
      }
      if (c === delim) {
        fields.push(field);
        field = '';
        i++;
        continue;
      }
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) === 10)) {
        const next = c === 13 ? i + 2 : i + 1;
        this.linesDone += newlines + 1;
        fields.push(field);
        if (malformed) this.onBad(line, malformed);
        else this.onRecord(fields, line);
        return next;
      }
      if (c === q) {
        if (field === '') inQuotes = true;
        else if (!malformed) malformed = `stray quote in field ${fields.length + 1}`;
        i++;
        continue;
      }
      field += text[i];
      i++;
    }
    if (!final) return undefined;
    this.linesDone += newlines + 1;
    if (inQuotes) {
      this.onBad(line, `quote opened in field ${fields.length + 1} is never closed`);
      return length;
    }
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    if (malformed) this.onBad(line, malformed);
    else this.onRecord(fields, line);
    return length;
  }
}

/** How many leading bytes form whole UTF-8 characters (the rest is a character cut short). */
function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const c = bytes[n - back];
    if (c < 0x80) return n;
    if (c >= 0xc0) {
      const size = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return size > back ? n - back : n;
    }
  }
  return n;
}

/** Parses a whole text at once (for tests and small inputs): records with line numbers. */
export function parseCsvText(
  text: string,
  syntax: CsvSyntax = {},
): { records: { fields: string[]; line: number }[]; bad: { line: number; reason: string }[] } {
  const records: { fields: string[]; line: number }[] = [];
  const bad: { line: number; reason: string }[] = [];
  const reader = new CsvRecordReader(
    syntax,
    (fields, line) => records.push({ fields, line }),
    (line, reason) => bad.push({ line, reason }),
  );
  reader.push(text);
  reader.end();
  return { records, bad };
}

/**
 * A number from CSV text: blank → null (a missing value), not a number → NaN.
 * With `decimalComma`, "49,99" reads as 49.99.
 */
export function csvNumber(text: string, decimalComma = false): number | null {
  if (text === '') return null;
  const n = +(decimalComma && text.indexOf(',') !== -1 ? text.replace(',', '.') : text);
  if (n === 0 && text.trim() === '') return null;
  return Number.isFinite(n) ? n : NaN;
}

/** Splits a comma-separated setting ("a, b,c") into trimmed non-empty names. */
export function nameList(setting: string | undefined): string[] {
  return (setting ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** How records become row objects or points (see csv-source's help). */
export interface RowMapping {
  /** Column names in file order (from the header line or configured). */
  columns: string[];
  /** Column holding the time; blank = rows carry no time. */
  timeColumn?: string;
  timeFormat?: TimeFormat;
  timeZone?: string;
  decimalComma?: boolean;
  /** Columns that must hold numbers (blank → null); text there makes the row bad. */
  numberColumns?: string[];
  /** `rows`: one object per record; `points`: `{measurement, tags, fields, timestamp}`. */
  output?: 'rows' | 'points';
  measurement?: string;
  tagColumns?: string[];
  /** Point fields; blank = every column that is neither time nor tag. */
  fieldColumns?: string[];
  /** Tags every point of this input gets (e.g. `{series: <file name>}`). */
  constantTags?: Record<string, string>;
}

export type MappedRecord = Record<string, unknown>;

const AUTO = 0;
const NUMBER = 1;
const TIME = 2;
const TAG = 3;
const FIELD = 4;
const SKIP = 5;

/**
 * Turns records into row objects (values typed: number, null for blank, else text) or
 * points. `map` returns the object, or a string saying why the record is bad.
 */
export class CsvRowMapper {
  private readonly kinds: number[];
  private readonly names: string[];
  private readonly parseTime: TimeParser;
  private readonly parseTimeBytes: ByteTimeParser | undefined;
  private readonly decimalComma: boolean;
  private readonly points: boolean;
  private readonly measurement: string;
  private readonly constantTags: Record<string, string> | undefined;
  private readonly hasTagColumns: boolean;
  private readonly tagTexts = new ShortTextCache();

  constructor(mapping: RowMapping) {
    const { columns } = mapping;
    this.names = columns;
    this.points = mapping.output === 'points';
    this.decimalComma = mapping.decimalComma === true;
    const time = compileTimeParsers(mapping.timeFormat ?? 'auto', mapping.timeZone ?? 'UTC');
    this.parseTime = time.text;
    this.parseTimeBytes = time.bytes;
    this.measurement = mapping.measurement ?? '';
    const known = (name: string, what: string) => {
      if (!columns.includes(name)) {
        throw new Error(`${what} "${name}" is not a column (columns: ${columns.join(', ')})`);
      }
    };
    const timeColumn = mapping.timeColumn ?? '';
    if (timeColumn) known(timeColumn, 'time column');
    const numbers = mapping.numberColumns ?? [];
    numbers.forEach((c) => known(c, 'number column'));
    const tags = mapping.tagColumns ?? [];
    const fields = mapping.fieldColumns ?? [];
    if (this.points) {
      if (!this.measurement) throw new Error('points need a measurement name');
      tags.forEach((c) => known(c, 'tag column'));
      fields.forEach((c) => known(c, 'field column'));
    }
    this.kinds = columns.map((name) => {
      if (name === timeColumn) return TIME;
      if (this.points) {
        if (tags.includes(name)) return TAG;
        return fields.length === 0 || fields.includes(name) ? FIELD : SKIP;
      }
      return numbers.includes(name) ? NUMBER : AUTO;
    });
    this.constantTags = mapping.constantTags;
    this.hasTagColumns = tags.length > 0;
  }

  map(values: string[]): MappedRecord | string {
    const { kinds, names } = this;
    if (values.length !== kinds.length) {
      return `expected ${kinds.length} fields, found ${values.length}`;
    }
    return this.points ? this.toPoint(values, kinds, names) : this.toRow(values, kinds, names);
  }

  /** `map` for a record read from bytes (see ByteRecordHandler): points without a string per time or number. */
  mapBytes(bytes: Buffer, bounds: Int32Array, count: number): MappedRecord | string {
    const { kinds, names } = this;
    if (count !== kinds.length) return `expected ${kinds.length} fields, found ${count}`;
    if (!this.points) return this.toRow(textFields(bytes, bounds, count), kinds, names);
    const fields: Record<string, number> = {};
    let tags: Record<string, string> | undefined = this.hasTagColumns
      ? { ...this.constantTags }
      : this.constantTags;
    let timestamp: number | undefined;
    let fieldCount = 0;
    for (let i = 0; i < kinds.length; i++) {
      const start = bounds[2 * i];
      const end = bounds[2 * i + 1];
      const kind = kinds[i];
      if (kind === FIELD) {
        if (end === start) continue; // blank: a missing value
        let n: number | null | undefined = plainDecimal(bytes, start, end, this.decimalComma);
        if (n === undefined) {
          const text = bytes.toString('utf8', start, end);
          n = csvNumber(text, this.decimalComma);
          if (n !== n)
            return `${names[i]} "${clip(text)}" is not a number${commaHint(text, this.decimalComma)}`;
        }
        if (n === null) continue;
        fields[names[i]] = n;
        fieldCount++;
      } else if (kind === TIME) {
        let t = this.parseTimeBytes ? this.parseTimeBytes(bytes, start, end) : NaN;
        if (t !== t) {
          const text = bytes.toString('utf8', start, end);
          t = this.parseTime(text);
          if (t !== t) return `time "${clip(text)}" in column ${names[i]} cannot be read`;
        }
        timestamp = t;
      } else if (kind === TAG) {
        if (end > start) (tags ??= {})[names[i]] = this.tagTexts.text(bytes, start, end);
      }
    }
    if (fieldCount === 0) return 'no field values';
    return pointOf(this.measurement, tags ?? {}, fields, timestamp);
  }

  private toRow(values: string[], kinds: number[], names: string[]): MappedRecord | string {
    const row: MappedRecord = {};
    for (let i = 0; i < kinds.length; i++) {
      const text = values[i];
      const kind = kinds[i];
      if (kind === TIME) {
        const t = this.parseTime(text);
        if (t !== t) return `time "${clip(text)}" in column ${names[i]} cannot be read`;
        row[names[i]] = t;
      } else if (kind === NUMBER) {
        const n = csvNumber(text, this.decimalComma);
        if (n !== n)
          return `${names[i]} "${clip(text)}" is not a number${commaHint(text, this.decimalComma)}`;
        row[names[i]] = n;
      } else {
        const n = csvNumber(text, this.decimalComma);
        row[names[i]] = n === n ? n : text;
      }
    }
    return row;
  }

  private toPoint(values: string[], kinds: number[], names: string[]): MappedRecord | string {
    const fields: Record<string, number> = {};
    let tags: Record<string, string> | undefined = this.hasTagColumns
      ? { ...this.constantTags }
      : this.constantTags;
    let timestamp: number | undefined;
    let fieldCount = 0;
    for (let i = 0; i < kinds.length; i++) {
      const text = values[i];
      const kind = kinds[i];
      if (kind === FIELD) {
        const n = csvNumber(text, this.decimalComma);
        if (n === null) continue;
        if (n !== n)
          return `${names[i]} "${clip(text)}" is not a number${commaHint(text, this.decimalComma)}`;
        fields[names[i]] = n;
        fieldCount++;
      } else if (kind === TIME) {
        const t = this.parseTime(text);
        if (t !== t) return `time "${clip(text)}" in column ${names[i]} cannot be read`;
        timestamp = t;
      } else if (kind === TAG) {
        if (text !== '') (tags ??= {})[names[i]] = text;
      }
    }
    if (fieldCount === 0) return 'no field values';
    return pointOf(this.measurement, tags ?? {}, fields, timestamp);
  }
}

/**
 * A point, `timestamp` left out when there is none. One literal each: adding `timestamp` to
 * a made object cost a second allocation per row (its property store).
 */
function pointOf(
  measurement: string,
  tags: Record<string, string>,
  fields: Record<string, number>,
  timestamp: number | undefined,
): MappedRecord {
  return timestamp === undefined ? { measurement, tags, fields } : { measurement, tags, fields, timestamp };
}

/**
 * Strings of short byte sequences (tag values such as a turbine id repeat on every row),
 * looked up by a number the bytes give one to one, so a repeated value makes no string.
 */
class ShortTextCache {
  private static readonly MAX_BYTES = 6; // 257^6 < 2^53: the key stays exact
  private static readonly MAX_ENTRIES = 4096;
  private readonly texts = new Map<number, string>();

  text(bytes: Buffer, start: number, end: number): string {
    if (end - start > ShortTextCache.MAX_BYTES) return bytes.toString('utf8', start, end);
    let key = 0;
    for (let i = start; i < end; i++) key = key * 257 + bytes[i] + 1;
    let text = this.texts.get(key);
    if (text === undefined) {
      if (this.texts.size >= ShortTextCache.MAX_ENTRIES) this.texts.clear();
      text = bytes.toString('utf8', start, end);
      this.texts.set(key, text);
    }
    return text;
  }
}

/** The fields of a byte record as strings. */
export function textFields(bytes: Buffer, bounds: Int32Array, count: number): string[] {
  const fields: string[] = new Array(count);
  for (let f = 0; f < count; f++) fields[f] = bytes.toString('utf8', bounds[2 * f], bounds[2 * f + 1]);
  return fields;
}

const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `csvNumber` of the bytes [start, end) when they are a plain decimal (`-12.5`, `49,99`
 * with a decimal comma) of at most 15 digits, else undefined (the caller decodes the text).
 * Digits and 10^k are then exact doubles, so one division rounds as `+text` does.
 */
export function plainDecimal(
  bytes: Uint8Array,
  start: number,
  end: number,
  decimalComma: boolean,
): number | undefined {
  let i = start;
  let c = bytes[i];
  const negative = c === 45;
  if (negative || c === 43) i++;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < end; i++) {
    c = bytes[i];
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if ((c === 46 || (c === 44 && decimalComma)) && decimals < 0) decimals = 0;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const value = decimals > 0 ? mantissa / POWERS_OF_TEN[decimals] : mantissa;
  return negative ? -value : value;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function commaHint(text: string, decimalComma: boolean): string {
  return !decimalComma && /^-?\d+,\d+$/.test(text.trim()) ? ' (turn on Decimal comma to read it)' : '';
}
