/**
 * The I/O half of csv-source: finds files (a path, a folder, or a `*`/`?` pattern in the
 * last path segment), streams each one through the CSV reader in batches, yields to
 * the event loop after every chunk (docs/adr/0043-csv-source-backpressure.md) and moves
 * finished files to a done folder. No Node-RED here, so the bench and tests drive it.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import {
  CsvRecordReader,
  CsvRowMapper,
  textFields,
  type MappedRecord,
  type RowMapping,
} from '../core/csv-parse';

export interface CsvRunSettings {
  delimiter: string;
  quote: string;
  hasHeader: boolean;
  /** Names replacing the header (or naming the columns of a file without one). */
  columns: string[];
  mapping: Omit<RowMapping, 'columns' | 'constantTags'>;
  /** Tag that gets the file name without extension (points only). */
  fileTag: string;
  batchSize: number;
  /** Bytes per read; each read is followed by a yield to the event loop. */
  chunkBytes: number;
}

export interface BadRow {
  file: string;
  line: number;
  reason: string;
}

export interface FileReport {
  file: string;
  rows: number;
  badRows: number;
  /** The first bad rows (up to MAX_BAD_LISTED). */
  bad: BadRow[];
  durationMs: number;
  rowsPerSecond: number;
  movedTo?: string;
}

export const MAX_BAD_LISTED = 1000;

/** What a run reports back while it reads. */
export interface RunHooks {
  batch(records: MappedRecord[], file: string, firstLine: number): void;
  bad(row: BadRow, countInFile: number): void;
  progress(file: string, rows: number, fraction: number): void;
  /** true when the run should stop (node closed). */
  stopped(): boolean;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Files named by a path, a folder (its *.csv) or a pattern like `dir/*.csv`, sorted by name. */
export async function matchFiles(pattern: string): Promise<string[]> {
  const last = basename(pattern);
  if (!/[*?]/.test(last)) {
    const info = await stat(pattern);
    if (!info.isDirectory()) return [pattern];
    return matchFiles(join(pattern, '*.csv'));
  }
  const dir = dirname(pattern);
  if (/[*?]/.test(dir)) throw new Error(`pattern "${pattern}": wildcards only in the file name`);
  const re = new RegExp(
    `^${last
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && re.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Reads one source (a file path, or text with a name) in batches. */
export async function readCsv(
  source: { path: string } | { name: string; text: string },
  settings: CsvRunSettings,
  hooks: RunHooks,
): Promise<FileReport> {
  const file = 'path' in source ? source.path : source.name;
  const started = Date.now();
  const bad: BadRow[] = [];
  let badRows = 0;
  let rows = 0;
  let batch: MappedRecord[] = [];
  let batchLine = 0;
  let mapper: CsvRowMapper | undefined;
  let headerError: Error | undefined;
  const constantTags = settings.fileTag ? { [settings.fileTag]: basename(file, extname(file)) } : undefined;

  const reportBad = (line: number, reason: string) => {
    badRows++;
    const row = { file, line, reason };
    if (bad.length < MAX_BAD_LISTED) bad.push(row);
    hooks.bad(row, badRows);
  };
  const makeMapper = (header: string[]) => {
    const columns = settings.columns.length > 0 ? settings.columns : header.map((h) => h.trim());
    if (settings.columns.length > 0 && settings.hasHeader && header.length !== columns.length) {
      throw new Error(
        `${file}: the header has ${header.length} columns, the setting names ${columns.length}`,
      );
    }
    return new CsvRowMapper({ ...settings.mapping, columns, constantTags });
  };
  if (!settings.hasHeader) mapper = makeMapper(settings.columns);
  const accept = (out: MappedRecord | string, line: number) => {
    if (typeof out === 'string') return reportBad(line, out);
    if (batch.length === 0) batchLine = line;
    batch.push(out);
    rows++;
    if (batch.length >= settings.batchSize) {
      hooks.batch(batch, file, batchLine);
      batch = [];
    }
  };
  /** The first record, when the file has a header line. */
  const readHeader = (header: string[]) => {
    if (headerError) return;
    try {
      mapper = makeMapper(header);
    } catch (err) {
      headerError = err as Error;
    }
  };
  const reader = new CsvRecordReader(
    { delimiter: settings.delimiter, quote: settings.quote },
    (fields, line) => (mapper ? accept(mapper.map(fields), line) : readHeader(fields)),
    reportBad,
    (bytes, bounds, count, line) =>
      mapper
        ? accept(mapper.mapBytes(bytes, bounds, count), line)
        : readHeader(textFields(bytes, bounds, count)),
  );
  const flushBatch = () => {
    if (batch.length > 0) hooks.batch(batch, file, batchLine);
    batch = [];
  };

  if ('text' in source) {
    reader.push(stripBom(source.text));
    reader.end();
    if (headerError) throw headerError;
    flushBatch();
    hooks.progress(file, rows, 1);
  } else {
    const size = (await stat(source.path)).size;
    const stream = createReadStream(source.path, { highWaterMark: settings.chunkBytes });
    let first = true;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        reader.pushBytes(first ? stripBomBytes(chunk) : chunk);
        first = false;
        if (headerError) throw headerError;
        hooks.progress(file, rows, size > 0 ? stream.bytesRead / size : 1);
        // Let the batches just sent travel on through the flow before reading more.
        await yieldToLoop();
        if (hooks.stopped()) {
          stream.destroy();
          break;
        }
      }
    } finally {
      stream.destroy();
    }
    if (!hooks.stopped()) {
      reader.end();
      if (headerError) throw headerError;
      flushBatch();
      hooks.progress(file, rows, 1);
    }
  }
  const durationMs = Math.max(Date.now() - started, 0);
  return {
    file,
    rows,
    badRows,
    bad,
    durationMs,
    rowsPerSecond: durationMs > 0 ? Math.round((rows * 1000) / durationMs) : rows,
  };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function stripBomBytes(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** Moves a finished file into `doneFolder` (relative to the file's folder unless absolute); never deletes. */
export async function moveToDone(path: string, doneFolder: string): Promise<string> {
  const folder = isAbsolute(doneFolder) ? doneFolder : join(dirname(path), doneFolder);
  await mkdir(folder, { recursive: true });
  let target = join(folder, basename(path));
  try {
    await stat(target);
    const ext = extname(path);
    target = join(folder, `${basename(path, ext)}.${new Date().toISOString().replace(/[:.]/g, '-')}${ext}`);
  } catch {
    // the name is free
  }
  try {
    await rename(path, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(path, target);
    await unlink(path);
  }
  return target;
}

/** Replaces `${NAME}` in a setting; unknown names are an error naming them. */
export function expandVariables(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const value = lookup(name);
    if (value === undefined || value === '') throw new Error(`path uses \${${name}}, which is not set`);
    return value;
  });
}
