/**
 * Rollups at ingest: per series, tumbling UTC buckets at several levels (1 min, 15 min,
 * 1 h, 1 d) with count, sum, min, max, first/last row time and the smallest step between
 * rows, closed in event time (docs/adr/0090). A bucket closes when the series' watermark
 * (newest row time − lateness) reaches its end; `flush` closes the rest. Rows older than
 * the end of the last closed 1-minute bucket are late: counted and left out of every
 * level, so all levels always hold the same rows. Sum and count make means combine
 * exactly: mean over buckets = Σsum / Σcount.
 */

export interface RollupLevel {
  /** As InfluxQL writes the duration and as the measurement suffix: "1m", "15m", "1h", "1d". */
  name: string;
  ms: number;
}

export const DEFAULT_ROLLUP_LEVELS: readonly RollupLevel[] = [
  { name: '1m', ms: 60_000 },
  { name: '15m', ms: 900_000 },
  { name: '1h', ms: 3_600_000 },
  { name: '1d', ms: 86_400_000 },
];

/** One closed bucket of one series at one level. */
export interface RollupBucket {
  series: string;
  level: string;
  startMs: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Times (epoch ms) of the first and last row in the bucket. */
  firstMs: number;
  lastMs: number;
  /** Smallest positive gap (ms) between a row of the bucket and the row before it; undefined for none. */
  stepMs: number | undefined;
}

interface OpenBucket extends Omit<RollupBucket, 'series' | 'level' | 'stepMs'> {
  /** Infinity until a positive gap between rows is seen. */
  stepMs: number;
}

interface SeriesState {
  newestMs: number;
  previousMs: number;
  /** Rows before this are late: the watermark rounded down to the finest level. */
  closedBefore: number;
  /** The earliest end of any open bucket: no bucket closes before the watermark reaches it. */
  nextDueMs: number;
  /** Per level: open buckets by start time. */
  open: Map<number, OpenBucket>[];
  /** Per level: the bucket the last row went to (rows mostly come in order). */
  recent: (OpenBucket | undefined)[];
}

/** Levels sorted fine → coarse, each a whole multiple of the one before (so every bucket nests). */
export function checkLevels(levels: readonly RollupLevel[]): RollupLevel[] {
  const sorted = [...levels].sort((a, b) => a.ms - b.ms);
  if (sorted.length === 0) throw new Error('at least one rollup level is needed');
  sorted.forEach((level, i) => {
    if (!Number.isInteger(level.ms) || level.ms <= 0)
      throw new Error(`level ${level.name} must be a whole ms`);
    if (i > 0 && level.ms % sorted[i - 1].ms !== 0) {
      throw new Error(
        `level ${level.name} is not a multiple of ${sorted[i - 1].name}: buckets would not nest`,
      );
    }
  });
  return sorted;
}

/** "1m,15m,1h,1d" → levels; throws naming the bad entry. */
export function parseLevels(text: string): RollupLevel[] {
  const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const levels = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const m = /^([1-9]\d{0,5})([smhd])$/.exec(t);
      if (!m) throw new Error(`rollup level "${t}" must be like 1m, 15m, 1h or 1d`);
      const ms = Number(m[1]) * units[m[2]];
      if (86_400_000 % ms !== 0) throw new Error(`rollup level "${t}" must divide a day`);
      return { name: t, ms };
    });
  return checkLevels(levels);
}

export class SeriesRollup {
  readonly levels: RollupLevel[];
  private readonly series = new Map<string, SeriesState>();
  /** Rows left out because their 1-minute bucket had closed. */
  lateRows = 0;
  private lastName: string | undefined;
  private lastState: SeriesState | undefined;

  constructor(
    levels: readonly RollupLevel[] = DEFAULT_ROLLUP_LEVELS,
    readonly latenessMs = 0,
  ) {
    this.levels = checkLevels(levels);
  }

  /** Adds one row; returns the buckets its watermark closed (fine levels first, oldest first). */
  add(seriesName: string, timeMs: number, value: number, closed: RollupBucket[] = []): RollupBucket[] {
    let state = seriesName === this.lastName ? this.lastState : this.series.get(seriesName);
    if (!state) {
      state = {
        newestMs: -Infinity,
        previousMs: -Infinity,
        closedBefore: -Infinity,
        nextDueMs: Infinity,
        open: this.levels.map(() => new Map()),
        recent: this.levels.map(() => undefined),
      };
      this.series.set(seriesName, state);
    }
    this.lastName = seriesName;
    this.lastState = state;
    if (timeMs < state.closedBefore) {
      this.lateRows++;
      return closed;
    }
    const gap = timeMs - state.previousMs;
    const stepMs = gap > 0 ? gap : Infinity;
    state.previousMs = timeMs;
    for (let i = 0; i < this.levels.length; i++) {
      const levelMs = this.levels[i].ms;
      const startMs = Math.floor(timeMs / levelMs) * levelMs;
      const buckets = state.open[i];
      const recent = state.recent[i];
      const bucket = recent !== undefined && recent.startMs === startMs ? recent : buckets.get(startMs);
      if (bucket) {
        bucket.count++;
        bucket.sum += value;
        if (value < bucket.min) bucket.min = value;
        if (value > bucket.max) bucket.max = value;
        if (timeMs < bucket.firstMs) bucket.firstMs = timeMs;
        if (timeMs > bucket.lastMs) bucket.lastMs = timeMs;
        if (stepMs < bucket.stepMs) bucket.stepMs = stepMs;
        state.recent[i] = bucket;
      } else {
        const opened = {
          startMs,
          count: 1,
          sum: value,
          min: value,
          max: value,
          firstMs: timeMs,
          lastMs: timeMs,
          stepMs,
        };
        buckets.set(startMs, opened);
        state.recent[i] = opened;
        if (startMs + levelMs < state.nextDueMs) state.nextDueMs = startMs + levelMs;
      }
    }
    if (timeMs > state.newestMs) {
      state.newestMs = timeMs;
      this.closeUntil(seriesName, state, timeMs - this.latenessMs, closed);
    }
    return closed;
  }

  /**
   * Closes every open bucket of every series (end of a file, `msg.flush`) and forgets the
   * series, so ingesting the same file again rebuilds (and rewrites) the same buckets.
   */
  flush(): RollupBucket[] {
    const closed: RollupBucket[] = [];
    for (const [name, state] of this.series) this.closeUntil(name, state, Infinity, closed);
    this.series.clear();
    this.lastName = undefined;
    this.lastState = undefined;
    return closed;
  }

  /** Forgets every open bucket without emitting it (`msg.reset`). */
  reset(): void {
    this.series.clear();
    this.lastName = undefined;
    this.lastState = undefined;
    this.lateRows = 0;
  }

  /**
   * The series' watermark: every bucket at level L that ends at or before
   * floor(watermark / L) · L has been emitted; undefined for a series with no open buckets.
   */
  watermark(seriesName: string): number | undefined {
    const state = this.series.get(seriesName);
    return state ? state.newestMs - this.latenessMs : undefined;
  }

  /** Series with open buckets. */
  get openSeries(): number {
    return this.series.size;
  }

  private closeUntil(name: string, state: SeriesState, watermarkMs: number, closed: RollupBucket[]): void {
    const finestMs = this.levels[0].ms;
    const closedBefore = Math.floor(watermarkMs / finestMs) * finestMs;
    if (closedBefore > state.closedBefore) state.closedBefore = closedBefore;
    if (watermarkMs < state.nextDueMs) return;
    let nextDueMs = Infinity;
    for (let i = 0; i < this.levels.length; i++) {
      const level = this.levels[i];
      const buckets = state.open[i];
      if (buckets.size === 0) continue;
      const due: OpenBucket[] = [];
      for (const bucket of buckets.values()) {
        const endMs = bucket.startMs + level.ms;
        if (endMs <= watermarkMs) due.push(bucket);
        else if (endMs < nextDueMs) nextDueMs = endMs;
      }
      due.sort((a, b) => a.startMs - b.startMs);
      for (const bucket of due) {
        buckets.delete(bucket.startMs);
        if (state.recent[i] === bucket) state.recent[i] = undefined;
        closed.push(toClosed(name, level.name, bucket));
      }
    }
    state.nextDueMs = nextDueMs;
  }
}

function toClosed(series: string, level: string, b: OpenBucket): RollupBucket {
  return {
    series,
    level,
    startMs: b.startMs,
    count: b.count,
    sum: b.sum,
    min: b.min,
    max: b.max,
    firstMs: b.firstMs,
    lastMs: b.lastMs,
    stepMs: Number.isFinite(b.stepMs) ? b.stepMs : undefined,
  };
}
