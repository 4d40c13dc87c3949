import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Done, Msg, Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { showStatus, compactCount, countOf } from '../shared/status';
import { configNumber, parseAllSettings } from '../shared/config-number';
import { nameList } from '../core/csv-parse';
import { TIME_FORMATS, type TimeFormat } from '../core/csv-timestamp';
import { assertTimeZone } from '../core/time-zone';
import {
  expandVariables,
  matchFiles,
  moveToDone,
  readCsv,
  type CsvRunSettings,
  type FileReport,
} from './csv-file-run';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { CSV_SOURCE_MIGRATIONS } from './migrations';

interface CsvSourceConfig extends NodeDef {
  path: string;
  delimiter: string;
  quote: string;
  decimalComma: boolean;
  hasHeader: boolean;
  columns: string;
  timeColumn: string;
  timeFormat: TimeFormat;
  timezone: string;
  numberColumns: string;
  output: 'rows' | 'points';
  measurement: string;
  tagColumns: string;
  fieldColumns: string;
  fileTag: string;
  batchSize: string | number;
  readOnStart: boolean;
  watch: boolean;
  doneFolder: string;
}

/** Bundled data (GRIDFLOW_DATA_DIR's default): <package>/data beside dist/. */
const BUNDLED_DATA_DIR = join(__dirname, '..', '..', '..', 'data');
const WARNINGS_PER_FILE = 10;
const STATUS_EVERY_MS = 500;
const WATCH_SETTLE_MS = 300;

function parseSettings(config: CsvSourceConfig): CsvRunSettings {
  const delimiter = config.delimiter === '\\t' || config.delimiter === 'tab' ? '\t' : config.delimiter || ',';
  const timeFormat = config.timeFormat || 'auto';
  if (!TIME_FORMATS.includes(timeFormat))
    throw new Error(`timeFormat "${timeFormat}" is not one of ${TIME_FORMATS}`);
  const timeZone = (config.timezone || 'UTC').trim();
  assertTimeZone(timeZone);
  const output = config.output || 'rows';
  if (output !== 'rows' && output !== 'points') throw new Error(`output "${output}" must be rows or points`);
  const hasHeader = config.hasHeader !== false;
  const columns = nameList(config.columns);
  if (!hasHeader && columns.length === 0) throw new Error('a file without a header line needs Columns');
  return {
    delimiter,
    quote: config.quote ?? '"',
    hasHeader,
    columns,
    mapping: {
      timeColumn: (config.timeColumn || '').trim(),
      timeFormat,
      timeZone,
      // With ';' or tab between fields, "49,99" can only be a decimal comma.
      decimalComma: config.decimalComma === true || delimiter !== ',',
      numberColumns: nameList(config.numberColumns),
      output,
      measurement: (config.measurement || '').trim(),
      tagColumns: nameList(config.tagColumns),
      fieldColumns: nameList(config.fieldColumns),
    },
    fileTag: (config.fileTag || '').trim(),
    batchSize: configNumber(config.batchSize, 'batchSize', 5000, { min: 1, max: 1_000_000, integer: true }),
    // 64 KB (≈ 2,600 Swissgrid rows, 2–3 ms of parsing): a write answered meanwhile gets its
    // next batch sent within that, so the database waits less between batches than with 256 KB.
    chunkBytes: 64 * 1024,
  };
}

type Source = { path: string } | { name: string; text: string };

export = (RED: NodeAPI) => {
  function CsvSourceNode(this: Node, config: CsvSourceConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: CsvRunSettings;
    try {
      settings = parseAllSettings(() => parseSettings(config));
      if (settings.mapping.output === 'points' && !settings.mapping.measurement)
        throw new Error('output points needs a Measurement');
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const doneFolder = (config.doneFolder || '').trim();
    let closing = false;
    let lastStatus = 0;
    let queue: Promise<void> = Promise.resolve();
    const seen = new Map<string, string>();

    const lookup = (name: string) =>
      RED.util.getSetting(node, name) || (name === 'GRIDFLOW_DATA_DIR' ? BUNDLED_DATA_DIR : undefined);
    const configuredPath = () => expandVariables((config.path || '').trim(), lookup);

    /** Reads the sources one after another; resolves with the reports. */
    async function run(sources: Source[], trigger: Msg): Promise<FileReport[]> {
      const started = Date.now();
      const reports: FileReport[] = [];
      for (const source of sources) {
        if (closing) break;
        const name = 'path' in source ? source.path : source.name;
        try {
          const report = await readCsv(source, settings, {
            batch: (records, file, firstLine) =>
              node.send([{ topic: basename(file), filename: file, line: firstLine, payload: records }, null]),
            bad: (row, count) => {
              if (count <= WARNINGS_PER_FILE)
                node.warn(`${row.file}:${row.line}: ${row.reason}; row skipped`);
              else if (count === WARNINGS_PER_FILE + 1)
                node.warn(`${row.file}: more bad rows, see the report`);
            },
            progress: (_file, rows, fraction) => {
              const now = Date.now();
              if (now - lastStatus < STATUS_EVERY_MS && fraction < 1) return;
              lastStatus = now;
              const seconds = Math.max((now - started) / 1000, 0.001);
              const total = reports.reduce((n, r) => n + r.rows, 0) + rows;
              const pct = Math.floor(fraction * 100);
              showStatus(
                node,
                'busy',
                `${compactCount(total)} ${compactCount(Math.round(total / seconds))}/s ${pct}%`,
              );
            },
            stopped: () => closing,
          });
          if ('path' in source) {
            seen.set(source.path, await fingerprint(source.path));
            if (doneFolder && !closing) report.movedTo = await moveToDone(source.path, doneFolder);
          }
          reports.push(report);
          node.send([null, { topic: 'file', filename: name, payload: report }]);
        } catch (err) {
          const message = `${name}: ${(err as Error).message}`;
          node.error(message, { ...trigger, filename: name });
          node.send([null, { topic: 'file', filename: name, payload: { file: name, error: message } }]);
        }
      }
      const durationMs = Date.now() - started;
      const rows = reports.reduce((n, r) => n + r.rows, 0);
      const badRows = reports.reduce((n, r) => n + r.badRows, 0);
      const summary = {
        files: reports.map(({ file, rows, badRows, durationMs, rowsPerSecond }) => ({
          file,
          rows,
          badRows,
          durationMs,
          rowsPerSecond,
        })),
        rows,
        badRows,
        durationMs,
        rowsPerSecond: durationMs > 0 ? Math.round((rows * 1000) / durationMs) : rows,
      };
      node.send([null, { topic: 'run', complete: true, payload: summary }]);
      const text = `${countOf(rows, 'row')}${badRows ? ` ${compactCount(badRows)} bad` : ''}`;
      showStatus(node, badRows > 0 || reports.length < sources.length ? 'warn' : 'ok', text);
      return reports;
    }

    /** Queues a run so files are read one at a time, in order. */
    function enqueue(sources: () => Promise<Source[]>, trigger: Msg, done?: Done): void {
      queue = queue.then(async () => {
        if (closing) return done?.();
        try {
          await run(await sources(), trigger);
          done?.();
        } catch (err) {
          if (done) done(err as Error);
          else node.error((err as Error).message, trigger);
          showStatus(node, 'error', 'read failed');
        }
      });
    }

    onInput(node, (msg, _send, done) => {
      if (typeof msg.filename === 'string' && msg.filename.trim() !== '') {
        const pattern = expandVariablesSafe(msg.filename.trim(), lookup);
        return enqueue(async () => (await matchFiles(pattern)).map((path) => ({ path })), msg, done);
      }
      const content = Buffer.isBuffer(msg.payload) ? msg.payload.toString('utf8') : msg.payload;
      if (typeof content === 'string' && content.trim() !== '') {
        return enqueue(async () => [{ name: 'payload', text: content }], msg, done);
      }
      if (!config.path) {
        return done(new Error('nothing to read: set Path, or send msg.filename or CSV text in msg.payload'));
      }
      enqueue(async () => (await matchFiles(configuredPath())).map((path) => ({ path })), msg, done);
    });

    let watcher: FSWatcher | undefined;
    let settleTimer: NodeJS.Timeout | undefined;
    const pending = new Map<string, string>();
    let watchReady: Promise<void> = Promise.resolve();
    const unread = async (paths: string[]) => {
      const out: Source[] = [];
      for (const path of paths)
        if (seen.get(path) !== (await fingerprint(path).catch(() => ''))) out.push({ path });
      return out;
    };

    /** New or changed files whose size held still between two looks get read. */
    async function scanForNew(): Promise<void> {
      settleTimer = undefined;
      await watchReady;
      if (closing) return;
      const ready: string[] = [];
      let unsettled = false;
      for (const path of await matchFiles(configuredPath()).catch(() => [] as string[])) {
        const print = await fingerprint(path).catch(() => '');
        if (!print || seen.get(path) === print) continue;
        if (pending.get(path) === print) {
          pending.delete(path);
          ready.push(path);
        } else {
          pending.set(path, print);
          unsettled = true;
        }
      }
      // Checked again when the run starts: the start-up run may have read them meanwhile.
      if (ready.length > 0) enqueue(() => unread(ready), { _msgid: '' } as Msg);
      if (unsettled && !closing) settleTimer = setTimeout(() => void scanForNew(), WATCH_SETTLE_MS);
    }

    if (config.path && config.watch) {
      try {
        const pattern = configuredPath();
        const folder = /[*?]/.test(basename(pattern)) ? dirname(pattern) : pattern;
        // Watching starts before the start-up read, so no file slips in between.
        watcher = watch(folder, () => {
          if (!settleTimer && !closing) settleTimer = setTimeout(() => void scanForNew(), WATCH_SETTLE_MS);
        });
        watcher.on('error', (err) => node.warn(`watching ${folder} failed: ${err.message}`));
        if (!config.readOnStart) {
          // Without a start-up read, the files present now are left alone.
          watchReady = (async () => {
            for (const path of await matchFiles(pattern).catch(() => [] as string[]))
              seen.set(path, await fingerprint(path).catch(() => ''));
          })();
          showStatus(node, 'idle', 'watching');
        }
      } catch (err) {
        node.error(`cannot watch: ${(err as Error).message}`);
        showStatus(node, 'error', 'watch failed');
      }
    }
    if (config.path && config.readOnStart) {
      enqueue(async () => (await matchFiles(configuredPath())).map((path) => ({ path })), {
        _msgid: '',
      } as Msg);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      if (settleTimer) clearTimeout(settleTimer);
      watcher?.close();
      queue.then(done, done);
    });
  }

  registerNode(RED, 'csv-source', CSV_SOURCE_MIGRATIONS, CsvSourceNode);
};

async function fingerprint(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.size}:${info.mtimeMs}`;
}

function expandVariablesSafe(text: string, lookup: (name: string) => string | undefined): string {
  try {
    return expandVariables(text, lookup);
  } catch {
    return text;
  }
}
