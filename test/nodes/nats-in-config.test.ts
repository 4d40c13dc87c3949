import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import natsInNode from '../../nodes/nats-in/nats-in';

helper.init(require.resolve('node-red'));

type Spied = { error: { args: unknown[][] }; status: { args: unknown[][] } };

/** The operator settings are checked when the node starts, before any connection. */
describe('nats-in operator settings', function () {
  this.timeout(20_000);
  afterEach(async () => {
    await helper.unload();
  });

  const errorsOf = async (settings: Record<string, unknown>) => {
    await helper.load(natsInNode, [{ id: 'n', type: 'nats-in', name: '', ...settings, wires: [[], []] }]);
    const node = helper.getNode('n') as unknown as Spied;
    return { errors: node.error.args.map((a) => String(a[0])), statuses: node.status.args.map((a) => a[0]) };
  };

  it('accepts cov-resample with bucket, method and time zone (off without servers)', async () => {
    const { errors, statuses } = await errorsOf({
      operator: 'cov-resample',
      bucketSeconds: 900,
      method: 'linear',
      timezone: 'Europe/Zurich',
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(statuses.at(-1), { fill: 'grey', shape: 'ring', text: 'off: no servers' });
  });

  it('accepts forecaster with the forecaster node’s settings; version-1 saves without them get its defaults', async () => {
    for (const settings of [
      {
        operator: 'forecaster',
        model: 'ridge',
        stepSeconds: 900,
        lags: '0,1,4',
        historySteps: 96,
        retrainAt: '',
      },
      { operator: 'forecaster' },
    ]) {
      const { errors, statuses } = await errorsOf(settings);
      assert.deepEqual(errors, []);
      assert.deepEqual(statuses.at(-1), { fill: 'grey', shape: 'ring', text: 'off: no servers' });
      await helper.unload();
    }
  });

  for (const [bad, named] of [
    [{ operator: 'rolling' }, /operator "rolling" must be moving-window or cov-resample/],
    [{ operator: 'cov-resample', method: 'spline' }, /method "spline" must be locf or linear/],
    [{ operator: 'cov-resample', timezone: 'Mars/Base' }, /Mars\/Base/],
    [{ operator: 'cov-resample', bucketSeconds: 'half' }, /bucketSeconds/],
    [{ operator: 'forecaster', model: 'arima' }, /model "arima" must be one of/],
    [
      { operator: 'forecaster', historySteps: 10 },
      /historySteps 10 is less than holt-winters needs \(48 steps\)/,
    ],
    [{ operator: 'forecaster', retrainAt: '25:00' }, /retrain time "25:00" must be HH:MM/],
    [{ operator: 'forecaster', latenessSeconds: -1 }, /latenessSeconds/],
  ] as const) {
    it(`reports ${JSON.stringify(bad)} as bad config`, async () => {
      const { errors } = await errorsOf(bad);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /invalid configuration/);
      assert.match(errors[0], named);
    });
  }
});
