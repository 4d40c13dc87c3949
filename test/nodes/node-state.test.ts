import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import anomalyFlaggerNode from '../../nodes/anomaly-flagger/anomaly-flagger';
import { defaultStorePersists, MEMORY_STATE_WARNING } from '../../nodes/shared/node-state';

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
