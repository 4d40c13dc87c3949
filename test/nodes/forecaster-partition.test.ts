/**
 * nats-in's forecaster operator against the forecaster node itself: the same settings and
 * the same samples give the same forecasts and accuracy payloads, number for number.
 */
import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import forecasterNode from '../../nodes/forecaster/forecaster';
import { accuracyPayload, forecastPayload } from '../../nodes/core/forecast-stream';
import { PartitionForecaster } from '../../nodes/core/partition-forecaster';
import { parseForecastConfig } from '../../nodes/shared/forecast-config';

helper.init(require.resolve('node-red'));

const H = 3_600_000;
const T0 = Date.UTC(2024, 2, 1);

type NodeMsg = { topic?: string; payload: Record<string, unknown>; filled?: number };
type Port = NodeMsg | NodeMsg[] | null;
type TestNode = ReturnType<typeof helper.getNode> & {
  _inputCallback: (msg: object, send: (out: unknown) => void, done: (err?: Error) => void) => void;
};

const config = {
  model: 'holt-winters',
  stepSeconds: 3600,
  season: 24,
  historySteps: 48,
  accuracyWindow: 24,
  retrainAt: '00:15',
  timezone: 'Europe/Zurich',
  latenessSeconds: 5400,
};

/** Two meters, hourly with jitter, for 4 days; one skips three hours, one sample is for a past step. */
function samples(): { key: string; timeMs: number; value: number }[] {
  const out: { key: string; timeMs: number; value: number }[] = [];
  for (let i = 0; i < 96; i++)
    for (const [k, key] of ['grid/a', 'grid/b'].entries()) {
      if (k === 1 && i >= 50 && i < 53) continue;
      const jitter = ((i * 7 + k * 3) % 11) * 60_000 - 5 * 60_000;
      out.push({
        key,
        timeMs: T0 + i * H + jitter,
        value: 20 + 5 * Math.sin((2 * Math.PI * i) / 24) + k + (i % 5) / 10,
      });
    }
  out.splice(101, 0, { key: 'grid/a', timeMs: T0 + 10 * H, value: 99 });
  return out;
}

const asList = (port: Port): NodeMsg[] => (port === null ? [] : Array.isArray(port) ? port : [port]);

describe('nats-in forecaster operator = the forecaster node', () => {
  afterEach(async () => {
    await helper.unload();
  });

  it('gives the node’s forecasts and accuracy for the same samples', async () => {
    const flow = [
      {
        id: 'f1',
        type: 'forecaster',
        ...config,
        property: 'payload',
        timeProperty: 'timestamp',
        keyProperty: 'topic',
        wires: [[], []],
      },
    ];
    await helper.load(forecasterNode, flow);
    const node = helper.getNode('f1') as TestNode;
    const fromNode: { forecasts: NodeMsg[]; accuracy: NodeMsg[] } = { forecasts: [], accuracy: [] };
    const op = new PartitionForecaster(parseForecastConfig(config));
    const fromOperator: { forecasts: NodeMsg[]; accuracy: NodeMsg[] } = { forecasts: [], accuracy: [] };
    const refused: string[] = [];
    samples().forEach((s, i) => {
      node._inputCallback(
        { topic: s.key, payload: s.value, timestamp: s.timeMs },
        (out) => {
          const [first, second] = out as [Port, Port];
          fromNode.forecasts.push(
            ...asList(first).map(({ topic, payload, filled }) => ({ topic, payload, filled })),
          );
          fromNode.accuracy.push(...asList(second).map(({ topic, payload }) => ({ topic, payload })));
        },
        (err) => assert.ifError(err),
      );
      const added = op.add(s.key, s.timeMs, s.value, i + 1);
      if (!added.ok) refused.push(added.reason);
      for (const r of added.ok ? added.results : []) {
        if (r.kind === 'forecast')
          fromOperator.forecasts.push({
            topic: r.key,
            payload: forecastPayload(r.forecast),
            filled: r.filled,
          });
        else fromOperator.accuracy.push({ topic: r.key, payload: accuracyPayload(r.accuracy) });
      }
    });
    // 96 + 93 steps; the newest 2 of each key still wait for their lateness (90 min).
    assert.equal(fromNode.forecasts.length, 96 + 93 - 4, 'one forecast per step taken');
    assert.deepEqual(fromOperator, fromNode);
    assert.deepEqual(refused.length, 1, 'the sample for a past step');
    assert.match(refused[0], /not after the key's last step/);
    const models = new Set(fromOperator.forecasts.map((m) => m.payload.model));
    assert.deepEqual(
      [...models].sort(),
      ['holt-winters', 'persistence'],
      'persistence until 48 h, then fitted',
    );
    assert.ok(
      fromOperator.forecasts.some((m) => (m.filled ?? 0) > 0),
      'the gap was filled',
    );
  });
});
