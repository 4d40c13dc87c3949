import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import forecasterNode from '../../nodes/forecaster/forecaster';
import * as nodeState from '../../nodes/shared/node-state';

helper.init(require.resolve('node-red'));

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
/** A season of 4 steps: 10, 12, 10, 8, ... */
const wave = (i: number) => 10 + 2 * Math.sin((Math.PI / 2) * i);

type Payload = Record<string, unknown>;
type NodeMsg = { topic?: string; payload: Payload; filled?: number };
type TestNode = ReturnType<typeof helper.getNode> & {
  _inputCallback: (msg: object, send: (out: unknown) => void, done: (err?: Error) => void) => void;
  status: sinon.SinonSpy;
};

function flow(extra: Record<string, unknown> = {}) {
  return [
    {
      id: 'f1',
      type: 'forecaster',
      name: '',
      model: 'holt-winters',
      stepSeconds: 3600,
      season: 4,
      historySteps: 8,
      lags: [0, 1, 4],
      alphas: [0.3],
      accuracyWindow: 24,
      retrainAt: '',
      timezone: 'UTC',
      property: 'payload',
      timeProperty: 'timestamp',
      keyProperty: 'topic',
      wires: [['h1'], ['h2']],
      ...extra,
    },
    { id: 'h1', type: 'helper' },
    { id: 'h2', type: 'helper' },
  ];
}

/**
 * Calls the node's input handler directly, as the runtime would, and returns what it
 * sent and how `done` was called (so a test can see that done ran exactly once).
 */
function drive(node: TestNode, msg: object) {
  const sent: [NodeMsg | null, NodeMsg | null][] = [];
  const done = sinon.spy();
  node._inputCallback(msg, (out) => sent.push(out as [NodeMsg | null, NodeMsg | null]), done);
  assert.equal(done.callCount, 1, 'done is called exactly once');
  return { sent, done, forecast: sent[0]?.[0] ?? null, accuracy: sent[0]?.[1] ?? null };
}

const sample = (i: number, value = wave(i), topic = 'seattle') => ({
  topic,
  payload: value,
  timestamp: T0 + i * H,
});

async function load(extra: Record<string, unknown> = {}): Promise<TestNode> {
  await helper.load(forecasterNode, flow(extra));
  return helper.getNode('f1') as TestNode;
}

/** The helper wraps every node's `status` in a spy. */
/**
 * Simulates a restart: the state the running node last saved in its context store is
 * what the next instance finds there (the helper's memory store does not survive a
 * reload, so the saved value is handed over through `loadState`).
 */
async function restart(node: TestNode, extra: Record<string, unknown>): Promise<TestNode> {
  const saved = JSON.parse(JSON.stringify(node.context().get('state')));
  await helper.unload();
  sinon.stub(nodeState, 'loadState').returns(saved);
  return load(extra);
}

const lastStatusText = (n: TestNode) => (n.status.lastCall?.args[0] as { text?: string } | undefined)?.text;

/** A helper node's msgs, as a list that fills as they arrive. */
function received(id: string): NodeMsg[] {
  const list: NodeMsg[] = [];
  (helper.getNode(id) as unknown as { on(e: 'input', f: (m: NodeMsg) => void): void }).on('input', (m) =>
    list.push(m),
  );
  return list;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(check(), 'expected msgs did not arrive');
}

describe('forecaster node', () => {
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
  });

  it('sends {time, target_time, value, model} for the next step through output 1', async () => {
    await helper.load(forecasterNode, flow());
    const n = helper.getNode('f1');
    const forecasts = received('h1');
    n.receive(sample(0, 11.5));
    await until(() => forecasts.length === 1);
    const msg = forecasts[0];
    assert.equal(msg.topic, 'seattle');
    assert.deepEqual(msg.payload, {
      time: '2024-01-01T00:00:00.000Z',
      target_time: '2024-01-01T01:00:00.000Z',
      value: 11.5,
      model: 'persistence',
    });
    assert.equal(msg.filled, 0);
  });

  it('forecasts persistence until the model has enough history, says so in status, then uses the model', async () => {
    const n = await load();
    for (let i = 0; i < 7; i++) {
      const { forecast } = drive(n, sample(i));
      assert.equal(forecast?.payload.model, 'persistence');
      assert.equal(forecast?.payload.value, wave(i));
      assert.equal(lastStatusText(n), `persist ${i + 1}/8`);
    }
    const { forecast } = drive(n, sample(7));
    assert.equal(forecast?.payload.model, 'holt-winters');
    assert.ok(Math.abs((forecast?.payload.value as number) - wave(8)) < 1e-9);
    assert.equal(forecast?.payload.target_time, new Date(T0 + 8 * H).toISOString());
    assert.match(lastStatusText(n) as string, /^HW → 08:00$/);
  });

  it('sends the error and rolling MAE, RMSE and skill on output 2 when the actual arrives', async () => {
    await helper.load(forecasterNode, flow({ model: 'persistence' }));
    const n = helper.getNode('f1');
    const forecasts = received('h1');
    const accuracy = received('h2');
    n.receive(sample(0, 10));
    n.receive(sample(1, 13));
    n.receive(sample(2, 12));
    await until(() => forecasts.length === 3 && accuracy.length === 2);
    assert.deepEqual(accuracy[0].payload, {
      time: '2024-01-01T01:00:00.000Z',
      target_time: '2024-01-01T01:00:00.000Z',
      forecast: 10,
      actual: 13,
      error: 3,
      abs_error: 3,
      mae: 3,
      rmse: 3,
      skill: 0,
      n: 1,
      model: 'persistence',
    });
    assert.equal(accuracy[1].payload.error, -1);
    assert.equal(accuracy[1].payload.mae, 2);
    assert.ok(Math.abs((accuracy[1].payload.rmse as number) - Math.sqrt(5)) < 1e-12);
    assert.equal(accuracy[1].payload.n, 2);
  });

  it('scores a trained model with positive skill against persistence', async () => {
    const n = await load();
    let last: NodeMsg | null = null;
    for (let i = 0; i < 30; i++) last = drive(n, sample(i)).accuracy ?? last;
    assert.ok(last);
    assert.equal(last.payload.n, 24);
    assert.ok((last.payload.skill as number) > 0.5, `skill ${last.payload.skill}`);
  });

  it('fills missing steps with the last value, counts them, and scores no forecast across the gap', async () => {
    const n = await load({ model: 'persistence' });
    drive(n, sample(0, 5));
    const { forecast, accuracy } = drive(n, sample(3, 8));
    assert.equal(forecast?.filled, 2);
    assert.equal(forecast?.payload.time, new Date(T0 + 3 * H).toISOString());
    assert.equal(accuracy, null);
    assert.equal(lastStatusText(n), 'filled 2 → 04:00');
    const state = n.context().get('state') as {
      keys: Record<string, { series: { values: number[]; filledTotal: number } }>;
    };
    assert.deepEqual(state.keys.seattle.series.values, [5, 5, 5, 8]);
    assert.equal(state.keys.seattle.series.filledTotal, 2);
  });

  it('drops a second value for a step already forecast from', async () => {
    const n = await load();
    drive(n, sample(0, 5));
    const again = drive(n, { ...sample(0, 6), timestamp: T0 + 60_000 });
    assert.equal(again.sent.length, 0);
    assert.match(lastStatusText(n) as string, /^old step 00:00/);
  });

  it('keeps each key apart', async () => {
    const n = await load({ model: 'persistence' });
    drive(n, sample(0, 1, 'a'));
    drive(n, sample(0, 100, 'b'));
    const a = drive(n, sample(1, 2, 'a'));
    const b = drive(n, sample(1, 200, 'b'));
    assert.equal(a.accuracy?.payload.forecast, 1);
    assert.equal(b.accuracy?.payload.forecast, 100);
    assert.equal(b.forecast?.topic, 'b');
  });

  it('restores history, model, pending forecast and accuracy after a restart', async () => {
    let n = await load();
    for (let i = 0; i < 10; i++) drive(n, sample(i));
    const before = drive(n, sample(10));
    assert.equal(before.forecast?.payload.model, 'holt-winters');
    n = await restart(n, { name: 'restarted' });
    assert.equal(n.name, 'restarted');
    const after = drive(n, sample(11));
    assert.equal(after.accuracy?.payload.forecast, before.forecast?.payload.value);
    assert.equal(after.accuracy?.payload.n, (before.accuracy?.payload.n as number) + 1);
    assert.equal(after.forecast?.payload.model, 'holt-winters');
    assert.ok(Math.abs((after.forecast?.payload.value as number) - wave(12)) < 1e-9);
  });

  it('refits on the history when the saved model was built with other settings', async () => {
    let n = await load();
    for (let i = 0; i < 10; i++) drive(n, sample(i));
    n = await restart(n, { model: 'seasonal-naive' });
    const after = drive(n, sample(10));
    assert.equal(after.forecast?.payload.model, 'seasonal-naive');
    assert.equal(after.forecast?.payload.value, wave(11 - 4));
  });

  it('rejects bad input with done(err) and keeps forecasting good msgs', async () => {
    const n = await load();
    drive(n, sample(0, 1));
    const notNumber = drive(n, { ...sample(1), payload: '12,5' });
    assert.match(String(notNumber.done.firstCall.args[0]), /not a number \(decimal comma/);
    assert.equal(notNumber.sent.length, 0);
    const noTime = drive(n, { topic: 'seattle', payload: 3 });
    assert.match(String(noTime.done.firstCall.args[0]), /msg\.timestamp is missing/);
    const badKey = drive(n, { ...sample(1), topic: { a: 1 } });
    assert.match(String(badKey.done.firstCall.args[0]), /key/);
    assert.equal(lastStatusText(n), 'bad input');
    const good = drive(n, sample(1, 2));
    assert.equal(good.done.firstCall.args.length, 0);
    assert.equal(good.accuracy?.payload.actual, 2);
  });

  it('reaches a Catch node when the input is bad', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const catchNode = require('@node-red/nodes/core/common/25-catch.js');
    const catchFlow = [
      ...flow(),
      { id: 'c1', type: 'catch', scope: null, uncaught: false, wires: [['h3']] },
      { id: 'h3', type: 'helper' },
    ];
    await helper.load([forecasterNode, catchNode], catchFlow as Parameters<typeof helper.load>[1]);
    const caught = received('h3') as unknown as { error: { message: string } }[];
    helper.getNode('f1').receive({ topic: 'x', payload: 'warm', timestamp: T0 } as never);
    await until(() => caught.length === 1);
    assert.match(caught[0].error.message, /"warm" is not a number/);
  });

  it('uses arrival time when Time is blank', async () => {
    const clock = sinon.useFakeTimers({ now: T0 + 2 * H + 5000, toFake: ['Date'] });
    try {
      const n = await load({ timeProperty: '' });
      const { forecast } = drive(n, { topic: 'x', payload: 4 });
      assert.equal(forecast?.payload.time, new Date(T0 + 2 * H).toISOString());
    } finally {
      clock.restore();
    }
  });

  it('retrains on msg.retrain and forgets everything on msg.reset', async () => {
    const n = await load();
    for (let i = 0; i < 9; i++) drive(n, sample(i));
    const trainedAt = () =>
      (n.context().get('state') as { keys: Record<string, { trainedAtStep: number | null }> }).keys.seattle
        ?.trainedAtStep;
    assert.equal(trainedAt(), T0 / H + 7);
    const retrain = drive(n, { retrain: true, topic: 'seattle' });
    assert.equal(retrain.sent.length, 0);
    assert.equal(trainedAt(), T0 / H + 8);
    assert.equal(lastStatusText(n), 'retrained 1');
    drive(n, { reset: true });
    assert.equal(trainedAt(), undefined);
    const fresh = drive(n, sample(9));
    assert.equal(fresh.forecast?.payload.model, 'persistence');
    assert.equal(fresh.accuracy, null);
  });

  it('retrains daily when the data clock passes retrainAt in the zone, not the wall clock', async () => {
    const n = await load({ retrainAt: '00:15', timezone: 'Europe/Copenhagen' });
    const trainedAt = () =>
      (n.context().get('state') as { keys: Record<string, { trainedAtStep: number }> }).keys.seattle
        .trainedAtStep;
    for (let i = 0; i < 9; i++) drive(n, sample(i)); // first fit at the 8th step (07:00 UTC)
    assert.equal(trainedAt(), T0 / H + 7);
    for (let i = 9; i <= 23; i++) drive(n, sample(i)); // 23:00 UTC = 00:00 in Copenhagen
    assert.equal(trainedAt(), T0 / H + 7);
    drive(n, sample(24)); // 00:00 UTC = 01:00 Copenhagen: the first step at or after 00:15
    assert.equal(trainedAt(), T0 / H + 24);
    for (let i = 25; i < 48; i++) drive(n, sample(i));
    assert.equal(trainedAt(), T0 / H + 24);
    drive(n, sample(48));
    assert.equal(trainedAt(), T0 / H + 48);
  });

  it('refuses a history too short for the model, with a clear error on every input', async () => {
    const n = await load({ model: 'holt-winters', season: 24, historySteps: 20 });
    const r = drive(n, sample(0));
    assert.match(
      String(r.done.firstCall.args[0]),
      /historySteps 20 is less than holt-winters needs \(48 steps\)/,
    );
    assert.equal(lastStatusText(n), 'bad config');
  });

  it('accepts lags and alphas typed as text', async () => {
    const n = await load({ model: 'ridge', lags: '0, 1, 4', alphas: '0.5', historySteps: 40 });
    let last: NodeMsg | null = null;
    for (let i = 0; i < 40; i++) last = drive(n, sample(i)).forecast;
    assert.equal(last?.payload.model, 'ridge');
    assert.ok(Math.abs((last?.payload.value as number) - wave(40)) < 0.01, `forecast ${last?.payload.value}`);
  });
});
