import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import sinon from 'sinon';
import forecasterNode from '../../nodes/forecaster/forecaster';
import { parseIsoTime } from '../../nodes/core/timestamp';

helper.init(require.resolve('node-red'));

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2024, 2, 1);

type Payload = Record<string, unknown>;
type NodeMsg = { topic?: string; payload: Payload };
type Port = NodeMsg | NodeMsg[] | null;
type TestNode = ReturnType<typeof helper.getNode> & {
  _inputCallback: (msg: object, send: (out: unknown) => void, done: (err?: Error) => void) => void;
};
interface Sample {
  timeMs: number;
  value: number;
}

/** Small seeded generator (mulberry32), so the series is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hourly temperatures: a daily cycle of ±6 °C, a random-walk drift and 0.3 °C noise. */
function generatedSeries(days: number, seed = 1): Sample[] {
  const next = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  let drift = 0;
  return Array.from({ length: days * 24 }, (_, i) => {
    drift += 0.05 * gauss();
    return {
      timeMs: T0 + i * H,
      value: 12 + 6 * Math.sin((2 * Math.PI * (i - 9)) / 24) + drift + 0.3 * gauss(),
    };
  });
}

function seattleSeries(days: number): Sample[] {
  const file = join(
    __dirname,
    '..',
    '..',
    '..',
    'test',
    'fixtures',
    'weather',
    'seattle-weather-hourly-normals.csv',
  );
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const columns = header.split(',');
  return lines.slice(0, days * 24).map((line) => {
    const cells = line.split(',');
    return {
      timeMs: parseIsoTime(cells[columns.indexOf('date')]) as number,
      value: Number(cells[columns.indexOf('temperature')]),
    };
  });
}

async function load(extra: Record<string, unknown> = {}): Promise<TestNode> {
  const flow = [
    {
      id: 'f1',
      type: 'forecaster',
      model: 'holt-winters',
      stepSeconds: 3600,
      season: 24,
      historySteps: 120,
      accuracyWindow: 10_000,
      retrainAt: '00:15',
      timezone: 'UTC',
      property: 'payload',
      timeProperty: 'timestamp',
      keyProperty: 'topic',
      wires: [[], []],
      ...extra,
    },
  ];
  await helper.load(forecasterNode, flow);
  return helper.getNode('f1') as TestNode;
}

const asList = (port: Port): NodeMsg[] => (port === null ? [] : Array.isArray(port) ? port : [port]);

/** Feeds msgs to the node's input handler as the runtime would; returns everything sent, per port. */
function feed(node: TestNode, msgs: object[], beforeEach?: (msg: object) => void) {
  const forecasts: Payload[] = [];
  const accuracy: Payload[] = [];
  const errors: Error[] = [];
  for (const msg of msgs) {
    beforeEach?.(msg);
    node._inputCallback(
      msg,
      (out) => {
        const [first, second] = out as [Port, Port];
        for (const m of asList(first)) forecasts.push(m.payload);
        for (const m of asList(second)) accuracy.push(m.payload);
      },
      (err) => {
        if (err) errors.push(err);
      },
    );
  }
  return { forecasts, accuracy, errors };
}

/** Shuffles each run of `block` consecutive items (Fisher–Yates within the block). */
function shuffleWithin<T>(items: T[], block: number, next: () => number): T[] {
  const out = [...items];
  for (let start = 0; start < out.length; start += block) {
    const end = Math.min(start + block, out.length);
    for (let i = end - 1; i > start; i--) {
      const j = start + Math.floor(next() * (i - start + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
  }
  return out;
}

const sampleMsg = (s: Sample) => ({ topic: 'temp', payload: s.value, timestamp: s.timeMs });

/** RMSE of the forecasts scored on output 2 from `fromMs` on, over that of persistence. */
function rmseRatio(series: Sample[], accuracy: Payload[], fromMs: number): number {
  const scored = accuracy.filter((a) => Date.parse(a.target_time as string) >= fromMs);
  const model = scored.reduce((sum, a) => sum + (a.error as number) ** 2, 0);
  let persistence = 0;
  for (let i = 1; i < series.length; i++)
    if (series[i].timeMs >= fromMs) persistence += (series[i].value - series[i - 1].value) ** 2;
  assert.equal(scored.length, series.filter((s) => s.timeMs >= fromMs).length, 'every step scored');
  return Math.sqrt(model / persistence);
}

describe('forecaster in event time', () => {
  afterEach(async () => {
    sinon.restore();
    await helper.unload();
  });

  for (const [name, series] of [
    ['a generated 40-day series (daily cycle, drift, noise)', generatedSeries(40)],
    ['40 days of the bundled Seattle hourly normals', seattleSeries(40)],
  ] as const) {
    for (const model of ['holt-winters', 'ridge']) {
      it(`${model} replayed at full speed over ${name} beats persistence: RMSE ≤ 0.8× over the last 20 days`, async () => {
        const node = await load({ model });
        const { accuracy, errors } = feed(node, series.map(sampleMsg));
        assert.deepEqual(errors, []);
        const ratio = rmseRatio(series, accuracy, series[series.length - 1].timeMs - 20 * DAY + H);
        console.log(`      ${model}: RMSE ${ratio.toFixed(3)}× persistence`);
        assert.ok(ratio <= 0.8, `RMSE ratio ${ratio}`);
        const state = node.context().get('state') as { keys: Record<string, { trainedAtStep: number }> };
        // Retrained in data time: the last refit is the last day's 01:00 step (first after 00:15).
        const lastOneOClock = Math.max(...series.filter((s) => s.timeMs % DAY === H).map((s) => s.timeMs));
        assert.equal(state.keys.temp.trainedAtStep * H, lastOneOClock);
      });
    }
  }

  describe('gives identical forecasts live, replayed and shuffled within the lateness', () => {
    const series = generatedSeries(8, 7);
    const settings = { model: 'ridge', historySteps: 72, latenessSeconds: 7200, idleSeconds: 4 * 3600 };
    const flush = { flush: true, topic: 'temp' };

    const replay = async (msgs: object[]) => {
      const node = await load(settings);
      const out = feed(node, [...msgs, flush]);
      await helper.unload();
      return out;
    };

    it('live under fake timers, as a fast replay, and shuffled within 2 h', async () => {
      const clock = sinon.useFakeTimers({ now: T0 - 1000 });
      const node = await load(settings);
      const live = feed(node, [...series.map(sampleMsg), flush], (msg) => {
        const t = (msg as { timestamp?: number }).timestamp;
        if (t !== undefined && t + 1500 > Date.now()) clock.tick(t + 1500 - Date.now()); // arrives 1.5 s after its time
      });
      await helper.unload();
      clock.restore();

      const fast = await replay(series.map(sampleMsg));
      // A seeded shuffle within blocks of three hours: each sample arrives at most 2 h
      // (the lateness) after the newest one before it.
      const shuffled = shuffleWithin(series.map(sampleMsg), 3, random(11));
      const jittered = await replay(shuffled);

      assert.deepEqual(live.errors, []);
      assert.equal(live.forecasts.length, series.length);
      assert.ok(live.forecasts.some((f) => f.model === 'ridge'));
      assert.deepEqual(fast, live);
      assert.deepEqual(jittered, live);
    });

    it('releases held samples of a key that went quiet after idleSeconds (the wall-clock fallback)', async () => {
      const clock = sinon.useFakeTimers({ now: T0 + 10 * H });
      const node = await load(settings);
      const first = feed(node, series.slice(0, 3).map(sampleMsg));
      assert.equal(first.forecasts.length, 1); // 00:00 reached by the watermark (02:00 − 2 h)
      let later: Payload[] = [];
      node.send = ((out: [Port, Port]) =>
        (later = later.concat(asList(out[0]).map((m) => m.payload)))) as never;
      clock.tick(4 * 3600_000 - 1);
      assert.equal(later.length, 0);
      clock.tick(60_000);
      assert.deepEqual(
        later.map((f) => f.time),
        [new Date(T0 + H).toISOString(), new Date(T0 + 2 * H).toISOString()],
      );
    });
  });

  it('forecasts at once from a live reading stamped before its step (12:53 is the 13:00 step) with lateness 0', async () => {
    const node = await load({ model: 'persistence' });
    const out = feed(node, [sampleMsg({ timeMs: T0 + 12 * H - 7 * 60_000, value: 5 })]);
    assert.deepEqual(
      out.forecasts.map((f) => f.time),
      [new Date(T0 + 12 * H).toISOString()],
    );
  });

  it('refuses a sample stamped more than maxFutureSeconds ahead of the clock; it does not stop the key', async () => {
    const clock = sinon.useFakeTimers({ now: T0 + 2 * H });
    try {
      const node = await load({ model: 'persistence' });
      const out = feed(node, [
        sampleMsg({ timeMs: T0, value: 1 }),
        sampleMsg({ timeMs: Date.UTC(2099, 0, 1), value: 99 }),
        sampleMsg({ timeMs: T0 + H, value: 2 }),
      ]);
      assert.equal(out.errors.length, 1);
      assert.match(out.errors[0].message, /more than 300 s ahead of the clock.*maxFutureSeconds/);
      assert.deepEqual(
        out.forecasts.map((f) => f.value),
        [1, 2],
      );
    } finally {
      clock.restore();
    }
  });
});
