import assert from 'node:assert/strict';
import { parseRetention, retentionStatements, setUpRetention } from '../../app/retention';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';

describe('rollup retention policies (app/retention.ts, real InfluxDB)', function () {
  this.timeout(60_000);
  let influx: TestInfluxd;
  before(async () => (influx = await startTestInfluxd('gridflow')));
  after(async () => influx?.dispose());

  const durations = async () =>
    new Map((await influx.query('SHOW RETENTION POLICIES ON gridflow')).map((p) => [p.name, p.duration]));

  it('reads GRIDFLOW_RETENTION and refuses entries it cannot use', () => {
    assert.deepEqual(
      [...parseRetention('raw=30d, 1m=52w,1d=inf').entries()],
      [
        ['raw', '30d'],
        ['1m', '52w'],
        ['1d', 'INF'],
      ],
    );
    assert.deepEqual([...parseRetention(undefined).entries()], []);
    assert.throws(() => parseRetention('5m=1d'), /GRIDFLOW_RETENTION entry "5m=1d"/);
    assert.throws(() => parseRetention('1m=30m'), /whole number of h, d or w/);
    assert.ok(retentionStatements('gridflow', parseRetention('')).every((s) => !s.includes('autogen')));
  });

  it('creates one policy per level, changes durations when run again, and sets raw on the default policy', async () => {
    assert.deepEqual(await setUpRetention(influx.url, 'gridflow', parseRetention('1m=52w')), []);
    let d = await durations();
    assert.equal(d.get('rollup_1m'), '8736h0m0s');
    for (const level of ['15m', '1h', '1d']) assert.equal(d.get(`rollup_${level}`), '0s');
    assert.equal(d.get('autogen'), '0s');

    assert.deepEqual(
      await setUpRetention(influx.url, 'gridflow', parseRetention('raw=30d,1m=INF,1h=100w')),
      [],
    );
    d = await durations();
    assert.equal(d.get('rollup_1m'), '0s');
    assert.equal(d.get('rollup_1h'), '16800h0m0s');
    assert.equal(d.get('autogen'), '720h0m0s');
    const defaults = (await influx.query('SHOW RETENTION POLICIES ON gridflow')).filter((p) => p.default);
    assert.deepEqual(
      defaults.map((p) => p.name),
      ['autogen'],
      'the default policy stays the default',
    );
  });
});
