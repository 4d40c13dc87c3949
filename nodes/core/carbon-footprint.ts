/**
 * Carbon footprint per half hour: resampled power (cov-resampler buckets, energy in kWh)
 * joined on HalfHourId with the Carbon Intensity API (gCO2eq/kWh) of the same UTC day.
 * footprint_g = energy_kwh × intensity. See docs/adr/0062.
 */
import { toEpochMs } from './timestamp';

export const HALF_HOUR_MS = 1_800_000;
export const DAY_MS = 86_400_000;
export const HALF_HOURS_PER_DAY = 48;

/** One entry of `GET /intensity/{from}/{to}`: `{from, to, intensity: {forecast, actual, index}}`. */
export interface IntensityEntry {
  from: string;
  to?: string;
  intensity?: { forecast?: number | null; actual?: number | null; index?: string | null } | null;
}

export interface HalfHourIntensity {
  halfHourId: number;
  /** gCO2eq/kWh, `actual` when known, else `forecast`; null when neither is. */
  intensity: number | null;
  source: 'actual' | 'forecast' | null;
}

/** A cov-resampler bucket as the join needs it. */
export interface PowerBucket {
  startMs: number;
  endMs: number;
  meanKw: number | null;
  energyKwh: number | null;
}

/** The footprint row, as published on MQTT, stored in InfluxDB and served by the API. */
export interface FootprintRow {
  half_hour_id: number;
  start: string;
  end: string;
  mean_kw: number | null;
  energy_kwh: number | null;
  intensity: number | null;
  footprint_g: number | null;
}

/** Epoch ms of 00:00 UTC of a YYYY-MM-DD date; throws on anything else. */
export function utcDayStart(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new Error(`date "${date}" is not a calendar date YYYY-MM-DD`);
  }
  return ms;
}

/** YYYY-MM-DD (UTC) of an instant. */
export function utcDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** HalfHourId (1–48) of a half hour starting at `startMs` in its UTC day. */
export function halfHourId(startMs: number): number {
  return Math.floor((startMs - Math.floor(startMs / DAY_MS) * DAY_MS) / HALF_HOUR_MS) + 1;
}

/** The API's "2019-11-25T00:00Z" (minutes, no seconds) → epoch ms. */
function entryStartMs(entry: IntensityEntry): number | undefined {
  return typeof entry?.from === 'string' ? toEpochMs(entry.from) : undefined;
}

function usable(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * The intensity of each half hour (index 0 = HalfHourId 1) of a UTC day. Only entries that
 * start inside the day count: the API's answer for a day also holds the half hour from
 * 23:30 of the day before, which belongs to that day.
 */
export function dayIntensities(entries: readonly IntensityEntry[], date: string): HalfHourIntensity[] {
  const dayStart = utcDayStart(date);
  const out: HalfHourIntensity[] = Array.from({ length: HALF_HOURS_PER_DAY }, (_, i) => ({
    halfHourId: i + 1,
    intensity: null,
    source: null,
  }));
  for (const entry of entries) {
    const start = entryStartMs(entry);
    if (start === undefined || start < dayStart || start >= dayStart + DAY_MS) continue;
    const slot = out[halfHourId(start) - 1];
    const { actual, forecast } = entry.intensity ?? {};
    if (usable(actual)) Object.assign(slot, { intensity: actual, source: 'actual' });
    else if (usable(forecast) && slot.source !== 'actual')
      Object.assign(slot, { intensity: forecast, source: 'forecast' });
  }
  return out;
}

/** The UTC dates that the entries' half hours fall on (sorted). */
export function entryDates(entries: readonly IntensityEntry[]): string[] {
  const dates = new Set<string>();
  for (const entry of entries) {
    const start = entryStartMs(entry);
    if (start !== undefined) dates.add(utcDate(start));
  }
  return [...dates].sort();
}

/**
 * A cov-resampler payload `{bucket_id, start, end, mean, energy, ...}` → PowerBucket, or a
 * reason why it is not one. Buckets must be half hours (set the resampler to 1800 s).
 */
export function readPowerBucket(payload: unknown): PowerBucket | string {
  if (typeof payload !== 'object' || payload === null) return 'payload is not a cov-resampler bucket object';
  const p = payload as Record<string, unknown>;
  const startMs = toEpochMs(p.start);
  const endMs = toEpochMs(p.end);
  if (startMs === undefined || endMs === undefined) return 'bucket start/end missing or not a time';
  if (endMs - startMs !== HALF_HOUR_MS || startMs % HALF_HOUR_MS !== 0) {
    return `bucket ${new Date(startMs).toISOString()}–${new Date(endMs).toISOString()} is not a UTC half hour (set the resampler to 1800 s, UTC)`;
  }
  const meanKw = usable(p.mean) ? p.mean : null;
  const energyKwh = usable(p.energy) ? p.energy : meanKw === null ? null : meanKw * 0.5;
  return { startMs, endMs, meanKw, energyKwh };
}

/**
 * 48 footprint rows of one asset and UTC day. A half hour without a bucket or without an
 * intensity keeps its row with nulls, so every day has 48 rows.
 */
export function footprintRows(
  date: string,
  buckets: ReadonlyMap<number, PowerBucket> | readonly PowerBucket[],
  intensities: readonly HalfHourIntensity[],
): FootprintRow[] {
  const dayStart = utcDayStart(date);
  const byId = new Map<number, PowerBucket>();
  for (const b of Array.isArray(buckets)
    ? buckets
    : [...(buckets as ReadonlyMap<number, PowerBucket>).values()]) {
    if (b.startMs >= dayStart && b.startMs < dayStart + DAY_MS) byId.set(halfHourId(b.startMs), b);
  }
  const rows: FootprintRow[] = [];
  for (let id = 1; id <= HALF_HOURS_PER_DAY; id++) {
    const start = dayStart + (id - 1) * HALF_HOUR_MS;
    const bucket = byId.get(id);
    const intensity = intensities[id - 1]?.intensity ?? null;
    const energy = bucket?.energyKwh ?? null;
    rows.push({
      half_hour_id: id,
      start: new Date(start).toISOString(),
      end: new Date(start + HALF_HOUR_MS).toISOString(),
      mean_kw: bucket?.meanKw ?? null,
      energy_kwh: energy,
      intensity,
      footprint_g: energy === null || intensity === null ? null : energy * intensity,
    });
  }
  return rows;
}

export interface FootprintDay {
  assetId: string;
  date: string;
  rows: FootprintRow[];
}

export interface FootprintJoinState {
  buckets: Record<string, Record<string, [number, number, number | null, number | null][]>>;
  intensities: Record<string, HalfHourIntensity[]>;
  closed: Record<string, string[]>;
}

/**
 * The join's state: buckets per asset and day, intensities per day. An asset-day is closed
 * when its last half hour (HalfHourId 48) arrived, as the resampler emits in time order and
 * flushes to the end of the day; its 48 rows come out once the day's intensities are known
 * too, and again whenever either side changes (InfluxDB overwrites the same points). Only
 * the newest `keepDays` dates are kept.
 */
export class FootprintJoin {
  private readonly buckets = new Map<string, Map<string, Map<number, PowerBucket>>>();
  private readonly intensities = new Map<string, HalfHourIntensity[]>();
  private readonly closed = new Map<string, Set<string>>();

  constructor(readonly keepDays = 7) {}

  /** Adds one bucket; returns the asset-day's rows when the day is closed and intensities are known. */
  addBucket(assetId: string, bucket: PowerBucket): FootprintDay[] {
    const date = utcDate(bucket.startMs);
    let days = this.buckets.get(assetId);
    if (!days) this.buckets.set(assetId, (days = new Map()));
    let day = days.get(date);
    if (!day) days.set(date, (day = new Map()));
    const id = halfHourId(bucket.startMs);
    day.set(id, bucket);
    const closed = this.closed.get(date) ?? new Set<string>();
    if (id === HALF_HOURS_PER_DAY) {
      closed.add(assetId);
      this.closed.set(date, closed);
    }
    this.prune();
    return closed.has(assetId) ? this.rowsFor(date, [assetId]) : [];
  }

  /** Adds the API entries; returns rows for every closed asset-day of the dates they touch. */
  addIntensities(entries: readonly IntensityEntry[], onlyDate?: string): FootprintDay[] {
    const out: FootprintDay[] = [];
    for (const date of onlyDate ? [onlyDate] : entryDates(entries)) {
      const fresh = dayIntensities(entries, date);
      const known = this.intensities.get(date);
      const merged = known
        ? known.map((k, i) =>
            fresh[i].source === null || (k.source === 'actual' && fresh[i].source !== 'actual')
              ? k
              : fresh[i],
          )
        : fresh;
      this.intensities.set(date, merged);
      out.push(...this.rowsFor(date, [...(this.closed.get(date) ?? [])]));
    }
    this.prune();
    return out;
  }

  /** Dates that have buckets of some asset but no intensities yet (sorted). */
  datesWithoutIntensity(): string[] {
    const dates = new Set<string>();
    for (const days of this.buckets.values())
      for (const d of days.keys()) if (!this.intensities.has(d)) dates.add(d);
    return [...dates].sort();
  }

  private rowsFor(date: string, assetIds: string[]): FootprintDay[] {
    const intensities = this.intensities.get(date);
    if (!intensities) return [];
    return assetIds.map((assetId) => ({
      assetId,
      date,
      rows: footprintRows(date, this.buckets.get(assetId)?.get(date) ?? new Map(), intensities),
    }));
  }

  private prune(): void {
    const dates = new Set<string>([...this.intensities.keys(), ...this.closed.keys()]);
    for (const days of this.buckets.values()) for (const d of days.keys()) dates.add(d);
    const keep = new Set([...dates].sort().slice(-this.keepDays));
    for (const d of this.intensities.keys()) if (!keep.has(d)) this.intensities.delete(d);
    for (const d of this.closed.keys()) if (!keep.has(d)) this.closed.delete(d);
    for (const [asset, days] of this.buckets) {
      for (const d of days.keys()) if (!keep.has(d)) days.delete(d);
      if (days.size === 0) this.buckets.delete(asset);
    }
  }

  toJSON(): FootprintJoinState {
    const buckets: FootprintJoinState['buckets'] = {};
    for (const [asset, days] of this.buckets) {
      buckets[asset] = {};
      for (const [date, day] of days) {
        buckets[asset][date] = [...day.values()].map((b) => [b.startMs, b.endMs, b.meanKw, b.energyKwh]);
      }
    }
    const closed: FootprintJoinState['closed'] = {};
    for (const [date, assets] of this.closed) closed[date] = [...assets];
    return { buckets, intensities: Object.fromEntries(this.intensities), closed };
  }

  static fromJSON(state: FootprintJoinState | undefined, keepDays = 7): FootprintJoin {
    const join = new FootprintJoin(keepDays);
    if (!state) return join;
    for (const [asset, days] of Object.entries(state.buckets ?? {})) {
      const map = new Map<string, Map<number, PowerBucket>>();
      for (const [date, list] of Object.entries(days)) {
        map.set(
          date,
          new Map(
            list.map(([startMs, endMs, meanKw, energyKwh]) => [
              halfHourId(startMs),
              { startMs, endMs, meanKw, energyKwh },
            ]),
          ),
        );
      }
      join.buckets.set(asset, map);
    }
    for (const [date, list] of Object.entries(state.intensities ?? {})) join.intensities.set(date, list);
    for (const [date, assets] of Object.entries(state.closed ?? {})) join.closed.set(date, new Set(assets));
    return join;
  }
}

/** The InfluxDB point of a row (`carbon_footprint`, tag asset_id, null fields left out). */
export function footprintPoint(
  assetId: string,
  row: FootprintRow,
): {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  timestamp: string;
} {
  const fields: Record<string, number> = { half_hour_id: row.half_hour_id };
  for (const key of ['mean_kw', 'energy_kwh', 'intensity', 'footprint_g'] as const) {
    const v = row[key];
    if (v !== null) fields[key] = v;
  }
  return { measurement: 'carbon_footprint', tags: { asset_id: assetId }, fields, timestamp: row.start };
}
