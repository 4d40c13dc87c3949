/**
 * Memory stays bounded whatever keys arrive (issue 15): many distinct keys through each
 * keyed node. The keys a node holds (counted in the state its checkpoint saves) stay at
 * maxKeys, the cap is warned about once and shown in the status, and the heap grows by far
 * less than the keys would take if they were all kept. Node-RED's per-call spies are
 * replaced on the node under test, so the test itself does not keep a million calls.
 */
import { strict as assert } from 'node:assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import helper from 'node-red-node-test-helper';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';
import covFilterNode from '../../nodes/cov-filter/cov-filter';
import covResamplerNode from '../../nodes/cov-resampler/cov-resampler';
import forecasterNode from '../../nodes/forecaster/forecaster';
import movingWindowNode from '../../nodes/moving-window/moving-window';
import { KEY_CAP_WARNING } from '../../nodes/core/lru-keys';

helper.init(require.resolve('node-red'));

/**
 * The full million distinct keys through cov-filter, and 200,000 (40× maxKeys) through each
 * of the others so the suite stays short on a loaded 2-core machine;
 * BOUNDED_KEYS_N=1000000 sends the full million through every node (about a minute each).
 */
const KEYS = Number(process.env.BOUNDED_KEYS_N) || 200_000;
const MILLION = 1_000_000;
const MAX_KEYS = 5000;
/** Far below what a million held keys take (each holds a clock, a window or a series). */
const HEAP_GROWTH_MAX_MB = 64;

interface BoundedCase {
  type: string;
  module: unknown;
  config: Record<string, unknown>;
  msg: (i: number) => Record<string, unknown>;
  /** Keys held, read from the saved state. */
  heldKeys: (state: unknown) => number;
  /** Distinct keys sent (default KEYS). */
  keys?: number;
}

// A full collection before each heap reading, so garbage not yet collected is not counted
// as held (mocha runs without --expose-gc; the flag can be set at run time).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

const count = (o: unknown) => Object.keys((o ?? {}) as object).length;

const CASES: BoundedCase[] = [
  {
    type: 'cov-filter',
    module: covFilterNode,
    keys: Math.max(MILLION, KEYS),
    config: { absolute: 1 },
    msg: (i) => ({ topic: `k${i}`, payload: i }),
    heldKeys: (s) => Math.max(count((s as { clocks: object }).clocks), count((s as { keys: object }).keys)),
  },
  {
    type: 'cov-resampler',
    module: covResamplerNode,
    config: { timeProperty: '', bucketSeconds: 60 },
    msg: (i) => ({ topic: `k${i}`, payload: i }),
    heldKeys: count,
  },
  {
    type: 'anomaly-flagger',
    module: anomalyFlaggerNode,
    config: { mode: 'stream', version: 1, sigmas: 3, windowSize: 10, minCount: 3 },
    msg: (i) => ({ payload: { key: `k${i}`, value: i } }),
    heldKeys: count,
  },
  {
    type: 'forecaster',
    module: forecasterNode,
    config: { model: 'persistence', stepSeconds: 60, historySteps: 10, timeProperty: '' },
    msg: (i) => ({ topic: `k${i}`, payload: i }),
    heldKeys: (s) => count((s as { keys: object }).keys),
  },
  {
    type: 'moving-window',
    module: movingWindowNode,
    config: { windowSeconds: 60 },
    msg: (i) => ({ topic: `k${i}`, payload: i % 2 === 0 ? i : 'not a number' }),
    heldKeys: (s) => count((s as { keys: object }).keys),
  },
];

describe('bounded keys: up to a million distinct keys through each keyed node', function () {
  this.timeout(600_000); // CPU-bound: about 10 s per node on an idle machine
  afterEach(() => helper.unload());

  for (const c of CASES) {
    const keys = c.keys ?? KEYS;
    it(`${c.type}: ${keys.toLocaleString('en')} keys, at most maxKeys held, one warning, the cap shown, heap bounded`, async () => {
      const config = { id: 'n', type: c.type, maxKeys: MAX_KEYS, wires: [[], []], ...c.config };
      await helper.load(c.module as never, [config] as never);
      const node = helper.getNode('n') as unknown as Record<string, unknown> & {
        receive(msg: object): void;
        context(): { get(key: string): unknown; set(key: string, value: unknown): void };
        close(removed: boolean): Promise<void>;
      };
      const warnings: string[] = [];
      let errors = 0;
      let status = '';
      node.warn = (text: unknown) => warnings.push(String(text));
      node.error = () => errors++;
      node.send = () => undefined;
      node.status = (s: { text?: string }) => (status = s.text ?? '');
      // The state each save hands the context store (the close handler saves last).
      const context = node.context();
      let saved: unknown;
      node.context = () => ({
        get: (key: string) => context.get(key),
        set: (key: string, value: unknown) => {
          if (key === 'state') saved = value;
          context.set(key, value);
        },
      });
      const heapBefore = heapAfterGc();
      // The node's own input handler, without Node-RED's per-msg routing (ids, hooks, metrics).
      const input = node._inputCallback as (msg: object, send: () => void, done: () => void) => void;
      const noop = () => undefined;
      for (let i = 0; i < keys; i++) input.call(node, c.msg(i), noop, noop);
      const growthMb = (heapAfterGc() - heapBefore) / 2 ** 20;
      await node.close(false); // saves the state
      const held = c.heldKeys(saved);

      assert.ok(held <= MAX_KEYS && held > 0, `${held} keys held, maxKeys ${MAX_KEYS}`);
      assert.equal(warnings.filter((w) => w === KEY_CAP_WARNING(MAX_KEYS) || /maxKeys/.test(w)).length, 1);
      assert.match(status, /key cap 5\.0k/);
      assert.ok(growthMb < HEAP_GROWTH_MAX_MB, `heap grew ${growthMb.toFixed(0)} MB`);
      if (c.type === 'moving-window') assert.equal(errors, keys / 2, 'each bad key reported once');
      console.log(`      ${c.type}: ${held} keys held, heap +${growthMb.toFixed(0)} MB`);
    });
  }
});
