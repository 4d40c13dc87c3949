/**
 * Large checkpoints on a real nats-server (JetStream, one server): a state over the inline
 * limit goes to the object store bucket and the KV entry holds the pointer and the stream
 * position; reads restore it; a replaced state's object is deleted; a stale revision
 * writes nothing, neither the pointer nor a leftover object.
 */
import assert from 'node:assert/strict';
import type { ObjectStore } from 'nats';
import { PartitionWindows } from '../../nodes/core/partition-windows';
import { openBuckets, type Buckets } from '../../nodes/nats-connection/nats-streams';
import { CheckpointStore } from '../../nodes/nats-in/checkpoint-store';
import { startTestNatsCluster, type TestNatsCluster } from '../harness/nats-cluster';

const LIMIT = 2048;

function windowsWith(keys: number, seq: number): PartitionWindows {
  const windows = new PartitionWindows(300_000, 60_000);
  let position = 0;
  for (let i = 0; i < 20; i++)
    for (let k = 0; k < keys; k++) windows.add(`load/m${k}`, 1_000 + i * 1000, k + i / 8, ++position);
  windows.skip(seq);
  return windows;
}

async function objectNames(objects: ObjectStore): Promise<string[]> {
  return (await objects.list()).filter((o) => !o.deleted).map((o) => o.name);
}

describe('nats-in checkpoints over the KV limit (object store, real nats-server)', function () {
  this.timeout(60_000);
  let cluster: TestNatsCluster;
  let buckets: Buckets;

  before(async () => {
    cluster = await startTestNatsCluster({ size: 1 });
    buckets = await openBuckets(cluster.client, 1);
  });
  after(async () => {
    await cluster?.dispose();
  });

  it('puts a large state in the object store behind a pointer, restores it, and cleans up replaced objects', async () => {
    const store = new CheckpointStore(buckets.checkpoints, buckets.checkpointObjects, LIMIT);
    const key = 'workers.p5';
    const large = windowsWith(50, 5_000);
    const largeText = JSON.stringify(large.toJSON());
    assert.ok(largeText.length > LIMIT);

    const first = await store.write(key, large.seq, largeText, 0);
    const pointer = (await buckets.checkpoints.get(key))!.json<{
      object: string;
      seq: number;
      bytes: number;
    }>();
    assert.deepEqual(pointer, { object: `${key}.5000`, seq: 5000, bytes: Buffer.byteLength(largeText) });
    assert.deepEqual(await objectNames(buckets.checkpointObjects), [`${key}.5000`]);

    // Another worker (a fresh store) restores exactly the state written.
    const restored = await new CheckpointStore(buckets.checkpoints, buckets.checkpointObjects, LIMIT).read(
      key,
    );
    assert.equal(restored.revision, first);
    assert.deepEqual(restored.state, large.toJSON());
    assert.deepEqual(PartitionWindows.fromJSON(restored.state!).toJSON(), large.toJSON());

    // A newer large state replaces the object; a stale revision writes nothing.
    const larger = windowsWith(60, 6_000);
    const second = await store.write(key, larger.seq, JSON.stringify(larger.toJSON()), first);
    assert.deepEqual(await objectNames(buckets.checkpointObjects), [`${key}.6000`]);
    await assert.rejects(store.write(key, 7_000, JSON.stringify(windowsWith(70, 7_000).toJSON()), first));
    assert.deepEqual(await objectNames(buckets.checkpointObjects), [`${key}.6000`]);
    assert.equal((await store.read(key)).state?.seq, 6_000);

    // A state that fits again goes inline and the object is deleted.
    const small = windowsWith(1, 8_000);
    const third = await store.write(key, small.seq, JSON.stringify(small.toJSON()), second);
    assert.ok(third > second);
    assert.equal((await buckets.checkpoints.get(key))!.json<{ seq: number }>().seq, 8_000);
    assert.deepEqual(await objectNames(buckets.checkpointObjects), []);
    assert.deepEqual((await store.read(key)).state, small.toJSON());
  });
});
