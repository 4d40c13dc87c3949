import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FootprintJoin,
  dayIntensities,
  entryDates,
  footprintPoint,
  footprintRows,
  halfHourId,
  readPowerBucket,
  utcDayStart,
  type IntensityEntry,
  type PowerBucket,
} from '../../nodes/core/carbon-footprint';
import { resampleCov } from '../../nodes/core/cov-resample';

const ROOT = join(__dirname, '..', '..', '..');
const DATE = '2019-11-25';
const DAY = Date.UTC(2019, 10, 25);
const HALF_HOUR = 1_800_000;

/** The COV CSV read the plain way: `Time,Variable,AssetId,Value`, times UTC with 7-digit fractions. */
function readPowerCsv(): { timeMs: number; value: number; asset: string }[] {
  const lines = readFileSync(join(ROOT, 'data', 'carbon', `power_measurements_${DATE}.csv`), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1);
  return lines.map((line) => {
    const [time, , asset, value] = line.split(',');
    const [date, clock] = time.split(' ');
    const [hms, frac] = clock.split('.');
    const [y, mo, d] = date.split('-').map(Number);
    const [h, mi, s] = hms.split(':').map(Number);
    return {
      timeMs: Date.UTC(y, mo - 1, d, h, mi, s) + Math.round(Number(`0.${frac}`) * 1000),
      value: Number(value),
      asset,
    };
  });
}

function fixtureEntries(): IntensityEntry[] {
  const body = JSON.parse(
    readFileSync(join(ROOT, 'test', 'fixtures', 'carbon', `carbon_intensity_${DATE}.json`), 'utf8'),
  ) as { data: IntensityEntry[] };
  return body.data;
}

/**
 * The naive reference: the power is a step function (each reading holds until the next,
 * the last one until midnight); for every half hour integrate it second by millisecond
 * segment, divide by the covered time (none before the first reading) for the mean,
 * energy = mean × 0.5 h, footprint = energy × the `actual` intensity of the half hour.
 */
function naiveFootprints(readings: { timeMs: number; value: number }[], intensityCsv: string): number[] {
  const sorted = [...readings].sort((a, b) => a.timeMs - b.timeMs);
  const intensity = new Map<number, number>();
  for (const line of intensityCsv.trim().split('\n').slice(1)) {
    const [id, , , value] = line.split(',');
    intensity.set(Number(id), Number(value));
  }
  const out: number[] = [];
  for (let id = 1; id <= 48; id++) {
    const start = DAY + (id - 1) * HALF_HOUR;
    const end = start + HALF_HOUR;
    let integralKwMs = 0;
    let coveredMs = 0;
    for (let i = 0; i < sorted.length; i++) {
      const segStart = sorted[i].timeMs;
      const segEnd = i + 1 < sorted.length ? sorted[i + 1].timeMs : DAY + 86_400_000;
      const overlap = Math.min(segEnd, end) - Math.max(segStart, start);
      if (overlap > 0) {
        integralKwMs += sorted[i].value * overlap;
        coveredMs += overlap;
      }
    }
    const meanKw = integralKwMs / coveredMs;
    out.push(meanKw * 0.5 * intensity.get(id)!);
  }
  return out;
}

function resampledBuckets(readings: { timeMs: number; value: number }[]): PowerBucket[] {
  const buckets = resampleCov(
    readings,
    { bucketMs: HALF_HOUR, method: 'locf', timeZone: 'UTC', maxCarryMs: 0, graceMs: 0 },
    DAY + 86_400_000,
  );
  return buckets.map((b) => {
    const bucket = readPowerBucket({
      bucket_id: b.bucketId,
      start: new Date(b.startMs).toISOString(),
      end: new Date(b.endMs).toISOString(),
      mean: b.mean,
      energy: b.energy,
    });
    assert.equal(typeof bucket, 'object', String(bucket));
    return bucket as PowerBucket;
  });
}

function bucket(id: number, meanKw: number, date = DAY): PowerBucket {
  const startMs = date + (id - 1) * HALF_HOUR;
  return { startMs, endMs: startMs + HALF_HOUR, meanKw, energyKwh: meanKw / 2 };
}

describe('carbon-footprint (core join on HalfHourId)', () => {
  it('gives the 48 footprints of the real COV file × the API fixture equal to a naive time-weighted computation', () => {
    const readings = readPowerCsv();
    assert.equal(readings.length, 4916);
    assert.deepEqual([...new Set(readings.map((r) => r.asset))], ['abc123xyz']);
    const rows = footprintRows(DATE, resampledBuckets(readings), dayIntensities(fixtureEntries(), DATE));
    const expected = naiveFootprints(
      readings,
      readFileSync(join(ROOT, 'test', 'fixtures', 'carbon', `carbon_intensity_actual_${DATE}.csv`), 'utf8'),
    );
    assert.equal(rows.length, 48);
    rows.forEach((row, i) => {
      assert.equal(row.half_hour_id, i + 1);
      assert.equal(row.start, new Date(DAY + i * HALF_HOUR).toISOString());
      assert.equal(row.end, new Date(DAY + (i + 1) * HALF_HOUR).toISOString());
      assert.ok(row.footprint_g !== null && row.energy_kwh !== null && row.intensity !== null);
      const tolerance = 1e-9 * Math.max(1, Math.abs(expected[i]));
      assert.ok(
        Math.abs(row.footprint_g - expected[i]) <= tolerance,
        `${i + 1}: ${row.footprint_g} vs ${expected[i]}`,
      );
      assert.ok(Math.abs(row.energy_kwh * row.intensity - row.footprint_g) <= tolerance);
      assert.ok(Math.abs(row.mean_kw! / 2 - row.energy_kwh) <= 1e-9 * Math.max(1, Math.abs(row.energy_kwh)));
    });
    // a spot value, worked out by hand from the fixture: HalfHourId 1 has intensity 200
    assert.equal(rows[0].intensity, 200);
    assert.equal(rows[47].intensity, 183);
  });

  it('does not count the 23:30 entry of the day before that the API returns with a day', () => {
    const entries: IntensityEntry[] = [
      {
        from: '2019-11-24T23:30Z',
        to: '2019-11-25T00:00Z',
        intensity: { forecast: 999, actual: 999, index: null },
      },
      ...fixtureEntries(),
      {
        from: '2019-11-26T00:00Z',
        to: '2019-11-26T00:30Z',
        intensity: { forecast: 777, actual: null, index: null },
      },
    ];
    const day = dayIntensities(entries, DATE);
    assert.equal(day.length, 48);
    assert.ok(day.every((d) => d.intensity !== 999 && d.intensity !== 777));
    assert.equal(day[0].intensity, 200);
    assert.equal(dayIntensities(entries, '2019-11-24')[47].intensity, 999);
    assert.deepEqual(entryDates(entries), ['2019-11-24', '2019-11-25', '2019-11-26']);
  });

  it('uses actual, the forecast where actual is null, and leaves the footprint null where both are', () => {
    const entries: IntensityEntry[] = [
      { from: '2019-11-25T00:00Z', intensity: { forecast: 190, actual: 200 } },
      { from: '2019-11-25T00:30Z', intensity: { forecast: 150, actual: null } },
      { from: '2019-11-25T01:00Z', intensity: { forecast: null, actual: null } },
    ];
    const day = dayIntensities(entries, DATE);
    assert.deepEqual(day.slice(0, 4), [
      { halfHourId: 1, intensity: 200, source: 'actual' },
      { halfHourId: 2, intensity: 150, source: 'forecast' },
      { halfHourId: 3, intensity: null, source: null },
      { halfHourId: 4, intensity: null, source: null },
    ]);
    const rows = footprintRows(DATE, [bucket(1, 10), bucket(2, 10), bucket(3, 10)], day);
    assert.deepEqual(
      rows.slice(0, 4).map((r) => r.footprint_g),
      [1000, 750, null, null],
    );
    assert.deepEqual(rows[3], {
      half_hour_id: 4,
      start: '2019-11-25T01:30:00.000Z',
      end: '2019-11-25T02:00:00.000Z',
      mean_kw: null,
      energy_kwh: null,
      intensity: null,
      footprint_g: null,
    });
  });

  it('keeps the sign of the power: exported energy gives a negative footprint', () => {
    const rows = footprintRows(DATE, [bucket(1, -100)], dayIntensities(fixtureEntries(), DATE));
    assert.equal(rows[0].energy_kwh, -50);
    assert.equal(rows[0].footprint_g, -50 * 200);
  });

  it('reads cov-resampler payloads and refuses buckets that are not UTC half hours', () => {
    assert.deepEqual(
      readPowerBucket({
        bucket_id: 3,
        start: '2019-11-25T01:00:00.000Z',
        end: '2019-11-25T01:30:00.000Z',
        mean: 4,
        energy: 2,
      }),
      { startMs: DAY + 2 * HALF_HOUR, endMs: DAY + 3 * HALF_HOUR, meanKw: 4, energyKwh: 2 },
    );
    assert.match(
      String(readPowerBucket({ start: DAY, end: DAY + 900_000, mean: 1, energy: 1 })),
      /not a UTC half hour/,
    );
    assert.match(
      String(readPowerBucket({ start: DAY + 60_000, end: DAY + 60_000 + HALF_HOUR, mean: 1 })),
      /half hour/,
    );
    assert.match(String(readPowerBucket(42)), /not a cov-resampler bucket/);
    assert.match(String(readPowerBucket({ mean: 1 })), /start\/end/);
    assert.equal(halfHourId(DAY + 47 * HALF_HOUR), 48);
    assert.throws(() => utcDayStart('2019-02-30'), /calendar date/);
  });

  describe('FootprintJoin', () => {
    it('emits the 48 rows of an asset-day once its last half hour and the day intensities are both in', () => {
      const join = new FootprintJoin();
      for (let id = 1; id <= 47; id++) assert.deepEqual(join.addBucket('a1', bucket(id, id)), []);
      assert.deepEqual(join.addBucket('a1', bucket(48, 48)), [], 'no intensities yet');
      const days = join.addIntensities(fixtureEntries(), DATE);
      assert.equal(days.length, 1);
      assert.equal(days[0].assetId, 'a1');
      assert.equal(days[0].date, DATE);
      assert.equal(days[0].rows.length, 48);
      assert.equal(days[0].rows[9].footprint_g, 5 * fixtureEntries()[9].intensity!.actual!);
    });

    it('emits at the last bucket when the intensities came first, for every asset of that day', () => {
      const join = new FootprintJoin();
      assert.deepEqual(join.addIntensities(fixtureEntries()), []);
      for (let id = 1; id <= 47; id++) {
        join.addBucket('a1', bucket(id, 1));
        join.addBucket('b2', bucket(id, 2));
      }
      const a = join.addBucket('a1', bucket(48, 1));
      assert.deepEqual(
        a.map((d) => d.assetId),
        ['a1'],
      );
      assert.equal(a[0].rows.filter((r) => r.footprint_g !== null).length, 48);
      const b = join.addBucket('b2', bucket(48, 2));
      assert.equal(b[0].rows[0].footprint_g, 200);
      // new intensities for the day re-emit every closed asset-day of it
      assert.deepEqual(
        join.addIntensities(fixtureEntries(), DATE).map((d) => d.assetId),
        ['a1', 'b2'],
      );
    });

    it('survives a round trip through its JSON state', () => {
      const join = new FootprintJoin();
      for (let id = 1; id <= 48; id++) join.addBucket('a1', bucket(id, id));
      const restored = FootprintJoin.fromJSON(JSON.parse(JSON.stringify(join.toJSON())));
      const days = restored.addIntensities(fixtureEntries(), DATE);
      assert.equal(days.length, 1);
      assert.equal(days[0].rows[47].mean_kw, 48);
    });

    it('keeps only the newest days', () => {
      const join = new FootprintJoin(2);
      for (const day of [DAY, DAY + 86_400_000, DAY + 2 * 86_400_000])
        join.addBucket('a1', bucket(48, 1, day));
      const state = join.toJSON();
      assert.deepEqual(Object.keys(state.buckets.a1), ['2019-11-26', '2019-11-27']);
      assert.deepEqual(Object.keys(state.closed), ['2019-11-26', '2019-11-27']);
    });
  });

  it('writes a carbon_footprint point tagged with the asset, at the half-hour start, without null fields', () => {
    const rows = footprintRows(DATE, [bucket(1, 10)], dayIntensities(fixtureEntries(), DATE));
    assert.deepEqual(footprintPoint('a1', rows[0]), {
      measurement: 'carbon_footprint',
      tags: { asset_id: 'a1' },
      fields: { half_hour_id: 1, mean_kw: 10, energy_kwh: 5, intensity: 200, footprint_g: 1000 },
      timestamp: '2019-11-25T00:00:00.000Z',
    });
    assert.deepEqual(footprintPoint('a1', rows[1]).fields, { half_hour_id: 2, intensity: 198 });
  });
});
