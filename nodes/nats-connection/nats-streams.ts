/**
 * The JetStream layout gridflow workers share (docs/scale-out.md): the partitioned input
 * stream, the de-duplicating output stream, and the replicated KV buckets for leases,
 * members and checkpoints. Created idempotently by every worker and by `npm run cluster`.
 */
import type { JetStreamManager, KV, NatsConnection, ObjectStore } from 'nats';
import type { Node } from '../shared/node-red-types';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos } from 'nats';

/** What nats-in and nats-out see of their nats-connection config node. */
export interface NatsConnectionNode extends Node {
  /** True when a server list is set. */
  configured: boolean;
  servers: string[];
  /** The shared connection, opened on first use. */
  connection(): Promise<NatsConnection>;
}

export const INPUT_STREAM = 'GRIDFLOW_IN';
export const OUTPUT_STREAM = 'GRIDFLOW_OUT';
export const LEASE_BUCKET = 'gridflow_leases';
export const MEMBER_BUCKET = 'gridflow_members';
export const CHECKPOINT_BUCKET = 'gridflow_checkpoints';
/** Checkpoints too large for a KV value (the KV entry then holds a pointer). */
export const CHECKPOINT_OBJECT_BUCKET = 'gridflow_checkpoint_objects';

/** How long a replayed result is still recognised as a duplicate by its message id. */
export const DUPLICATE_WINDOW_MS = 15 * 60_000;

/** The server's subject mapping: the key's stream and name pick the partition (FNV-1a in the server). */
export function partitionMapping(partitions: number): { from: string; to: string } {
  return {
    from: 'gridflow.in.*.*',
    to: `gridflow.part.{{partition(${partitions},1,2)}}.{{wildcard(1)}}.{{wildcard(2)}}`,
  };
}

export function partitionSubject(partition: number): string {
  return `gridflow.part.${partition}.>`;
}

export interface StreamLayoutOptions {
  /** Copies of every stream and bucket (3 on a 3-server cluster; capped by the cluster size). */
  replicas: number;
  /** How long input samples stay replayable. */
  inputMaxAgeMs?: number;
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  config: Parameters<JetStreamManager['streams']['add']>[0],
): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({ ...config, name });
  }
}

/** Creates the streams and buckets unless they exist (never changes existing ones). */
export async function ensureStreamLayout(nc: NatsConnection, options: StreamLayoutOptions): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const replicas = options.replicas;
  await ensureStream(jsm, INPUT_STREAM, {
    subjects: ['gridflow.part.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: nanos(options.inputMaxAgeMs ?? 24 * 3_600_000),
    discard: DiscardPolicy.Old,
  });
  await ensureStream(jsm, OUTPUT_STREAM, {
    subjects: ['gridflow.out.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: nanos(3_600_000),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  await openBuckets(nc, replicas);
}

export interface Buckets {
  leases: KV;
  members: KV;
  checkpoints: KV;
  checkpointObjects: ObjectStore;
}

export async function openBuckets(nc: NatsConnection, replicas: number): Promise<Buckets> {
  const js = nc.jetstream();
  return {
    leases: await js.views.kv(LEASE_BUCKET, { replicas, history: 64 }),
    members: await js.views.kv(MEMBER_BUCKET, { replicas, history: 1, ttl: 3_600_000 }),
    checkpoints: await js.views.kv(CHECKPOINT_BUCKET, {
      replicas,
      history: 1,
      maxValueSize: 8 * 1024 * 1024,
    }),
    checkpointObjects: await js.views.os(CHECKPOINT_OBJECT_BUCKET, { replicas }),
  };
}
