/**
 * Rain expected over the next hour from an OpenWeatherMap One Call response. One Call's
 * `minutely[].precipitation` is a rate in mm/h for each minute (its documentation says
 * only mm/h is available), so the amount in mm over a minute is rate / 60 and the
 * amount over the hour is the sum of those. `unit: 'mm'` treats each value as the
 * minute's amount instead. See docs/adr/0033-rain-next-hour.md.
 */
export interface MinutelyEntry {
  dt: number; // epoch seconds, start of the minute
  precipitation?: number | null;
}

export interface RainNextHour {
  /** Reference time, ISO-8601 UTC. */
  time: string;
  /** Precipitation amount over the minutes found, mm. */
  mm: number;
  /** Minutes of the next hour that had a value (60 when the forecast is complete). */
  minutes: number;
}

export interface RainOptions {
  /** Start of the hour, epoch ms; default: `current.dt` of the response, else the first minute. */
  fromMs?: number;
  horizonMinutes?: number; // 60
  unit?: 'mm/h' | 'mm';
}

/** The rain sum, or a reason why the response has none. */
export function rainNextHour(
  response: unknown,
  { fromMs, horizonMinutes = 60, unit = 'mm/h' }: RainOptions = {},
): { ok: true; value: RainNextHour } | { ok: false; reason: string } {
  if (response === null || typeof response !== 'object')
    return { ok: false, reason: 'response is not an object' };
  const body = response as { minutely?: unknown; current?: { dt?: unknown } };
  if (!Array.isArray(body.minutely))
    return { ok: false, reason: 'response has no "minutely" list (is "minutely" excluded in the URL?)' };
  const entries = body.minutely.filter(
    (m): m is MinutelyEntry =>
      m !== null && typeof m === 'object' && Number.isFinite((m as MinutelyEntry).dt),
  );
  const currentDt = body.current?.dt;
  const startMs =
    fromMs ??
    (typeof currentDt === 'number' && Number.isFinite(currentDt)
      ? currentDt * 1000
      : entries.length > 0
        ? Math.min(...entries.map((m) => m.dt)) * 1000
        : undefined);
  if (startMs === undefined) return { ok: false, reason: 'response has no minutes and no current.dt' };
  if (!(Math.abs(startMs) <= 8.64e15))
    return { ok: false, reason: 'response time is beyond what a Date holds' };
  // A minute counts when it starts within [start, start + horizon); One Call's first
  // minute can start up to a minute before current.dt, so align start down to the minute.
  const from = Math.floor(startMs / 60_000) * 60_000;
  const until = from + horizonMinutes * 60_000;
  const perMinute = unit === 'mm/h' ? 1 / 60 : 1;
  const seen = new Set<number>();
  let sum = 0;
  for (const m of entries) {
    const t = m.dt * 1000;
    if (t < from || t >= until || seen.has(t)) continue;
    const p = m.precipitation;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) continue;
    seen.add(t);
    sum += p * perMinute;
  }
  return {
    ok: true,
    value: { time: new Date(from).toISOString(), mm: Math.round(sum * 1e6) / 1e6, minutes: seen.size },
  };
}
