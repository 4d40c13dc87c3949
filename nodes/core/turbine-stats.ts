/**
 * Per turbine per calendar period: min, max, mean, count, sample stdev of the cleaned
 * power, with quality counts. Periods are aligned to local midnight in an IANA zone
 * (docs/adr/0042-turbine-period-alignment.md): a day in Europe/Zurich is 23 or 25 hours
 * across DST; periods shorter than a day start at wall-clock multiples of their length
 * from midnight (so 6-hour periods start at 00, 06, 12, 18 local time, and the one
 * holding a DST switch is an hour shorter or longer); periods of several days group
 * local calendar days.
 */
import { DEFAULT_MAX_FUTURE_MS, EventClock } from './event-time';
import { localDate, localDayBounds, localFields, localToEpochMs, assertTimeZone } from './time-zone';
import {
  cleanTurbineSeries,
  type Anchor,
  type CleaningOptions,
  type TurbineSample,
  IMPUTE_METHODS,
} from './turbine-cleaning';

const DAY_SECONDS = 86_400;

/** Calendar-aligned periods of a fixed nominal length in one zone. */
export class PeriodCalendar {
  private readonly periodMs: number;
  private readonly days: number;
  private lastDay = { start: NaN, end: NaN };

  constructor(
    readonly periodSeconds: number,
    readonly timeZone: string,
  ) {
    assertTimeZone(timeZone);
    if (
      !(periodSeconds > 0) ||
      !Number.isInteger(periodSeconds) ||
      (DAY_SECONDS % periodSeconds !== 0 && periodSeconds % DAY_SECONDS !== 0)
    ) {
      throw new Error(
        `periodSeconds ${periodSeconds} must divide a day (e.g. 3600, 900) or be whole days (86400, 604800)`,
      );
    }
    this.periodMs = periodSeconds * 1000;
    this.days = periodSeconds >= DAY_SECONDS ? periodSeconds / DAY_SECONDS : 0;
  }

  private day(timeMs: number): { start: number; end: number } {
    const d = this.lastDay;
    if (timeMs >= d.start && timeMs < d.end) return d;
    this.lastDay = localDayBounds(timeMs, this.timeZone);
    return this.lastDay;
  }

  /** Start and end (exclusive) of the period holding an instant. */
  bounds(timeMs: number): { start: number; end: number } {
    const last = this.lastPeriod;
    if (timeMs >= last.start && timeMs < last.end) return last;
    this.lastPeriod = this.find(timeMs);
    return this.lastPeriod;
  }

  private lastPeriod = { start: NaN, end: NaN };

  private find(timeMs: number): { start: number; end: number } {
    if (this.days === 0 && this.timeZone === 'UTC') {
      const start = Math.floor(timeMs / this.periodMs) * this.periodMs;
      return { start, end: start + this.periodMs };
    }
    const day = this.day(timeMs);
    if (this.days === 0) {
      // Boundaries at wall-clock multiples of the period from local midnight.
      const f = localFields(timeMs, this.timeZone);
      const index = Math.floor(((f.hour * 60 + f.minute) * 60 + f.second) / this.periodSeconds);
      const at = (k: number) => {
        const seconds = k * this.periodSeconds;
        if (seconds >= DAY_SECONDS) return day.end;
        const h = Math.floor(seconds / 3600);
        const m = Math.floor((seconds % 3600) / 60);
        return localToEpochMs(f.year, f.month, f.day, h, m, seconds % 60, 0, this.timeZone);
      };
      return { start: Math.max(at(index), day.start), end: at(index + 1) };
    }
    if (this.days === 1) return { start: day.start, end: day.end };
    const f = localFields(day.start, this.timeZone);
    const dayNumber = Math.round(Date.UTC(f.year, f.month - 1, f.day) / 86_400_000);
    const first = Math.floor(dayNumber / this.days) * this.days;
    const at = (n: number) => {
      const d = new Date(n * 86_400_000);
      return localToEpochMs(
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        0,
        0,
        0,
        0,
        this.timeZone,
      );
    };
    return { start: at(first), end: at(first + this.days) };
  }

  /** Local date (YYYY-MM-DD) a period starts on. */
  label(startMs: number): string {
    return localDate(startMs, this.timeZone);
  }
}

export interface TurbineStatsOptions extends CleaningOptions {
  periodSeconds: number;
  timeZone: string;
  /** Close a period once the watermark (newest row − lateness) reaches its end; off = only on flush. */
  closeOnData: boolean;
  /** How far behind the newest row a row may arrive and still count (default 0). */
  latenessMs?: number;
  /** Rows stamped further ahead of the wall clock are refused (default 300 s). */
  maxFutureMs?: number;
  /** Row property the cleaned rows carry the power in [power_output]. */
  powerProperty?: string;
}

export interface QualityCounts {
  rows: number;
  missing: number;
  imputed: number;
  outliers: number;
  duplicates: number;
}

export interface TurbinePeriodStats {
  turbine_id: unknown;
  day: string;
  start: string;
  end: string;
  min: number | null;
  max: number | null;
  mean: number | null;
  count: number;
  stdev: number | null;
  quality: QualityCounts;
}

/** A cleaned row: the original row with the power used and an `imputed` flag. */
export type CleanRow = Record<string, unknown> & { imputed: boolean };

export interface ClosedPeriod {
  start: number;
  end: number;
  day: string;
  stats: TurbinePeriodStats[];
  rows: CleanRow[];
}

export interface TurbineRow {
  turbineId: unknown;
  timeMs: number;
  power: unknown;
  row: Record<string, unknown>;
}

interface TurbineState {
  id: unknown;
  samples: TurbineSample[];
  /** End of the last period emitted for this turbine: earlier rows are late. */
  closedUntil: number;
  anchor?: Anchor;
}

export interface TurbineStatsState {
  watermark: number;
  turbines: TurbineState[];
}

/** Summary statistics of a list of numbers; sample stdev by two passes. */
export function summarize(
  values: number[],
): Pick<TurbinePeriodStats, 'min' | 'max' | 'mean' | 'count' | 'stdev'> {
  const count = values.length;
  if (count === 0) return { min: null, max: null, mean: null, count, stdev: null };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / count;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return { min, max, mean, count, stdev: count > 1 ? Math.sqrt(squares / (count - 1)) : null };
}

/**
 * Per-turbine period statistics in event time (docs/adr/0005-event-time.md): one fleet-wide
 * watermark (newest row − lateness) closes a period for every turbine at once, so a day's
 * msg holds the whole fleet and the same rows give the same days in any arrival order
 * within the lateness. A row for a turbine-period already emitted is late.
 */
export class TurbineStats {
  private readonly calendar: PeriodCalendar;
  private readonly turbines = new Map<string, TurbineState>();
  private readonly clock: EventClock;
  /** Rows dropped because their turbine-period was already emitted. */
  lateRows = 0;
  /** Rows refused because they were stamped too far ahead of the wall clock. */
  futureRows = 0;

  constructor(
    readonly options: TurbineStatsOptions,
    state?: TurbineStatsState,
  ) {
    if (!IMPUTE_METHODS.includes(options.impute)) {
      throw new Error(`impute "${String(options.impute)}" must be one of ${IMPUTE_METHODS.join(', ')}`);
    }
    if (
      options.minPower !== undefined &&
      options.maxPower !== undefined &&
      options.minPower > options.maxPower
    ) {
      throw new Error(`minPower ${options.minPower} is above maxPower ${options.maxPower}`);
    }
    this.calendar = new PeriodCalendar(options.periodSeconds, options.timeZone);
    const calendar = this.calendar;
    this.clock = new EventClock(
      { latenessMs: options.latenessMs ?? 0, maxFutureMs: options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS },
      { after: (t) => calendar.bounds(t).end, atOrBefore: (t) => calendar.bounds(t).start },
      'start',
    );
    if (state) {
      // JSON turns −Infinity into null
      if (state.watermark !== null && state.watermark !== undefined) this.clock.note(state.watermark);
      this.lateRows = 0;
      for (const t of state.turbines ?? []) {
        // JSON turns ±Infinity into null
        this.turbines.set(String(t.id), {
          ...t,
          closedUntil: t.closedUntil ?? -Infinity,
          samples: [...t.samples],
        });
      }
    }
  }

  /**
   * Adds one row; returns false when it is late (its turbine-period was already emitted)
   * or stamped more than maxFutureMs ahead of the wall clock `nowMs` (then it does not
   * move the watermark; omit `nowMs` for no bound).
   */
  add({ turbineId, timeMs, power, row }: TurbineRow, nowMs = Infinity): boolean {
    const verdict = this.clock.admit(timeMs, nowMs);
    if (!verdict.ok && verdict.kind === 'future') {
      this.futureRows++;
      return false;
    }
    const key = String(turbineId);
    let turbine = this.turbines.get(key);
    if (!turbine) this.turbines.set(key, (turbine = { id: turbineId, samples: [], closedUntil: -Infinity }));
    if (timeMs < turbine.closedUntil) {
      this.lateRows++;
      return false;
    }
    const { start } = this.calendar.bounds(timeMs);
    turbine.samples.push({ timeMs, periodStart: start, power, row });
    this.clock.note(timeMs);
    return true;
  }

  /** Periods the watermark has passed (when closing on data); empty otherwise. */
  closeReady(): ClosedPeriod[] {
    return this.options.closeOnData ? this.close(this.clock.watermarkMs) : [];
  }

  /** Periods the newest row has passed, without waiting for the lateness (the idle fallback). */
  closeIdle(): ClosedPeriod[] {
    return this.options.closeOnData ? this.close(this.clock.newestMs) : [];
  }

  /** Closes every open period. */
  flush(): ClosedPeriod[] {
    return this.close(Infinity);
  }

  /** Number of rows held in open periods. */
  get openRows(): number {
    let n = 0;
    for (const t of this.turbines.values()) n += t.samples.length;
    return n;
  }

  private close(untilMs: number): ClosedPeriod[] {
    const periods = new Map<number, ClosedPeriod>();
    const ends = new Map<number, number>();
    const endOf = (start: number) => {
      let end = ends.get(start);
      if (end === undefined) ends.set(start, (end = this.calendar.bounds(start).end));
      return end;
    };
    const powerKey = this.options.powerProperty ?? 'power_output';
    // In id order, so a period's rows do not depend on which turbine's row arrived first.
    const turbines = [...this.turbines.values()].sort((a, b) => compareIds(a.id, b.id));
    for (const turbine of turbines) {
      if (turbine.samples.length === 0) continue;
      const closing = new Set<number>();
      for (const s of turbine.samples) {
        if (!closing.has(s.periodStart) && endOf(s.periodStart) <= untilMs) closing.add(s.periodStart);
      }
      if (closing.size === 0) continue;
      const cleaned = cleanTurbineSeries(turbine.samples, this.options, turbine.anchor);
      const byPeriod = new Map<number, { values: number[]; quality: QualityCounts; rows: CleanRow[] }>();
      const group = (start: number) => {
        let g = byPeriod.get(start);
        if (!g) {
          const duplicates = cleaned.duplicates.get(start) ?? 0;
          g = {
            values: [],
            quality: { rows: duplicates, missing: 0, imputed: 0, outliers: 0, duplicates },
            rows: [],
          };
          byPeriod.set(start, g);
        }
        return g;
      };
      for (const start of closing) group(start);
      let closedUntil = turbine.closedUntil;
      for (const s of cleaned.samples) {
        if (!closing.has(s.periodStart)) continue;
        const g = group(s.periodStart);
        g.quality.rows++;
        if (s.status === 'missing') g.quality.missing++;
        else if (s.status === 'outlier') g.quality.outliers++;
        if (s.imputed) g.quality.imputed++;
        if (s.value !== null) {
          g.values.push(s.value);
          g.rows.push({ ...s.row, [powerKey]: s.value, imputed: s.imputed });
          if (s.status === 'ok') turbine.anchor = { timeMs: s.timeMs, value: s.value };
        }
      }
      for (const [start, g] of byPeriod) {
        const end = endOf(start);
        if (end > closedUntil) closedUntil = end;
        let period = periods.get(start);
        if (!period) {
          const day = this.calendar.label(start);
          periods.set(start, (period = { start, end, day, stats: [], rows: [] }));
        }
        period.stats.push({
          turbine_id: turbine.id,
          day: period.day,
          start: new Date(start).toISOString(),
          end: new Date(end).toISOString(),
          ...summarize(g.values),
          quality: g.quality,
        });
        for (const r of g.rows) period.rows.push(r);
      }
      turbine.closedUntil = closedUntil;
      turbine.samples = turbine.samples.filter((s) => !closing.has(s.periodStart));
    }
    const out = [...periods.values()].sort((a, b) => a.start - b.start);
    for (const p of out) p.stats.sort((a, b) => compareIds(a.turbine_id, b.turbine_id));
    return out;
  }

  /** Forgets everything (msg.reset). */
  reset(): void {
    this.turbines.clear();
    this.clock.restore(undefined);
    this.lateRows = 0;
    this.futureRows = 0;
  }

  toJSON(): TurbineStatsState {
    return {
      watermark: this.clock.newestMs,
      turbines: [...this.turbines.values()].map((t) => ({ ...t })),
    };
  }
}

function compareIds(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}
