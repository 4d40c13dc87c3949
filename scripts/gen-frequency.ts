/**
 * Writes a Swissgrid "Sollfrequenz" CSV of any length (the real 2-month file is too large to
 * carry in the repo):
 *
 *   Datum Zeit;A:f_soll_aktiv [Hz]
 *   Sa. 01.05.21 00:00:00;50
 *   Sa. 01.05.21 00:00:30;50
 *
 * Local Swiss time (Europe/Zurich) with German weekday abbreviations, so across DST the hour
 * 02:00–02:59 is skipped in March and written twice in October, as the real files do. The
 * set point is mostly 50 Hz with time-correction periods at 49.99 or 50.01 Hz lasting hours,
 * drawn from a seeded generator per UTC hour: the same seed gives the same values at any step.
 *
 *   npm run gen:frequency -- --days 61 --step 30s [--out data/frequency/sollfrequenz.csv]
 *                            [--start 2021-05-01] [--seed 1] [--tz Europe/Zurich]
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { localToEpochMs, zoneOffsetMs } from '../nodes/core/time-zone';

export const SWISSGRID_HEADER = 'Datum Zeit;A:f_soll_aktiv [Hz]';
/** German weekday abbreviations, Sunday first (Date#getUTCDay order). */
export const GERMAN_WEEKDAYS = ['So', 'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa'] as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface FrequencyCsvOptions {
  /** First local day, YYYY-MM-DD [2021-05-01]. */
  start?: string;
  /** Number of local calendar days [1]. */
  days?: number;
  /** Row spacing in ms, a whole number of seconds [30,000]. */
  stepMs?: number;
  /** Seed of the set-point generator [1]. */
  seed?: number;
  /** IANA zone of the timestamps [Europe/Zurich]. */
  timeZone?: string;
}

/** Step text such as "30s", "1s", "15m", "1h" → ms; throws on anything else. */
export function parseStep(text: string): number {
  const m = /^([1-9]\d*)(s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`step "${text}" must be a whole number with s, m or h (e.g. 30s, 1s, 15m)`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: HOUR_MS }[m[2] as 's' | 'm' | 'h'];
}

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The set point per UTC hour: 50 Hz, and now and then (about once in three days) a
 * time-correction period of 2–12 hours at 49.99 or 50.01 Hz, as Swissgrid sets them when the
 * synchronous time drifts. Hours are drawn in order, so values depend on the seed and the
 * first hour only, never on the row step.
 */
export class FrequencySetpoints {
  private readonly random: () => number;
  private hour: number;
  private remaining = 0;
  private value = '50';

  constructor(firstHour: number, seed = 1) {
    this.random = seededRandom(seed);
    this.hour = firstHour - 1;
  }

  /** The set point text ("50", "49.99", "50.01") for a UTC hour index ≥ the previous one. */
  at(hourIndex: number): string {
    while (this.hour < hourIndex) {
      this.hour++;
      if (this.remaining > 0) this.remaining--;
      if (this.remaining === 0) {
        const ended = this.value !== '50';
        this.value = '50';
        // at least one hour at 50 Hz between two corrections
        if (!ended && this.random() < 1 / 72) {
          this.value = this.random() < 0.5 ? '49.99' : '50.01';
          this.remaining = 2 + Math.floor(this.random() * 11);
        }
      }
    }
    return this.value;
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "Sa. 01.05.21 00:00:30" for an instant, in the given zone (the slow, obvious way). */
export function swissgridTimestamp(epochMs: number, timeZone = 'Europe/Zurich'): string {
  const local = epochMs + zoneOffsetMs(epochMs, timeZone);
  const d = new Date(local);
  return (
    `${GERMAN_WEEKDAYS[d.getUTCDay()]}. ${pad2(d.getUTCDate())}.${pad2(d.getUTCMonth() + 1)}.` +
    `${pad2(d.getUTCFullYear() % 100)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:` +
    pad2(d.getUTCSeconds())
  );
}

/** First and last (exclusive) instants: local midnight of `start` to local midnight `days` later. */
export function frequencyRange(options: FrequencyCsvOptions): { startMs: number; endMs: number } {
  const { start = '2021-05-01', days = 1, timeZone = 'Europe/Zurich' } = options;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(start);
  if (!m) throw new Error(`start "${start}" must be a date YYYY-MM-DD`);
  if (!Number.isInteger(days) || days < 1) throw new Error(`days "${days}" must be a whole number ≥ 1`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const startMs = localToEpochMs(y, mo, d, 0, 0, 0, 0, timeZone);
  const last = new Date(Date.UTC(y, mo - 1, d + days));
  const endMs = localToEpochMs(
    last.getUTCFullYear(),
    last.getUTCMonth() + 1,
    last.getUTCDate(),
    0,
    0,
    0,
    0,
    timeZone,
  );
  return { startMs, endMs };
}

/**
 * The CSV text in chunks of about `rowsPerChunk` rows (header first). Fast path: the zone
 * offset is looked up once per UTC hour (DST switches on whole hours), the date prefix once
 * per local day, and "HH:MM:SS" comes from a table.
 */
export function* frequencyCsvChunks(
  options: FrequencyCsvOptions = {},
  rowsPerChunk = 20_000,
): Generator<string> {
  const { stepMs = 30_000, seed = 1, timeZone = 'Europe/Zurich' } = options;
  if (!Number.isInteger(stepMs / 1000) || stepMs <= 0)
    throw new Error(`step ${stepMs} ms is not whole seconds`);
  const { startMs, endMs } = frequencyRange(options);
  const clock: string[] = new Array(86_400);
  for (let s = 0; s < 86_400; s++)
    clock[s] = `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}`;
  const setpoints = new FrequencySetpoints(Math.floor(startMs / HOUR_MS), seed);

  let hourEnd = -Infinity;
  let offset = 0;
  let value = '50';
  let localDay = NaN;
  let prefix = '';
  let chunk = `${SWISSGRID_HEADER}\n`;
  let rows = 0;
  for (let t = startMs; t < endMs; t += stepMs) {
    if (t >= hourEnd) {
      const hour = Math.floor(t / HOUR_MS);
      hourEnd = (hour + 1) * HOUR_MS;
      offset = zoneOffsetMs(t, timeZone);
      value = setpoints.at(hour);
    }
    const local = t + offset;
    const day = Math.floor(local / DAY_MS);
    if (day !== localDay) {
      localDay = day;
      const d = new Date(day * DAY_MS);
      prefix =
        `${GERMAN_WEEKDAYS[d.getUTCDay()]}. ${pad2(d.getUTCDate())}.${pad2(d.getUTCMonth() + 1)}.` +
        `${pad2(d.getUTCFullYear() % 100)} `;
    }
    chunk += `${prefix}${clock[Math.floor((local - day * DAY_MS) / 1000)]};${value}\n`;
    if (++rows === rowsPerChunk) {
      yield chunk;
      chunk = '';
      rows = 0;
    }
  }
  if (chunk) yield chunk;
}

/** Number of data rows a file with these options has. */
export function frequencyRowCount(options: FrequencyCsvOptions = {}): number {
  const { startMs, endMs } = frequencyRange(options);
  return Math.ceil((endMs - startMs) / (options.stepMs ?? 30_000));
}

/** Streams the CSV to `path` (parent folders created) with backpressure. */
export async function writeFrequencyCsv(
  path: string,
  options: FrequencyCsvOptions = {},
): Promise<{ path: string; rows: number; bytes: number; durationMs: number }> {
  const began = Date.now();
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  let bytes = 0;
  for (const chunk of frequencyCsvChunks(options, 50_000)) {
    bytes += chunk.length;
    if (!out.write(chunk))
      await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
  }
  await Promise.race([new Promise<void>((r) => out.end(() => r())), failed]);
  return { path, rows: frequencyRowCount(options), bytes, durationMs: Date.now() - began };
}

function parseArgs(argv: string[]): { out: string; options: FrequencyCsvOptions } {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (!key.startsWith('--') || i + 1 >= argv.length) throw new Error(`expected --name value, got "${key}"`);
    args.set(key.slice(2), argv[++i]);
  }
  const known = ['days', 'step', 'out', 'start', 'seed', 'tz'];
  for (const key of args.keys()) if (!known.includes(key)) throw new Error(`unknown option --${key}`);
  return {
    out: args.get('out') ?? 'data/frequency/sollfrequenz.csv',
    options: {
      days: Number(args.get('days') ?? 1),
      stepMs: parseStep(args.get('step') ?? '30s'),
      start: args.get('start') ?? '2021-05-01',
      seed: Number(args.get('seed') ?? 1),
      timeZone: args.get('tz') ?? 'Europe/Zurich',
    },
  };
}

async function main(): Promise<void> {
  const { out, options } = parseArgs(process.argv.slice(2));
  const result = await writeFrequencyCsv(out, options);
  const rate = Math.round(result.rows / Math.max(result.durationMs / 1000, 0.001));
  console.log(
    `wrote ${result.rows.toLocaleString('en')} rows (${(result.bytes / 1e6).toFixed(1)} MB) to ${out} ` +
      `in ${(result.durationMs / 1000).toFixed(1)} s (${rate.toLocaleString('en')} rows/s)`,
  );
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`gen-frequency: ${err.message}`);
    process.exit(1);
  });
}
