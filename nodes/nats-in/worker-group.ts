/**
 * A worker's membership in a worker group: heartbeats, partition leases in the
 * replicated KV bucket (claimed and renewed by compare-and-set on the revision read),
 * and one PartitionConsumer per owned partition. A worker that cannot renew a lease
 * stops its partition before the lease expires (self-fencing), so at any moment a
 * partition has at most one owner; a dead worker's partitions are claimed within
 * lease + one renew interval (docs/scale-out.md).
 */
import type { JetStreamClient, KV } from 'nats';
import type { OperatorKind, OperatorSettings } from '../core/partition-operator';
import type { ResampleMethod } from '../core/cov-resample';
import type { ForecastSettings } from '../core/forecast-stream';
import { leaseIsFree, planLeases, type Lease, type LeaseView } from '../core/partition-leases';
import type { Buckets } from '../nats-connection/nats-streams';
import { CheckpointStore, isWrongRevision } from './checkpoint-store';
import { PartitionConsumer, type PartitionOutput } from './partition-consumer';

export interface WorkerGroupSettings extends OperatorSettings {
  group: string;
  workerId: string;
  partitions: number;
  windowMs: number;
  hopMs: number;
  /** Idle closing by partition event time (0: off), see PartitionWindows. */
  idleMs?: number;
  /** Keys per partition (0: unbounded). */
  maxKeys?: number;
  /** The keyed operator per partition (default moving-window). */
  operator?: OperatorKind;
  /** cov-resample: bucket length (default 30 min), method (default locf), zone of the bucket id (UTC). */
  bucketMs?: number;
  method?: ResampleMethod;
  timeZone?: string;
  /** forecaster: the forecaster node's model settings. */
  forecast?: ForecastSettings;
  leaseMs: number;
  checkpointMs: number;
  /** Checkpoints larger than this go to the object store bucket (default 1 MiB). */
  checkpointInlineMaxBytes?: number;
}

interface Owned {
  consumer: PartitionConsumer;
  lease: Lease;
  revision: number;
}

export interface WorkerGroupEvents extends PartitionOutput {
  changed(owned: number[]): void;
  warn(text: string): void;
}

export class WorkerGroup {
  private readonly owned = new Map<number, Owned>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private leaseChain: Promise<void> = Promise.resolve();
  private checkpointChain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Bumped per lease tick: a tick abandoned at its deadline stops at its next step. */
  private tickGeneration = 0;
  private readonly checkpoints: CheckpointStore;

  constructor(
    private readonly js: JetStreamClient,
    private readonly buckets: Buckets,
    readonly settings: WorkerGroupSettings,
    private readonly events: WorkerGroupEvents,
  ) {
    this.checkpoints = new CheckpointStore(
      buckets.checkpoints,
      buckets.checkpointObjects,
      settings.checkpointInlineMaxBytes,
    );
  }

  get renewMs(): number {
    return Math.max(100, Math.floor(this.settings.leaseMs / 4));
  }

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** Stream position each owned partition has folded in. */
  positions(): Map<number, number> {
    return new Map([...this.owned].map(([partition, o]) => [partition, o.consumer.seq]));
  }

  consumedCount(): number {
    let n = 0;
    for (const o of this.owned.values()) n += o.consumer.consumed;
    return n;
  }

  start(): void {
    // Lease renewals never wait behind checkpoint writes: each has its own serial chain.
    const leaseTick = () => {
      this.leaseChain = this.leaseChain
        .then(() => this.boundedLeaseTick())
        .catch((err: Error) => this.events.warn(err.message));
    };
    const checkpointTick = () => {
      this.checkpointChain = this.checkpointChain
        .then(() => this.checkpointAll())
        .catch((err: Error) => this.events.warn(err.message));
    };
    leaseTick();
    this.leaseTimer = setInterval(leaseTick, this.renewMs);
    this.checkpointTimer = setInterval(checkpointTick, this.settings.checkpointMs);
  }

  /** Hands every partition back (last checkpoint written, lease deleted) so others take over at once. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.leaseTimer);
    clearInterval(this.checkpointTimer);
    await Promise.all([this.leaseChain, this.checkpointChain]).catch(() => undefined);
    for (const partition of this.ownedPartitions()) await this.release(partition).catch(() => undefined);
    await this.buckets.members.delete(this.memberKey()).catch(() => undefined);
  }

  private leaseKey(partition: number): string {
    return `${this.settings.group}.p${partition}`;
  }

  private memberKey(): string {
    return `${this.settings.group}.${this.settings.workerId.replace(/[^\w-]/g, '_')}`;
  }

  /**
   * A lease tick that waits on the cluster (a KV request or key listing that never
   * answers while a server restarts) must not hold up the next one: the renewals come
   * first in every tick, and the chain of ticks would stall for good.
   */
  private async boundedLeaseTick(): Promise<void> {
    const generation = ++this.tickGeneration;
    const limitMs = Math.max(this.renewMs, Math.floor(this.settings.leaseMs / 2));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`lease tick took over ${limitMs} ms (cluster busy?); the next one starts`)),
        limitMs,
      );
    });
    try {
      await Promise.race([this.leaseTick(generation), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async leaseTick(generation: number): Promise<void> {
    const current = () => !this.closed && generation === this.tickGeneration;
    if (!current()) return;
    const now = Date.now();
    this.fenceExpired(now);
    await this.renewAll(now);
    if (!current()) return;
    await this.buckets.members.put(
      this.memberKey(),
      JSON.stringify({ id: this.settings.workerId, seenAtMs: now }),
    );
    if (!current()) return;
    const [members, views] = await Promise.all([this.liveMembers(now), this.readLeases()]);
    if (!current()) return;
    const plan = planLeases(this.settings.workerId, members, views, new Set(this.owned.keys()), Date.now());
    for (const partition of plan.release) await this.release(partition);
    await Promise.all(plan.claim.map((partition) => this.claim(partition, views[partition].revision)));
    if (plan.claim.length > 0 || plan.release.length > 0) this.events.changed(this.ownedPartitions());
  }

  /** Stops partitions whose lease ran out without a renewal (e.g. the cluster was unreachable). */
  private fenceExpired(now: number): void {
    for (const [partition, owned] of this.owned) {
      if (owned.lease.expiresAtMs <= now) this.drop(partition, 'lease not renewed in time');
    }
  }

  private drop(partition: number, why: string): void {
    const owned = this.owned.get(partition);
    if (!owned) return;
    this.owned.delete(partition);
    void owned.consumer.stop(false);
    this.events.warn(`partition ${partition} given up: ${why}`);
    this.events.changed(this.ownedPartitions());
  }

  private async renewAll(now: number): Promise<void> {
    const renew = async (partition: number, owned: Owned) => {
      const lease = { ...owned.lease, expiresAtMs: now + this.settings.leaseMs };
      try {
        owned.revision = await this.buckets.leases.update(
          this.leaseKey(partition),
          JSON.stringify(lease),
          owned.revision,
        );
        owned.lease = lease;
        owned.consumer.validUntilMs = lease.expiresAtMs;
      } catch (err) {
        if (isWrongRevision(err)) await this.adoptOrDrop(partition, owned);
        // Otherwise the cluster is briefly unavailable: retry next tick; the consumer stops at expiry.
      }
    };
    await Promise.all([...this.owned].map(([partition, owned]) => renew(partition, owned)));
  }

  /**
   * A renewal refused for its revision: an abandoned tick's renewal may have landed first.
   * The lease is still ours only if the bucket says so (same owner, same acquisition).
   */
  private async adoptOrDrop(partition: number, owned: Owned): Promise<void> {
    const entry = await this.buckets.leases.get(this.leaseKey(partition));
    const lease = entry && entry.operation === 'PUT' ? entry.json<Lease>() : null;
    if (
      entry &&
      lease &&
      this.owned.get(partition) === owned &&
      lease.owner === this.settings.workerId &&
      lease.acquiredAtMs === owned.lease.acquiredAtMs
    ) {
      if (entry.revision > owned.revision) {
        owned.revision = entry.revision;
        owned.lease = lease;
        owned.consumer.validUntilMs = lease.expiresAtMs;
      }
      return;
    }
    this.drop(partition, 'lease taken by another worker');
  }

  private async liveMembers(now: number): Promise<string[]> {
    const names: string[] = [];
    for await (const key of await this.buckets.members.keys(`${this.settings.group}.*`)) names.push(key);
    const entries = await Promise.all(names.map((key) => this.buckets.members.get(key)));
    const members: string[] = [];
    for (const entry of entries) {
      if (!entry || entry.operation !== 'PUT') continue;
      const member = entry.json<{ id: string; seenAtMs: number }>();
      if (now - member.seenAtMs < this.settings.leaseMs) members.push(member.id);
    }
    return members;
  }

  private async readLeases(): Promise<(LeaseView & { revision: number })[]> {
    const partitions = Array.from({ length: this.settings.partitions }, (_, p) => p);
    const entries = await Promise.all(partitions.map((p) => this.buckets.leases.get(this.leaseKey(p))));
    return entries.map((entry, partition) => {
      const live = entry !== null && entry.operation === 'PUT';
      // A deleted lease is claimed with create(), which needs no revision.
      return { partition, lease: live ? entry.json<Lease>() : null, revision: live ? entry.revision : 0 };
    });
  }

  private async claim(partition: number, revision: number): Promise<void> {
    const now = Date.now();
    const lease: Lease = {
      owner: this.settings.workerId,
      acquiredAtMs: now,
      expiresAtMs: now + this.settings.leaseMs,
    };
    const leases: KV = this.buckets.leases;
    let newRevision: number;
    try {
      newRevision =
        revision > 0
          ? await leases.update(this.leaseKey(partition), JSON.stringify(lease), revision)
          : await leases.create(this.leaseKey(partition), JSON.stringify(lease));
    } catch (err) {
      if (isWrongRevision(err)) return; // another worker won this one
      throw err;
    }
    try {
      const consumer = await PartitionConsumer.start(
        this.js,
        this.checkpoints,
        this.leaseKey(partition),
        partition,
        this.settings,
        { ...this.events, lost: (p, err) => this.drop(p, `checkpoint refused: ${err.message}`) },
      );
      consumer.validUntilMs = lease.expiresAtMs;
      this.owned.set(partition, { consumer, lease, revision: newRevision });
    } catch (err) {
      await leases.delete(this.leaseKey(partition), { previousSeq: newRevision }).catch(() => undefined);
      throw err;
    }
  }

  private async release(partition: number): Promise<void> {
    const owned = this.owned.get(partition);
    if (!owned) return;
    this.owned.delete(partition);
    await owned.consumer.stop(true);
    try {
      await this.buckets.leases.delete(this.leaseKey(partition), { previousSeq: owned.revision });
    } catch (err) {
      // Expired and already claimed by another worker: it is theirs, nothing to hand back.
      if (!isWrongRevision(err)) throw err;
    }
  }

  private async checkpointAll(): Promise<void> {
    for (const [partition, owned] of this.owned) {
      if (leaseIsFree(owned.lease, Date.now() + this.renewMs)) continue; // about to be fenced
      // Only a refused compare-and-set means someone else wrote it. A timeout (a busy or
      // electing cluster) keeps the partition: if the write landed after all, the next
      // one is refused for its revision and drops it then; the lease still fences.
      await owned.consumer.checkpoint().catch((err: Error) => {
        if (isWrongRevision(err)) this.drop(partition, err.message);
        else
          this.events.warn(`partition ${partition}: checkpoint not written (${err.message}); next interval`);
      });
    }
  }
}
