/**
 * The real NATS JetStream cluster for tests: 3 Debian `nats-server` processes on free
 * loopback ports in a temp dir (scripts/cluster-nats.ts), with the gridflow streams and
 * buckets created. Fails loudly (never skips) when nats-server is missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import {
  natsServerInstalled,
  NATS_SERVER_INSTALL_HINT,
  startNatsCluster,
  type NatsCluster,
} from '../../scripts/cluster-nats';
import { ensureStreamLayout } from '../../nodes/nats-connection/nats-streams';

export interface TestNatsCluster extends NatsCluster {
  dir: string;
  /** A client connection to every server (fails over). */
  client: NatsConnection;
  dispose(): Promise<void>;
}

export async function startTestNatsCluster({ size = 3, partitions = 8 } = {}): Promise<TestNatsCluster> {
  if (!natsServerInstalled()) throw new Error(NATS_SERVER_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'gridflow-nats-'));
  const cluster = await startNatsCluster(dir, { size, partitions });
  const client = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  await ensureStreamLayout(client, { replicas: Math.min(3, size) });
  return Object.assign(cluster, {
    dir,
    client,
    dispose: async () => {
      await client.close().catch(() => undefined);
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
