import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  PeriodCalendar,
  TurbineStats,
  type TurbinePeriodStats,
  type TurbineStatsOptions,
} from '../../nodes/core/turbine-stats';
import { cleanTurbineSeries, DEFAULT_MAD_THRESHOLD } from '../../nodes/core/turbine-cleaning';
import { parseCsvText, CsvRowMapper } from '../../nodes/core/csv-parse';

const ROOT = join(__dirname, '..', '..', '..');
const CLEAN = [1, 2, 3].map((i) => join(ROOT, 'data', 'windmill', `data_group_${i}.csv`));
const VARIANTS = join(ROOT, 'test', 'fixtures', 'windmill');
const DAVID = join(VARIANTS, 'David-dmh_wind-pipeline_modified', 'data_group_1.csv');
const NICHOC = [1, 2].map((i) =>
  join(VARIANTS, 'nichoc93_wind-turbine-data_modified', `data_group_${i}.csv`),
);

const OPTIONS: TurbineStatsOptions = {
  periodSeconds: 86400,
  timeZone: 'UTC',
  impute: 'linear',
  minPower: 0,
  maxPower: 10,
  madThreshold: DEFAULT_MAD_THRESHOLD,
  closeOnData: false,
};

/** Rows of a turbine CSV through the project's parser and row mapper. */
function rowsOf(file: string): Record<string, unknown>[] {
  const { records } = parseCsvText(readFileSync(file, 'utf8'));
  const mapper = new CsvRowMapper({ columns: records[0].fields, timeColumn: 'timestamp' });
  return records.slice(1).map((r) => mapper.map(r.fields) as Record<string, unknown>);
}

function statsOf(files: string[], options: Partial<TurbineStatsOptions> = {}): TurbinePeriodStats[] {
  const stats = new TurbineStats({ ...OPTIONS, ...options });
  for (const file of files) {
    for (const row of rowsOf(file)) {
      if (row.turbine_id === null) continue;
      stats.add({ turbineId: row.turbine_id, timeMs: row.timestamp as number, power: row.power_output, row });
    }
  }
  return stats.flush().flatMap((p) => p.stats);
}

/** Independent recomputation: plain string splitting, the day from the text, textbook formulas. */
function naiveDailyStats(
  files: string[],
): Map<string, { min: number; max: number; mean: number; count: number; stdev: number }> {
  const groups = new Map<string, number[]>();
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [timestamp, turbine, , , power] = line.split(',');
      const key = `${turbine}|${timestamp.slice(0, 10)}`;
      groups.set(key, [...(groups.get(key) ?? []), parseFloat(power)]);
    }
  }
  const out = new Map<string, { min: number; max: number; mean: number; count: number; stdev: number }>();
  for (const [key, values] of groups) {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
    out.set(key, {
      min: Math.min(...values),
      max: Math.max(...values),
      mean,
      count: values.length,
      stdev: Math.sqrt(variance),
    });
  }
  return out;
}

function find(all: TurbinePeriodStats[], turbine: number, day: string): TurbinePeriodStats {
  const s = all.find((x) => x.turbine_id === turbine && x.day === day);
  assert.ok(s, `stats for turbine ${turbine} on ${day}`);
  return s;
}

describe('turbine-stats (core)', () => {
  it('gives 465 turbine-days (15 turbines × 31 days) on the clean set, equal to a naive recomputation', () => {
    const all = statsOf(CLEAN);
    const naive = naiveDailyStats(CLEAN);
    assert.equal(all.length, 465);
    assert.equal(naive.size, 465);
    assert.equal(new Set(all.map((s) => s.turbine_id)).size, 15);
    assert.equal(new Set(all.map((s) => s.day)).size, 31);
    for (const s of all) {
      const n = naive.get(`${s.turbine_id}|${s.day}`);
      assert.ok(n, `${s.turbine_id} ${s.day}`);
      assert.equal(s.count, n.count);
      assert.equal(s.min, n.min);
      assert.equal(s.max, n.max);
      assert.ok(Math.abs((s.mean as number) - n.mean) < 1e-12, `mean ${s.turbine_id} ${s.day}`);
      assert.ok(Math.abs((s.stdev as number) - n.stdev) < 1e-12, `stdev ${s.turbine_id} ${s.day}`);
      assert.deepEqual(s.quality, { rows: 24, missing: 0, imputed: 0, outliers: 0, duplicates: 0 });
      assert.equal(s.start, `${s.day}T00:00:00.000Z`);
    }
  });

  it('gives the same stats whatever order the rows arrive in', () => {
    const rows = CLEAN.flatMap(rowsOf);
    const shuffled = rows
      .map((row, i) => ({ row, key: (i * 7919) % rows.length }))
      .sort((a, b) => a.key - b.key)
      .map((x) => x.row);
    const stats = new TurbineStats(OPTIONS);
    for (const row of shuffled)
      stats.add({ turbineId: row.turbine_id, timeMs: row.timestamp as number, power: row.power_output, row });
    assert.deepEqual(
      stats.flush().flatMap((p) => p.stats),
      statsOf(CLEAN),
    );
  });

  it('counts duplicates, missing values and outliers of the edited variant (David-dmh) exactly', () => {
    const all = statsOf([DAVID]);
    // turbine 1, 1 March: 00:00 became five rows of 300 (4 duplicates, 1 outlier), 01:00 lost its turbine id
    assert.deepEqual(find(all, 1, '2022-03-01').quality, {
      rows: 27,
      missing: 0,
      imputed: 1,
      outliers: 1,
      duplicates: 4,
    });
    assert.equal(find(all, 1, '2022-03-01').count, 23);
    // turbine 2: 04:00 lost its id, 08:00 is 19 MW (above 10)
    assert.deepEqual(find(all, 2, '2022-03-01').quality, {
      rows: 23,
      missing: 0,
      imputed: 1,
      outliers: 1,
      duplicates: 0,
    });
    // turbine 3: power blank at 00:00 and 04:00
    assert.deepEqual(find(all, 3, '2022-03-01').quality, {
      rows: 24,
      missing: 2,
      imputed: 2,
      outliers: 0,
      duplicates: 0,
    });
    // turbine 4: -5 at 02:00 (0.1 at 06:00 is a plausible low reading and stays)
    assert.deepEqual(find(all, 4, '2022-03-01').quality, {
      rows: 24,
      missing: 0,
      imputed: 1,
      outliers: 1,
      duplicates: 0,
    });
    assert.equal(find(all, 4, '2022-03-01').min, 0.1);
    // turbine 5: -5.5 at 02:00 and 999 at 03:00
    assert.deepEqual(find(all, 5, '2022-03-01').quality, {
      rows: 24,
      missing: 0,
      imputed: 2,
      outliers: 2,
      duplicates: 0,
    });
    const otherDays = all.filter((s) => s.day !== '2022-03-01');
    assert.equal(otherDays.length, 5 * 30);
    assert.ok(otherDays.every((s) => s.quality.rows === 24 && s.quality.imputed === 0 && s.count === 24));
  });

  it('imputes linearly in time between the neighbours of the same turbine', () => {
    // David-dmh turbine 5: 01:00 = 4.0, 02:00 = -5.5, 03:00 = 999, 04:00 = 2.6 in the original hours
    const rows = rowsOf(DAVID).filter(
      (r) =>
        r.turbine_id === 5 && String(new Date(r.timestamp as number).toISOString()).startsWith('2022-03-01'),
    );
    const byHour = (h: number) =>
      rows.find((r) => new Date(r.timestamp as number).getUTCHours() === h)?.power_output;
    const before = byHour(1) as number;
    const after = byHour(4) as number;
    const clean = cleanTurbineSeries(
      rows.map((row) => ({ timeMs: row.timestamp as number, periodStart: 0, power: row.power_output, row })),
      { impute: 'linear', minPower: 0, maxPower: 10, madThreshold: DEFAULT_MAD_THRESHOLD },
    );
    const at = (h: number) => clean.samples.find((s) => new Date(s.timeMs).getUTCHours() === h);
    assert.ok(Math.abs((at(2)?.value as number) - (before + (after - before) / 3)) < 1e-12);
    assert.ok(Math.abs((at(3)?.value as number) - (before + (2 * (after - before)) / 3)) < 1e-12);
    assert.equal(at(2)?.imputed, true);
    assert.equal(at(1)?.imputed, false);
  });

  it('imputes with the median, or leaves values out with impute none', () => {
    const median = find(statsOf([DAVID], { impute: 'median' }), 3, '2022-03-01');
    assert.deepEqual(median.quality, { rows: 24, missing: 2, imputed: 2, outliers: 0, duplicates: 0 });
    const none = find(statsOf([DAVID], { impute: 'none' }), 3, '2022-03-01');
    assert.deepEqual(none.quality, { rows: 24, missing: 2, imputed: 0, outliers: 0, duplicates: 0 });
    assert.equal(none.count, 22);
  });

  it('counts the nichoc93 variants: a deleted row, a MAD outlier (9.5 MW), a blank power', () => {
    const all = statsOf(NICHOC);
    assert.equal(all.length, 310);
    assert.deepEqual(find(all, 1, '2022-03-01').quality, {
      rows: 23,
      missing: 0,
      imputed: 0,
      outliers: 0,
      duplicates: 0,
    });
    assert.deepEqual(find(all, 5, '2022-03-01').quality, {
      rows: 24,
      missing: 0,
      imputed: 1,
      outliers: 1,
      duplicates: 0,
    });
    assert.deepEqual(find(all, 4, '2022-03-01').quality, {
      rows: 24,
      missing: 0,
      imputed: 0,
      outliers: 0,
      duplicates: 0,
    });
    assert.deepEqual(find(all, 8, '2022-03-01').quality, {
      rows: 24,
      missing: 1,
      imputed: 1,
      outliers: 0,
      duplicates: 0,
    });
    const flagged = all.filter((s) => s.quality.imputed > 0 || s.quality.rows !== 24);
    assert.equal(flagged.length, 3);
  });

  it('closes a day when a row at or after its end arrives, and counts rows for an emitted day as late', () => {
    const stats = new TurbineStats({ ...OPTIONS, closeOnData: true });
    const t0 = Date.UTC(2022, 2, 1);
    for (let h = 0; h < 24; h++)
      stats.add({ turbineId: 1, timeMs: t0 + h * 3_600_000, power: 2, row: { h } });
    assert.deepEqual(stats.closeReady(), []);
    stats.add({ turbineId: 1, timeMs: t0 + 24 * 3_600_000, power: 3, row: { h: 24 } });
    const closed = stats.closeReady();
    assert.equal(closed.length, 1);
    assert.equal(closed[0].day, '2022-03-01');
    assert.equal(closed[0].stats[0].count, 24);
    assert.equal(stats.add({ turbineId: 1, timeMs: t0 + 5, power: 1, row: {} }), false);
    assert.equal(stats.lateRows, 1);
    assert.equal(stats.openRows, 1);
  });

  it('aligns days to local midnight across DST: 23 and 25 hours in Europe/Zurich', () => {
    const calendar = new PeriodCalendar(86400, 'Europe/Zurich');
    const spring = calendar.bounds(Date.UTC(2021, 2, 28, 12));
    assert.equal(spring.start, Date.UTC(2021, 2, 27, 23));
    assert.equal(spring.end - spring.start, 23 * 3_600_000);
    const autumn = calendar.bounds(Date.UTC(2021, 9, 31, 12));
    assert.equal(autumn.end - autumn.start, 25 * 3_600_000);
    assert.equal(calendar.label(autumn.start), '2021-10-31');
    const hours = new PeriodCalendar(3600 * 6, 'Europe/Zurich');
    // 01:30 UTC is 02:30 CET, the second pass through 02:00–03:00: in the 00–06 period, 7 hours long
    const first = hours.bounds(Date.UTC(2021, 9, 31, 1, 30));
    assert.equal(first.start, autumn.start);
    assert.equal(first.end - first.start, 7 * 3_600_000);
    const last = hours.bounds(Date.UTC(2021, 9, 31, 22, 30));
    assert.deepEqual(last, { start: Date.UTC(2021, 9, 31, 17), end: autumn.end });
    const week = new PeriodCalendar(7 * 86400, 'UTC').bounds(Date.UTC(2022, 2, 3));
    assert.equal(week.end - week.start, 7 * 86_400_000);
    assert.throws(() => new PeriodCalendar(7000, 'UTC'), /must divide a day/);
  });

  it('puts hourly readings into Zurich days: 23 on the spring day, 25 on the autumn day', () => {
    const stats = new TurbineStats({ ...OPTIONS, timeZone: 'Europe/Zurich', madThreshold: 0 });
    for (let t = Date.UTC(2021, 2, 27, 23); t < Date.UTC(2021, 2, 28, 22); t += 3_600_000)
      stats.add({ turbineId: 'a', timeMs: t, power: 1, row: { t } });
    for (let t = Date.UTC(2021, 9, 30, 22); t < Date.UTC(2021, 9, 31, 23); t += 3_600_000)
      stats.add({ turbineId: 'a', timeMs: t, power: 1, row: { t } });
    const days = stats.flush();
    assert.deepEqual(
      days.map((d) => [d.day, d.stats[0].count]),
      [
        ['2021-03-28', 23],
        ['2021-10-31', 25],
      ],
    );
  });

  it('matches a naive recomputation for random clean data in random order and periods (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            turbine: fc.integer({ min: 1, max: 4 }),
            minute: fc.integer({ min: 0, max: 4 * 24 * 60 }),
            power: fc.double({ min: 0, max: 5, noNaN: true }),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        fc.constantFrom(3600, 21600, 86400),
        (rows, periodSeconds) => {
          const seen = new Set<string>();
          const unique = rows.filter(
            (r) => !seen.has(`${r.turbine}|${r.minute}`) && seen.add(`${r.turbine}|${r.minute}`),
          );
          const stats = new TurbineStats({
            ...OPTIONS,
            periodSeconds,
            madThreshold: 0,
            minPower: undefined,
            maxPower: undefined,
          });
          for (const r of unique)
            stats.add({ turbineId: r.turbine, timeMs: r.minute * 60_000, power: r.power, row: { ...r } });
          const out = stats.flush().flatMap((p) => p.stats);
          const groups = new Map<string, number[]>();
          for (const r of unique) {
            const key = `${r.turbine}|${Math.floor((r.minute * 60) / periodSeconds)}`;
            groups.set(key, [...(groups.get(key) ?? []), r.power]);
          }
          assert.equal(out.length, groups.size);
          for (const s of out) {
            const values = groups.get(
              `${s.turbine_id}|${Math.floor(Date.parse(s.start) / 1000 / periodSeconds)}`,
            ) as number[];
            const mean = values.reduce((a, b) => a + b, 0) / values.length;
            assert.equal(s.count, values.length);
            assert.equal(s.min, Math.min(...values));
            assert.equal(s.max, Math.max(...values));
            assert.ok(Math.abs((s.mean as number) - mean) < 1e-9);
            if (values.length > 1) {
              const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
              assert.ok(Math.abs((s.stdev as number) - sd) < 1e-9);
            } else assert.equal(s.stdev, null);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('survives a round trip through JSON (the context store) with open rows', () => {
    const stats = new TurbineStats(OPTIONS);
    for (const row of rowsOf(CLEAN[0]).slice(0, 500))
      stats.add({ turbineId: row.turbine_id, timeMs: row.timestamp as number, power: row.power_output, row });
    const restored = new TurbineStats(OPTIONS, JSON.parse(JSON.stringify(stats.toJSON())));
    assert.deepEqual(restored.flush(), stats.flush());
  });
});
