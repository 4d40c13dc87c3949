import assert from 'node:assert/strict';
import { startTestInfluxd, type TestInfluxd } from './influxd';

describe('test harness: private influxd', function () {
  this.timeout(60_000);
  let influx: TestInfluxd;
  before(async () => {
    influx = await startTestInfluxd();
  });
  after(async () => influx?.dispose());

  it('starts a real InfluxDB that stores and returns a point, and survives a restart', async () => {
    const res = await fetch(`${influx.url}/write?db=gridflow&precision=ms`, {
      method: 'POST',
      body: 'harness,k=v value=1.5 1700000000000',
    });
    assert.equal(res.status, 204);
    await influx.stop();
    assert.equal(influx.running, false);
    await influx.restart();
    const rows = await influx.query('SELECT value FROM harness');
    assert.deepEqual(rows, [{ time: 1700000000000, value: 1.5 }]);
  });
});
