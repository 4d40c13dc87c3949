import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';
import natsInNode from '../../nodes/nats-in/nats-in';
import turbineStatsNode from '../../nodes/turbine-stats/turbine-stats';
import { PartitionAnomalyStream, type PartitionAnomalyResult } from '../../nodes/core/partition-anomaly';
import { PartitionTurbineStats, type PartitionTurbineResult } from '../../nodes/core/partition-turbine-stats';
import type { TurbinePeriodStats } from '../../nodes/core/turbine-stats';

helper.init(require.resolve('node-red'));

type Loaded = Parameters<typeof helper.load>[1];
type TestNode = ReturnType<typeof helper.getNode> & {
  _inputCallback: (msg: object, send: (out: unknown) => void, done: (err?: Error) => void) => void;
};

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'windmill');
/** Duplicate rows and 300 MW spikes, and blank powers (refused by nats-in: not a number). */
const FILES = [
  join(FIXTURES, 'David-dmh_wind-pipeline_modified', 'data_group_1.csv'),
  join(FIXTURES, 'nichoc93_wind-turbine-data_modified', 'data_group_2.csv'),
];

interface Row {
  timestamp: number;
  turbine_id: number;
  power_output: number;
}

/** The rows whose power is a number, in file order (as devices would publish them, interleaved). */
function numericRows(): Row[] {
  const rows: Row[] = [];
  for (const file of FILES)
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [time, turbine, , , power] = line.split(',');
      if (power.trim() === '' || !Number.isFinite(Number(power))) continue;
      rows.push({
        timestamp: Date.parse(`${time.replace(' ', 'T')}Z`),
        turbine_id: Number(turbine),
        power_output: Number(power),
      });
    }
  return rows;
}

/** Feeds msgs to a node's input handler one by one and collects its first output. */
function feed(node: TestNode, msgs: object[]) {
  const first: Record<string, unknown>[] = [];
  const errors: Error[] = [];
  for (const msg of msgs)
    node._inputCallback(
      msg,
      (out) => {
        const [one] = out as [Record<string, unknown> | null];
        if (one) first.push(one);
      },
      (err) => err && errors.push(err),
    );
  return { first, errors };
}

describe('nats-in turbine-stats and anomaly-stream give the numbers of the nodes themselves', function () {
  this.timeout(60_000);
  afterEach(async () => {
    await helper.unload();
  });

  it('turbine-stats: every turbine-day equals the turbine-stats node fed that turbine’s rows', async () => {
    const rows = numericRows();
    const cleaning = {
      periodSeconds: 86400,
      timezone: 'UTC',
      impute: 'linear',
      minPower: '0',
      maxPower: '10',
    };
    const partition = new PartitionTurbineStats({
      periodSeconds: 86400,
      timeZone: 'UTC',
      impute: 'linear',
      minPower: 0,
      maxPower: 10,
      madThreshold: 6,
    });
    const got: PartitionTurbineResult[] = [];
    rows.forEach((r, i) => {
      const added = partition.add(`wind/${r.turbine_id}`, r.timestamp, r.power_output, i + 1);
      assert.ok(added.ok, added.ok ? '' : added.reason);
      got.push(...added.results);
    });

    await helper.load(turbineStatsNode, [
      {
        id: 'stats',
        type: 'turbine-stats',
        ...cleaning,
        closeOnData: true,
        latenessSeconds: 0,
        wires: [[], []],
      },
    ] as unknown as Loaded);
    const node = helper.getNode('stats') as TestNode;
    const expected: TurbinePeriodStats[] = [];
    for (const turbine of [...new Set(rows.map((r) => r.turbine_id))].sort((a, b) => a - b)) {
      const mine = rows.filter((r) => r.turbine_id === turbine);
      const { first, errors } = feed(node, [{ reset: true }, ...mine.map((row) => ({ payload: row }))]);
      assert.deepEqual(errors, []);
      for (const msg of first) expected.push(...(msg.payload as TurbinePeriodStats[]));
    }

    const byTurbineDay = (s: TurbinePeriodStats) => `${String(s.turbine_id).padStart(3, '0')} ${s.day}`;
    const ours = got.map((r) => ({ ...r.stats, turbine_id: Number(r.key.slice('wind/'.length)) }));
    ours.sort((a, b) => byTurbineDay(a).localeCompare(byTurbineDay(b)));
    expected.sort((a, b) => byTurbineDay(a).localeCompare(byTurbineDay(b)));
    assert.ok(expected.length >= 200, `${expected.length} turbine-days`);
    assert.deepEqual(ours, expected);
    const quality = ours.reduce((n, s) => n + s.quality.duplicates + s.quality.outliers, 0);
    assert.ok(quality > 0, 'the data exercise the cleaning');
  });

  it('anomaly-stream: every score equals the anomaly-flagger in stream mode (event time, lateness 0)', async () => {
    const rows = numericRows();
    // A few readings moved back in time: both refuse them (not scored).
    const samples = rows.map((r, i) => ({
      key: String(r.turbine_id),
      time: i % 97 === 50 ? r.timestamp - 7_200_000 : r.timestamp,
      value: r.power_output,
    }));
    const operator = new PartitionAnomalyStream({ sigmas: 2, windowSize: 24, minCount: 6 });
    const got: PartitionAnomalyResult[] = [];
    let refused = 0;
    samples.forEach((s, i) => {
      const added = operator.add(`wind/${s.key}`, s.time, s.value, i + 1);
      if (added.ok) got.push(...added.results);
      else refused++;
    });

    await helper.load(anomalyFlaggerNode, [
      {
        id: 'flag',
        type: 'anomaly-flagger',
        mode: 'stream',
        sigmas: 2,
        property: 'payload.value',
        keyProperty: 'payload.key',
        windowSize: 24,
        minCount: 6,
        timeProperty: 'time',
        latenessSeconds: 0,
        wires: [[], []],
      },
    ] as unknown as Loaded);
    const node = helper.getNode('flag') as TestNode;
    const { first, errors } = feed(
      node,
      samples.map((s) => ({ payload: { key: s.key, value: s.value }, time: s.time })),
    );
    assert.deepEqual(errors, []);
    const fields = (p: Record<string, unknown>) => [p.key, p.value, p.anomaly, p.z, p.mean, p.stdev, p.count];
    assert.ok(refused > 0 && got.filter((r) => r.anomaly).length > 0, 'late samples and anomalies occur');
    assert.equal(got.length + refused, samples.length);
    assert.deepEqual(
      got.map((r) => fields({ ...r, key: r.key.slice('wind/'.length) })),
      first.map((m) => fields(m.payload as Record<string, unknown>)),
    );
  });
});

describe('nats-in turbine-stats and anomaly-stream settings', function () {
  this.timeout(20_000);
  afterEach(async () => {
    await helper.unload();
  });

  const errorsOf = async (settings: Record<string, unknown>) => {
    await helper.load(natsInNode, [
      { id: 'n', type: 'nats-in', name: '', ...settings, wires: [[], []] },
    ] as unknown as Loaded);
    const node = helper.getNode('n') as unknown as { error: { args: unknown[][] } };
    return node.error.args.map((a) => String(a[0]));
  };

  it('accepts the operators with the nodes’ own setting names; a version-1 save without them gets the defaults', async () => {
    assert.deepEqual(
      await errorsOf({
        operator: 'turbine-stats',
        periodSeconds: 21600,
        timezone: 'Europe/Zurich',
        impute: 'median',
        minPower: '0',
        maxPower: '',
        madThreshold: 0,
      }),
      [],
    );
    await helper.unload();
    assert.deepEqual(
      await errorsOf({ operator: 'anomaly-stream', sigmas: 3, windowSize: 50, minCount: 5 }),
      [],
    );
    await helper.unload();
    assert.deepEqual(await errorsOf({ version: 1, operator: 'turbine-stats' }), []);
  });

  for (const [bad, named] of [
    [{ operator: 'turbine-stats', periodSeconds: 7000 }, /periodSeconds 7000 must divide a day/],
    [{ operator: 'turbine-stats', impute: 'spline' }, /impute "spline" must be linear, median, none/],
    [{ operator: 'turbine-stats', minPower: 5, maxPower: 1 }, /minPower 5 is above maxPower 1/],
    [{ operator: 'turbine-stats', maxPower: 'rated' }, /maxPower/],
    [
      { operator: 'anomaly-stream', minCount: 50, windowSize: 20 },
      /minCount = "50" must be an integer ≥ 2 ≤ 20/,
    ],
    [{ operator: 'anomaly-stream', sigmas: 0 }, /sigmas/],
  ] as const) {
    it(`reports ${JSON.stringify(bad)} as bad config`, async () => {
      const errors = await errorsOf(bad);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /invalid configuration/);
      assert.match(errors[0], named);
    });
  }
});
