import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';
import {
  defaultStorePersists,
  loadState,
  MEMORY_STATE_WARNING,
  saveState,
  type StateFormat,
} from '../../nodes/shared/node-state';
import { CheckpointSlots } from '../../nodes/shared/checkpoint-timer';
import type { Node } from '../../nodes/shared/node-red-types';

/** A node with an in-memory context and the warnings it gave. */
function fakeNode(context: Record<string, unknown> = {}) {
  const warnings: string[] = [];
  const node = {
    id: 'fake',
    context: () => ({ get: (k: string) => context[k], set: (k: string, v: unknown) => (context[k] = v) }),
    // Other tests may have told node-state that the store is memory-only: that warning is not under test here.
    warn: (text: string) => text !== MEMORY_STATE_WARNING && warnings.push(text),
  } as unknown as Node;
  return { node, context, warnings };
}

/** Version 2 renamed `n` to `count`; version 1 was the unversioned shape. */
const COUNTER_V2: StateFormat = {
  version: 2,
  upgrades: { 0: (s) => s, 1: (s) => ({ count: (s as { n: number }).n }) },
};

describe('node state: versions', () => {
  it('saves the version beside the state and loads it back unchanged', () => {
    const { node, context, warnings } = fakeNode();
    saveState(node, { count: 3 }, COUNTER_V2);
    assert.deepEqual(context, { state: { count: 3 }, stateVersion: 2 });
    assert.deepEqual(loadState(node, COUNTER_V2), { count: 3 });
    assert.deepEqual(warnings, []);
  });

  it('upgrades a state saved before states had a version, and one of an older version, step by step', () => {
    assert.deepEqual(loadState(fakeNode({ state: { n: 4 } }).node, COUNTER_V2), { count: 4 });
    assert.deepEqual(loadState(fakeNode({ state: { n: 5 }, stateVersion: 1 }).node, COUNTER_V2), {
      count: 5,
    });
    assert.deepEqual(loadState(fakeNode({ state: { n: 6 } }).node), { n: 6 }, 'default format: version 1');
  });

  it('refuses a version it does not know with one clear warning, keeping the saved state aside', () => {
    const { node, context, warnings } = fakeNode({ state: { count: 7, extra: true }, stateVersion: 9 });
    assert.equal(loadState(node, COUNTER_V2), undefined);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /version 9 is newer than this gridflow's 2.*kept in context key "state-refused-v9"/,
    );
    assert.deepEqual(context['state-refused-v9'], { count: 7, extra: true });
  });

  it('checkpoint slots are due once each time the wall clock enters a new interval', () => {
    const slots = new CheckpointSlots(60_000, 120_000);
    assert.equal(slots.due(179_999), false);
    assert.equal(slots.due(180_000), true);
    assert.equal(slots.due(180_001), false);
    assert.equal(slots.due(400_000), true, 'several intervals later: one checkpoint');
  });

  it('checkpoint slots with an offset are due at the multiples plus the offset', () => {
    const slots = new CheckpointSlots(60_000, 120_000, 30_000);
    assert.equal(slots.due(149_999), false);
    assert.equal(slots.due(150_000), true, ':30');
    assert.equal(slots.due(180_000), false, 'not at :00');
    assert.equal(slots.due(210_000), true);
  });
});

helper.init(require.resolve('node-red'));

describe('node state: saying when it cannot survive a restart', function () {
  this.timeout(20_000);
  afterEach(() => helper.unload());

  it('reads the default store of contextStorage as Node-RED does', () => {
    assert.equal(defaultStorePersists(undefined), false, 'no setting: memory');
    assert.equal(defaultStorePersists({ default: { module: 'memory' } }), false);
    assert.equal(defaultStorePersists({ default: { module: 'localfilesystem' } }), true);
    assert.equal(
      defaultStorePersists({
        default: 'file',
        file: { module: 'localfilesystem' },
        mem: { module: 'memory' },
      }),
      true,
      'default names another store',
    );
    assert.equal(
      defaultStorePersists({ mem: { module: 'memory' }, file: { module: 'localfilesystem' } }),
      false,
      'without default the first store is the default',
    );
    assert.equal(defaultStorePersists({ default: { module: { open() {} } } }), true, 'custom store');
  });

  it('a stateful node in a default userDir (memory store) warns once that its state is lost on restart', async () => {
    const flow = [
      {
        id: 'a',
        type: 'anomaly-flagger',
        mode: 'stream',
        sigmas: 2,
        version: 1,
        property: 'payload',
        keyProperty: '',
      },
      {
        id: 'b',
        type: 'anomaly-flagger',
        mode: 'stream',
        sigmas: 2,
        version: 1,
        property: 'payload',
        keyProperty: '',
      },
    ];
    await helper.load(anomalyFlaggerNode, flow as never);
    // the helper spies on the shared Node.prototype.warn: tell the nodes apart by `this`
    const warn = (
      helper.getNode('a') as unknown as { warn: { args: unknown[][]; thisValues: { id: string }[] } }
    ).warn;
    const warnedIds = warn.args
      .map((args, i) => (String(args[0]) === MEMORY_STATE_WARNING ? warn.thisValues[i].id : undefined))
      .filter((id) => id !== undefined);
    assert.deepEqual(warnedIds.sort(), ['a', 'b']);
    assert.match(MEMORY_STATE_WARNING, /contextStorage: \{ default: \{ module: 'localfilesystem' \} \}/);
  });
});
