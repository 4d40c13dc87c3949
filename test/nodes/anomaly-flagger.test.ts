import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import csvSourceNode from '../../nodes/csv-source/csv-source';
import turbineStatsNode from '../../nodes/turbine-stats/turbine-stats';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';
import { eventually } from '../harness/eventually';
import type { Msg } from '../../nodes/shared/node-red-types';
import { ANOMALY_FLAGGER_MIGRATIONS } from '../../nodes/anomaly-flagger/migrations';
import { currentVersion, migrateConfig } from '../../nodes/shared/config-migrations';

helper.init(require.resolve('node-red'));

/** Test flows as the helper takes them (node-specific properties included). */
const flowOf = (items: object[]) => items as Parameters<typeof helper.load>[1];
type Loose = { on(event: string, fn: (call: { args: unknown[] }) => void): void };

const ROOT = join(__dirname, '..', '..', '..');
const ANOMALOUS = join(
  ROOT,
  'test',
  'fixtures',
  'windmill',
  'will-wright113_colibri-coding-challenge_testfixtures',
  'anomalous_data.csv',
);

type Member = {
  turbine_id: number;
  value: number;
  mean: number;
  anomaly: boolean;
  z: number | null;
  stdev: number | null;
};
type Spy = { lastCall?: { args: { text?: string }[] } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function flagger(config: Record<string, unknown>) {
  return [
    {
      id: 'flag',
      type: 'anomaly-flagger',
      mode: 'fleet',
      sigmas: 2,
      version: 1,
      property: 'payload.mean',
      keyProperty: 'payload.turbine_id',
      windowSize: 100,
      minCount: 10,
      wires: [['all'], ['anomalies']],
      ...config,
    },
    { id: 'all', type: 'helper' },
    { id: 'anomalies', type: 'helper' },
  ];
}

function collect(id: string): Msg[] {
  const out: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => out.push(m));
  return out;
}

/** Plain recomputation of the fleet z-scores of one day's means. */
function naiveFleet(means: number[]): number[] {
  const mean = means.reduce((a, b) => a + b, 0) / means.length;
  const sd = Math.sqrt(means.reduce((a, v) => a + (v - mean) ** 2, 0) / (means.length - 1));
  return means.map((v) => (v - mean) / sd);
}

describe('anomaly-flagger node', function () {
  this.timeout(20000);
  afterEach(() => helper.unload());

  /**
   * csv-source → turbine-stats → (each day's stats mapped to members {turbine_id, day, value})
   * → anomaly-flagger, as the Wind fleet tab does: the flagger adds the batch's mean and
   * stdev to each member, so the turbine's own mean travels as `value`.
   */
  async function fleetDays(
    filename: string,
    days: number,
    bounds = { minPower: '0', maxPower: '10' },
  ): Promise<{ all: Msg[]; anomalies: Msg[] }> {
    await helper.load(
      [csvSourceNode, turbineStatsNode, anomalyFlaggerNode],
      flowOf([
        { id: 'src', type: 'csv-source', timeColumn: 'timestamp', wires: [['stats'], ['done']] },
        { id: 'done', type: 'helper' },
        { id: 'stats', type: 'turbine-stats', closeOnData: false, ...bounds, wires: [['daily'], []] },
        { id: 'daily', type: 'helper' },
        ...flagger({ property: 'payload.value' }),
      ]),
    );
    const all = collect('all');
    const anomalies = collect('anomalies');
    helper.getNode('daily').on('input', (m: Msg) => {
      const members = (m.payload as { turbine_id: number; day: string; mean: number }[]).map((s) => ({
        turbine_id: s.turbine_id,
        day: s.day,
        value: s.mean,
      }));
      helper.getNode('flag').receive({ topic: m.topic, payload: members });
    });
    // Done when the flush's last day came out of the flagger (not after a fixed delay, which
    // a loaded machine overruns); setImmediate lets that day's anomalies output arrive too.
    let flushed = false;
    const finished = new Promise<void>((resolve) => {
      const check = () => flushed && all.length >= days && setImmediate(resolve);
      helper.getNode('all').on('input', check);
      helper.getNode('done').on('input', (m: Msg) => {
        if (m.topic !== 'run') return;
        flushed = true;
        helper.getNode('stats').receive({ flush: true });
      });
    });
    helper.getNode('src').receive({ filename });
    await finished;
    return { all, anomalies };
  }

  it('flags, day by day, the turbines whose daily mean is more than 2 σ from the fleet (real files)', async () => {
    const { all, anomalies } = await fleetDays(join(ROOT, 'data', 'windmill'), 31);
    assert.equal(all.length, 31);
    let flagged = 0;
    for (const msg of all) {
      const day = msg.payload as Member[];
      assert.equal(day.length, 15);
      const z = naiveFleet(day.map((m) => m.value));
      day.forEach((m, i) => {
        assert.ok(Math.abs((m.z as number) - z[i]) < 1e-9);
        assert.equal(m.anomaly, Math.abs(z[i]) > 2);
      });
      flagged += day.filter((m) => m.anomaly).length;
      assert.deepEqual(msg.fleet, { mean: day[0].mean, stdev: day[0].stdev, count: 15 });
    }
    assert.equal(
      anomalies.reduce((n, m) => n + (m.payload as unknown[]).length, 0),
      flagged,
    );
    assert.ok(anomalies.every((m) => (m.payload as Member[]).every((x) => x.anomaly)));
    assert.ok(flagged > 0, 'a month of 15 turbines has days with a turbine beyond 2 σ');
    const status = helper.getNode('flag').status as unknown as Spy;
    assert.equal(status.lastCall?.args[0].text, `${flagged} of 465 flagged`);
  });

  it('gives z = ±1/√2 and no anomaly for the two turbines of anomalous_data.csv', async () => {
    const { all, anomalies } = await fleetDays(ANOMALOUS, 1, { minPower: '', maxPower: '' });
    const day = all[0].payload as Member[];
    assert.deepEqual(
      day.map((m) => [m.turbine_id, m.value, m.anomaly, m.mean]),
      [
        [1, 13.1, false, 6.555],
        [2, 0.01, false, 6.555],
      ],
    );
    assert.ok(Math.abs((day[0].z as number) - Math.SQRT1_2) < 1e-12);
    assert.equal(anomalies.length, 0);
  });

  it('stream mode: flags a spike against the earlier values of its own key, after minCount', async () => {
    await helper.load(
      anomalyFlaggerNode,
      flagger({
        mode: 'stream',
        property: 'payload.value',
        keyProperty: 'topic',
        minCount: 5,
        windowSize: 20,
      }),
    );
    const all = collect('all');
    const anomalies = collect('anomalies');
    const node = helper.getNode('flag');
    for (const v of [50, 50.01, 49.99, 50, 50.02]) node.receive({ topic: 'ch', payload: { value: v } });
    node.receive({ topic: 'other', payload: { value: 10 } });
    node.receive({ topic: 'ch', payload: { value: 49.5 } });
    await eventually('7 msgs out', 10_000, async () => (all.length >= 7 ? true : undefined), 5);
    assert.equal(all.length, 7);
    assert.equal((all[0].payload as { z: unknown }).z, null, 'no judgement before minCount');
    assert.equal((all[5].payload as { z: unknown; count: number }).count, 0);
    const spike = all[6].payload as { anomaly: boolean; z: number; count: number; mean: number };
    assert.equal(spike.anomaly, true);
    assert.equal(spike.count, 5);
    assert.ok(Math.abs(spike.mean - 50.004) < 1e-9);
    assert.equal(anomalies.length, 1);
    assert.equal((anomalies[0].payload as { value: number }).value, 49.5);
  });

  it('stream mode adds the flags to msg when the value is msg.payload itself', async () => {
    await helper.load(
      anomalyFlaggerNode,
      flagger({ mode: 'stream', property: 'payload', keyProperty: '', minCount: 2, windowSize: 5 }),
    );
    const all = collect('all');
    const node = helper.getNode('flag');
    for (const v of [1, 2, 1, 2, 40]) node.receive({ payload: v });
    await eventually('5 msgs out', 10_000, async () => (all.length >= 5 ? true : undefined), 5);
    assert.equal(all[4].anomaly, true);
    assert.equal(all[4].payload, 40);
  });

  it('reports a value that is not a number with done(err), and keeps going', async () => {
    await helper.load(
      anomalyFlaggerNode,
      flagger({ mode: 'stream', property: 'payload.value', keyProperty: 'topic', minCount: 2 }),
    );
    const node = helper.getNode('flag');
    const errored = new Promise<unknown[]>((resolve) =>
      (node as unknown as Loose).on('call:error', (call: { args: unknown[] }) => resolve(call.args)),
    );
    const all = collect('all');
    node.receive({ payload: { value: '12,5' } });
    node.receive({ payload: { value: 12.5 } });
    assert.match(String((await errored)[0]), /decimal comma/);
    await sleep(30);
    assert.equal(all.length, 1);
  });

  it('fleet mode needs an array', async () => {
    await helper.load(anomalyFlaggerNode, flagger({}));
    const node = helper.getNode('flag');
    const errored = new Promise<unknown[]>((resolve) =>
      (node as unknown as Loose).on('call:error', (call: { args: unknown[] }) => resolve(call.args)),
    );
    node.receive({ payload: { mean: 1 } });
    assert.match(String((await errored)[0]), /array of members/);
  });

  it('reads the threshold of flows saved with the old name k as sigmas', async () => {
    const [today, ...helpers] = flagger({}) as Record<string, unknown>[];
    const savedBeforeVersions = { ...today };
    delete savedBeforeVersions.sigmas;
    delete savedBeforeVersions.version;
    await helper.load(anomalyFlaggerNode, flowOf([{ ...savedBeforeVersions, k: 0.5 }, ...helpers]));
    const anomalies = collect('anomalies');
    const node = helper.getNode('flag');
    // z of 10 in [1, 1, 1, 10] is 1.5: an anomaly at 0.5 sigmas, not at the default 2
    node.receive({ payload: [1, 1, 1, 10].map((mean, turbine_id) => ({ turbine_id, mean })) });
    await sleep(30);
    assert.equal(anomalies.length, 1);
    assert.equal((anomalies[0].payload as Member[])[0].turbine_id, 3);
  });

  it('reports every bad setting at once, and fails each msg with that error', async () => {
    await helper.load(anomalyFlaggerNode, flagger({ sigmas: 'two', windowSize: 1, minCount: 'x' }));
    const node = helper.getNode('flag');
    const errors: unknown[] = [];
    (node as unknown as Loose).on('call:error', (call: { args: unknown[] }) => errors.push(call.args[0]));
    node.receive({ payload: [] });
    node.receive({ payload: [] });
    await eventually('an error per msg', 10_000, async () => (errors.length >= 3 ? true : undefined), 10);
    const message = String(errors[errors.length - 1]);
    assert.match(message, /setting sigmas = "two" must be a number/);
    assert.match(message, /setting windowSize = "1" must be an integer ≥ 2/);
    assert.match(message, /setting minCount = "x" must be an integer/);
    assert.equal(
      errors.filter((e) => /setting sigmas/.test(String(e))).length,
      3,
      'logged once, then each msg',
    );
  });
});

describe('anomaly-flagger config migrations', () => {
  it("lifts a flow saved before versions (k) to today's shape", () => {
    const saved = {
      id: 'a1',
      type: 'anomaly-flagger',
      z: 'tab',
      name: '',
      mode: 'stream',
      k: 3,
      property: 'payload.value',
      keyProperty: 'payload.key',
      windowSize: 100,
      minCount: 10,
    };
    assert.deepEqual(migrateConfig(saved, ANOMALY_FLAGGER_MIGRATIONS), {
      id: 'a1',
      type: 'anomaly-flagger',
      z: 'tab',
      name: '',
      mode: 'stream',
      sigmas: 3,
      property: 'payload.value',
      keyProperty: 'payload.key',
      windowSize: 100,
      minCount: 10,
      version: 1,
    });
  });

  it('leaves a config at the current version as it is, and keeps sigmas over a stray k', () => {
    assert.equal(currentVersion(ANOMALY_FLAGGER_MIGRATIONS), 1);
    const today = { mode: 'fleet', sigmas: 2.5, version: 1 };
    assert.deepEqual(migrateConfig(today, ANOMALY_FLAGGER_MIGRATIONS), today);
    assert.deepEqual(migrateConfig({ sigmas: 2.5, k: 9 }, ANOMALY_FLAGGER_MIGRATIONS), {
      sigmas: 2.5,
      version: 1,
    });
  });

  it('ships every anomaly-flagger of flows/ at the current version, with sigmas', () => {
    const flowsDir = join(ROOT, 'flows');
    const flaggers = readdirSync(flowsDir)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => JSON.parse(readFileSync(join(flowsDir, f), 'utf8')) as Record<string, unknown>[])
      .filter((n) => n.type === 'anomaly-flagger');
    assert.ok(flaggers.length > 0);
    for (const n of flaggers) {
      assert.equal(n.version, currentVersion(ANOMALY_FLAGGER_MIGRATIONS), String(n.id));
      assert.equal(typeof n.sigmas, 'number', String(n.id));
      assert.equal('k' in n, false, String(n.id));
    }
  });
});
