/**
 * One scale-out worker without Node-RED around it, for bench/nats-scale-out.bench.ts: the
 * same WorkerGroup that nats-in runs (leases, checkpoints, partition windows), printing
 * `consumed <n> windows <n> at <partition>:<position>,…` lines so the bench knows when
 * every partition is drained (positions survive a handover; per-consumer counts do not).
 * argv: <worker id> <comma-separated NATS urls> <partitions> <group>
 */
import { connect } from 'nats';
import { openBuckets } from '../nodes/nats-connection/nats-streams';
import { WorkerGroup } from '../nodes/nats-in/worker-group';

async function main(): Promise<void> {
  const [workerId, urls, partitions, groupName] = process.argv.slice(2);
  const nc = await connect({ servers: urls.split(',') });
  const buckets = await openBuckets(nc, 3);
  let windows = 0;
  let bad = 0;
  const group = new WorkerGroup(
    nc.jetstream(),
    buckets,
    {
      group: groupName,
      workerId,
      partitions: Number(partitions),
      windowMs: 300_000,
      hopMs: 60_000,
      leaseMs: 20_000, // a saturated 2-core box delays KV round trips by seconds
      checkpointMs: 2000,
    },
    {
      sample: () => undefined,
      windows: (_p, results) => (windows += results.length),
      // A flood of bad lines on the inherited stderr would cost more than the work measured.
      bad: (p, seq, subject, reason) => {
        if (++bad <= 5) console.error(`bad ${p} ${seq} ${subject}: ${reason}`);
      },
      lost: () => undefined,
      changed: (owned) => console.log(`owns ${owned.join(',')}`),
      warn: (text) => console.error(text),
    },
  );
  group.start();
  const report = setInterval(() => {
    const at = [...group.positions()].map(([p, seq]) => `${p}:${seq}`).join(',');
    console.log(`consumed ${group.consumedCount()} windows ${windows} at ${at}`);
  }, 100);
  process.on('SIGTERM', () => {
    clearInterval(report);
    setTimeout(() => process.exit(0), 5000).unref();
    void group.close().finally(() => nc.close().finally(() => process.exit(0)));
  });
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
