import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bucketCount,
  parseResolution,
  planSeriesQuery,
  quotePlainIdentifier,
  rowsToSeriesPoints,
  seriesExistsQuery,
  type SeriesQueryError,
  type SeriesQueryPlan,
} from '../../nodes/core/series-query';

const good = {
  series: 'sollfrequenz',
  start: '2021-05-01T00:00:00Z',
  end: '2021-05-02T00:00:00Z',
  resolution: '15m',
};

function plan(overrides: Record<string, unknown> = {}, options = {}): SeriesQueryPlan {
  const result = planSeriesQuery({ ...good, ...overrides }, options);
  assert.equal(result.ok, true, JSON.stringify(result));
  return result as SeriesQueryPlan;
}

function refused(overrides: Record<string, unknown>, options = {}): SeriesQueryError {
  const result = planSeriesQuery({ ...good, ...overrides }, options);
  assert.equal(result.ok, false, `expected a refusal for ${JSON.stringify(overrides)}`);
  return result as SeriesQueryError;
}

describe('series-query (core)', () => {
  describe('parseResolution', () => {
    it('reads whole numbers with s, m, h and d between 1 s and 1 d', () => {
      assert.deepEqual(parseResolution('1s'), { text: '1s', ms: 1000 });
      assert.deepEqual(parseResolution('30s'), { text: '30s', ms: 30_000 });
      assert.deepEqual(parseResolution('15m'), { text: '15m', ms: 900_000 });
      assert.deepEqual(parseResolution('1h'), { text: '1h', ms: 3_600_000 });
      assert.deepEqual(parseResolution('1d'), { text: '1d', ms: 86_400_000 });
      assert.deepEqual(parseResolution('1440m'), { text: '1440m', ms: 86_400_000 });
    });

    it('refuses other units, zero, fractions, signs, spaces and anything above 1 d', () => {
      for (const text of [
        '0s',
        '1ms',
        '1w',
        '2d',
        '25h',
        '1.5h',
        '-1m',
        ' 1m',
        '1m ',
        '1M',
        'm',
        '',
        '1s;DROP',
        '01s',
        '1e3s',
      ]) {
        assert.equal(parseResolution(text), undefined, text);
      }
      assert.equal(parseResolution(30), undefined);
      assert.equal(parseResolution(['1s']), undefined);
    });
  });

  describe('bucketCount', () => {
    it('counts the epoch-aligned buckets that an inclusive range touches', () => {
      assert.equal(bucketCount(0, 0, 1000), 1);
      assert.equal(bucketCount(0, 999, 1000), 1);
      assert.equal(bucketCount(0, 1000, 1000), 2);
      assert.equal(bucketCount(500, 1500, 1000), 2);
      assert.equal(bucketCount(Date.UTC(2021, 4, 1), Date.UTC(2021, 4, 2), 900_000), 97);
    });

    it('equals a naive count of bucket starts over any range', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 100_000 }),
          fc.integer({ min: 0, max: 5000 }),
          fc.integer({ min: 1, max: 700 }),
          (start, length, res) => {
            const starts = new Set<number>();
            for (let t = start; t <= start + length; t++) starts.add(Math.floor(t / res));
            assert.equal(bucketCount(start, start + length, res), starts.size);
          },
        ),
      );
    });
  });

  describe('planSeriesQuery', () => {
    it('binds the series and both times as parameters and interpolates only the checked resolution', () => {
      const p = plan();
      assert.equal(
        p.data.query,
        'SELECT mean("hz") AS "value" FROM "grid_frequency" WHERE "series" = $series AND time >= $start AND time <= $end GROUP BY time(15m) fill(none)',
      );
      assert.deepEqual(p.data.params, {
        series: 'sollfrequenz',
        start: '2021-05-01T00:00:00.000Z',
        end: '2021-05-02T00:00:00.000Z',
      });
      assert.equal(p.points, 97);
      assert.deepEqual(p.exists, {
        query: 'SHOW TAG VALUES FROM "grid_frequency" WITH KEY = "series" WHERE "series" = $series',
        params: { series: 'sollfrequenz' },
      });
    });

    it('reads dates without a time and times without a zone as UTC, and explicit offsets as given', () => {
      const p = plan({ start: '2021-05-01', end: '2021-05-01T02:00:00+02:00' });
      assert.equal(p.startMs, Date.UTC(2021, 4, 1));
      assert.equal(p.endMs, Date.UTC(2021, 4, 1));
      assert.equal(plan({ start: '2021-05-01T06:00:00' }).startMs, Date.UTC(2021, 4, 1, 6));
    });

    it('answers 400 with a message for missing or malformed start, end and resolution', () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ start: undefined }, /start is required/],
        [{ end: '' }, /end is required/],
        [{ start: 'yesterday' }, /start "yesterday" is not an ISO-8601 time/],
        [{ end: '2021-02-30' }, /end "2021-02-30" is not an ISO-8601 time/],
        [{ start: '2021-05-02', end: '2021-05-01' }, /end is before start/],
        [{ resolution: undefined }, /resolution is required/],
        [{ resolution: '5x' }, /resolution "5x" must be/],
        [{ resolution: '2d' }, /between 1s and 1d/],
        [{ start: ['2021-05-01', '2021-05-02'] }, /start is given more than once/],
        [{ resolution: ['1h', '1s'] }, /resolution is given more than once/],
      ];
      for (const [overrides, message] of cases) {
        const r = refused(overrides);
        assert.equal(r.status, 400, JSON.stringify(overrides));
        assert.match(r.error, message);
      }
    });

    it('refuses a range with more buckets than the limit and names the limit', () => {
      const r = refused({ resolution: '1s' }, { maxPoints: 10_000 });
      assert.equal(r.status, 400);
      assert.equal(r.limit, 10_000);
      assert.match(r.error, /86401 points; the limit is 10000/);
      assert.equal(plan({ resolution: '15m' }, { maxPoints: 97 }).points, 97);
      assert.equal(refused({ resolution: '15m' }, { maxPoints: 96 }).limit, 96);
    });

    it('refuses series names that could carry query text, before any query is built', () => {
      for (const series of [
        "x' OR '1'='1",
        'x" OR 1=1 --',
        'a; DROP MEASUREMENT grid_frequency',
        'a\nb',
        '',
        '.hidden',
        'a'.repeat(129),
        '$series',
        'ä',
      ]) {
        const r = refused({ series });
        assert.equal(r.status, 400, series);
        assert.match(r.error, /series name/);
      }
      assert.equal(plan({ series: 'sollfrequenz_2021-05.v2' }).series, 'sollfrequenz_2021-05.v2');
    });

    it('never puts request text into the query, whatever the input', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,9}$/), fc.string({ maxLength: 30 })),
          fc.oneof(fc.constantFrom('2021-05-01', '2021-05-01T10:00:00+02:00'), fc.string({ maxLength: 30 })),
          fc.oneof(fc.constantFrom('1s', '30s', '15m', '1d'), fc.string({ maxLength: 8 })),
          (series, start, resolution) => {
            const r = planSeriesQuery(
              { series, start, end: '2030-01-01T00:00:00Z', resolution },
              { maxPoints: 1e12 },
            );
            if (!r.ok) return;
            assert.equal(
              r.data.query,
              `SELECT mean("hz") AS "value" FROM "grid_frequency" WHERE "series" = $series AND time >= $start AND time <= $end GROUP BY time(${resolution}) fill(none)`,
            );
            assert.match(resolution, /^[1-9]\d*[smhd]$/);
            assert.equal(r.data.params.series, series);
          },
        ),
      );
    });

    it('takes measurement, field and tag from configuration only when they are plain identifiers', () => {
      const p = plan({}, { measurement: 'freq', field: 'value', tag: 'name' });
      assert.match(p.data.query, /^SELECT mean\("value"\) AS "value" FROM "freq" WHERE "name" = \$series/);
      assert.throws(
        () => planSeriesQuery(good, { measurement: 'x" ; DROP' }),
        /measurement "x" ; DROP" must be letters/,
      );
      assert.throws(() => quotePlainIdentifier('1abc'), /must be letters/);
      assert.equal(
        seriesExistsQuery('a', { measurement: 'm', tag: 't' }).query,
        'SHOW TAG VALUES FROM "m" WITH KEY = "t" WHERE "t" = $series',
      );
    });
  });

  describe('with rollups', () => {
    const rollups = [
      { level: '1m', ms: 60_000, retentionPolicy: 'rollup_1m' },
      { level: '15m', ms: 900_000, retentionPolicy: 'rollup_15m' },
      { level: '1h', ms: 3_600_000, retentionPolicy: 'rollup_1h' },
      { level: '1d', ms: 86_400_000, retentionPolicy: 'rollup_1d' },
    ];

    it('reads whole buckets from the coarsest rollup that divides the resolution and the edges from finer ones', () => {
      const p = plan(
        { start: '2021-05-01T00:00:30Z', end: '2021-05-02T01:00:00Z', resolution: '1h' },
        { rollups },
      );
      assert.deepEqual(
        p.pieces.map((x) => [x.source === 'raw' ? 'raw' : x.source.level, new Date(x.startMs).toISOString()]),
        [
          ['raw', '2021-05-01T00:00:30.000Z'],
          ['1m', '2021-05-01T00:01:00.000Z'],
          ['15m', '2021-05-01T00:15:00.000Z'],
          ['1h', '2021-05-01T01:00:00.000Z'],
          ['raw', '2021-05-02T01:00:00.000Z'],
        ],
      );
      assert.match(
        p.data.query,
        /FROM "rollup_1h"\."grid_frequency_1h" WHERE \("series" = \$series0\) AND time >= \$start3 AND time < \$end3 GROUP BY time\(1h\) fill\(none\)/,
      );
      assert.equal(p.data.params.series0, 'sollfrequenz');
    });

    it('answers 7 min from the 1-minute rollup and 30 s from the raw points only', () => {
      const seven = plan(
        { start: '2021-05-01', end: '2021-05-01T23:59:59.999Z', resolution: '7m' },
        { rollups },
      );
      assert.deepEqual(
        seven.pieces.map((x) => (x.source === 'raw' ? 'raw' : x.source.level)),
        ['1m'],
      );
      const thirty = plan(
        { start: '2021-05-01', end: '2021-05-01T23:59:59.999Z', resolution: '30s' },
        { rollups },
      );
      assert.deepEqual(
        thirty.pieces.map((x) => (x.source === 'raw' ? 'raw' : x.source.level)),
        ['raw'],
      );
    });
  });

  describe('rowsToSeriesPoints', () => {
    it('turns InfluxDB rows with epoch or ISO times into [{time, value}] in UTC', () => {
      assert.deepEqual(
        rowsToSeriesPoints([
          { time: Date.UTC(2021, 4, 1), value: 50 },
          { time: '2021-05-01T00:15:00Z', value: 49.995 },
          { time: new Date(Date.UTC(2021, 4, 1, 0, 30)), mean: 50.01 },
          { time: Date.UTC(2021, 4, 1, 0, 45), value: null },
        ]),
        [
          { time: '2021-05-01T00:00:00.000Z', value: 50 },
          { time: '2021-05-01T00:15:00.000Z', value: 49.995 },
          { time: '2021-05-01T00:30:00.000Z', value: 50.01 },
        ],
      );
    });
  });
});
