/**
 * turbine-stats as a partition operator (nats-in `operator: turbine-stats`,
 * docs/adr/0100-scale-out-engine.md): per key (turbine) the node's own TurbineStats, one per
 * key, so that a key's period closes by that key's event time alone, in stream order:
 * when its first reading at or after the next period's start arrives (lateness 0). The
 * cleaning (duplicates, bounds and MAD outliers, imputation) runs on the closed period
 * exactly as in the node. As in the node, a reading before the end of the key's last emitted
 * period is refused, and one for an earlier period the key had no reading in comes out at
 * once as that period's result.
 *
 * With `idleMs` > 0 the partition has a watermark, its newest reading − idle: a quiet key's
 * open period closes once the watermark reaches its end, and a reading whose period ended
 * at or before the watermark is refused. Decided by event time only, so a replay decides as
 * the original run. A key holds only its open period's readings (a closed period leaves
 * its last good reading, the anchor of linear imputation).
 */
import { PartitionKeys, unusableSample } from './partition-keys';
import type { OperatorOutcome, PartitionOperator } from './partition-operator';
import { type CleaningOptions, type ImputeMethod } from './turbine-cleaning';
import {
  PeriodCalendar,
  TurbineStats,
  type ClosedPeriod,
  type TurbinePeriodStats,
  type TurbineStatsOptions,
} from './turbine-stats';

export interface TurbineStatsStreamOptions extends CleaningOptions {
  periodSeconds: number;
  timeZone: string;
  /** A quiet key's period closes once the partition's newest reading is this much past its end (0: never). */
  idleMs?: number;
  /** Keys held at most (0: unbounded). */
  maxKeys?: number;
}

/** One turbine-period, shaped as the node's per-turbine stats, with the position that closed it. */
export interface PartitionTurbineResult {
  key: string;
  seq: number;
  period: { start: string; end: string; day: string };
  stats: TurbinePeriodStats;
}

export interface PartitionTurbineKeyState {
  newestMs: number;
  /** End of the last period emitted (null: none yet). */
  closedUntil: number | null;
  anchor?: { timeMs: number; value: number };
  /** Readings of the open period as [time, value], in arrival order. */
  readings: [number, number][];
}

export interface PartitionTurbineStatsState {
  operator: 'turbine-stats';
  periodSeconds: number;
  timeZone: string;
  impute: ImputeMethod;
  minPower?: number;
  maxPower?: number;
  madThreshold: number;
  seq: number;
  /** Newest reading of the partition (null: none yet). */
  newestMs: number | null;
  keys: Record<string, PartitionTurbineKeyState>;
}

interface KeyStats {
  stats: TurbineStats;
  newestMs: number;
  /** End of the period the key's open readings are in (NaN: none open). */
  openEndMs: number;
}

/** The row the node would be given: duplicates are readings with the same time and value. */
function rowOf(timeMs: number, value: number): Record<string, unknown> {
  return { time: timeMs, value };
}

export class PartitionTurbineStats
  extends PartitionKeys<KeyStats>
  implements PartitionOperator<PartitionTurbineResult>
{
  private readonly calendar: PeriodCalendar;
  private readonly statsOptions: TurbineStatsOptions;
  private newestMs = -Infinity;
  /** No open period of any key ends before it (a lower bound: scans happen only past it). */
  private nextIdleEndMs = Infinity;
  private readonly idleMs: number;

  constructor(readonly options: TurbineStatsStreamOptions) {
    super(options.maxKeys);
    this.idleMs = options.idleMs ?? 0;
    if (!(this.idleMs >= 0)) throw new Error(`idle ${this.idleMs} ms must be ≥ 0`);
    const { periodSeconds, timeZone, impute, minPower, maxPower, madThreshold } = options;
    this.statsOptions = {
      periodSeconds,
      timeZone,
      impute,
      minPower,
      maxPower,
      madThreshold,
      closeOnData: true,
      latenessMs: 0,
      powerProperty: 'value',
    };
    this.calendar = new PeriodCalendar(periodSeconds, timeZone);
    new TurbineStats(this.statsOptions); // checks the cleaning settings now, not at the first reading
  }

  /** Readings held in open periods, over all keys. */
  get openReadings(): number {
    let n = 0;
    for (const k of this.keys.values()) n += k.stats.openRows;
    return n;
  }

  private get watermarkMs(): number {
    return this.idleMs > 0 ? this.newestMs - this.idleMs : -Infinity;
  }

  add(key: string, timeMs: number, value: number, seq: number): OperatorOutcome<PartitionTurbineResult> {
    this.skip(seq);
    const unusable = unusableSample(key, timeMs, value);
    if (unusable !== undefined) return { ok: false, reason: unusable };
    const at = new Date(timeMs).toISOString();
    const { end } = this.calendar.bounds(timeMs);
    if (end <= this.watermarkMs)
      return {
        ok: false,
        reason: `reading at ${at} of key "${key}": its period ended at or before the partition's idle watermark (${new Date(this.watermarkMs).toISOString()})`,
      };
    const entry = this.getOrCreate(key, () => ({
      stats: new TurbineStats(this.statsOptions),
      newestMs: -Infinity,
      openEndMs: NaN,
    }));
    if (typeof entry === 'string') return { ok: false, reason: entry };
    if (!entry.stats.add({ turbineId: key, timeMs, power: value, row: rowOf(timeMs, value) }))
      return {
        ok: false,
        reason: `reading at ${at} of key "${key}" is in a period already emitted (lateness 0)`,
      };
    if (timeMs > entry.newestMs) entry.newestMs = timeMs;
    // Lateness 0: only a reading past the open period's end, or one in an earlier period the key
    // had no reading in, closes anything (closeReady scans every open reading).
    const closes = timeMs >= entry.openEndMs || end <= entry.newestMs;
    const results = closes ? this.resultsOf(key, seq, entry.stats.closeReady()) : [];
    // Only the period of the key's newest reading is still open.
    entry.openEndMs = this.calendar.bounds(entry.newestMs).end;
    if (entry.openEndMs < this.nextIdleEndMs) this.nextIdleEndMs = entry.openEndMs;
    if (timeMs > this.newestMs) {
      this.newestMs = timeMs;
      if (this.watermarkMs >= this.nextIdleEndMs) this.closeIdle(seq, results);
    }
    return { ok: true, results };
  }

  /** Closes every key's open period that ends at or before the watermark. */
  private closeIdle(seq: number, results: PartitionTurbineResult[]): void {
    const watermark = this.watermarkMs;
    let next = Infinity;
    for (const [key, entry] of this.keys) {
      if (entry.openEndMs <= watermark) {
        results.push(...this.resultsOf(key, seq, entry.stats.flush()));
        entry.openEndMs = NaN;
      } else if (entry.openEndMs < next) next = entry.openEndMs;
    }
    this.nextIdleEndMs = next;
  }

  private resultsOf(key: string, seq: number, periods: ClosedPeriod[]): PartitionTurbineResult[] {
    return periods.flatMap((p) =>
      p.stats.map((stats) => ({
        key,
        seq,
        period: { start: stats.start, end: stats.end, day: p.day },
        stats,
      })),
    );
  }

  toJSON(): PartitionTurbineStatsState {
    const keys: PartitionTurbineStatsState['keys'] = {};
    for (const [key, entry] of this.keys) {
      const turbine = entry.stats.toJSON().turbines[0];
      const state: PartitionTurbineKeyState = {
        newestMs: entry.newestMs,
        closedUntil: turbine && Number.isFinite(turbine.closedUntil) ? turbine.closedUntil : null,
        readings: (turbine?.samples ?? []).map((s) => [s.timeMs, s.power as number]),
      };
      if (turbine?.anchor) state.anchor = turbine.anchor;
      keys[key] = state;
    }
    const { periodSeconds, timeZone, impute, minPower, maxPower, madThreshold } = this.options;
    return {
      operator: 'turbine-stats',
      periodSeconds,
      timeZone,
      impute,
      ...(minPower === undefined ? {} : { minPower }),
      ...(maxPower === undefined ? {} : { maxPower }),
      madThreshold,
      seq: this.lastSeq,
      newestMs: Number.isFinite(this.newestMs) ? this.newestMs : null,
      keys,
    };
  }

  static fromJSON(
    state: PartitionTurbineStatsState,
    options: { idleMs?: number; maxKeys?: number } = {},
  ): PartitionTurbineStats {
    const { periodSeconds, timeZone, impute, minPower, maxPower, madThreshold } = state;
    const operator = new PartitionTurbineStats({
      periodSeconds,
      timeZone,
      impute,
      minPower,
      maxPower,
      madThreshold,
      ...options,
    });
    operator.lastSeq = state.seq;
    operator.newestMs = state.newestMs ?? -Infinity;
    for (const [key, s] of Object.entries(state.keys)) {
      const samples = s.readings.map(([timeMs, value]) => ({
        timeMs,
        periodStart: operator.calendar.bounds(timeMs).start,
        power: value,
        row: rowOf(timeMs, value),
      }));
      const turbine = { id: key, samples, closedUntil: s.closedUntil ?? -Infinity, anchor: s.anchor };
      const stats = new TurbineStats(operator.statsOptions, { watermark: s.newestMs, turbines: [turbine] });
      const openEndMs = samples.length > 0 ? operator.calendar.bounds(s.newestMs).end : NaN;
      operator.keys.set(key, { stats, newestMs: s.newestMs, openEndMs });
      if (openEndMs < operator.nextIdleEndMs) operator.nextIdleEndMs = openEndMs;
    }
    return operator;
  }
}
