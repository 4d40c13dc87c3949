/**
 * Which partitions a worker should claim or hand back, from the leases it sees. Pure:
 * the adapter reads the leases from the replicated KV bucket and writes its claims with
 * compare-and-set on the revision it read, so two workers never both win one partition.
 * Each live worker aims at an equal share (⌈partitions / workers⌉); a partition prefers
 * the worker at its index modulo the sorted member list, so shares settle without churn.
 */
export interface Lease {
  owner: string;
  acquiredAtMs: number;
  expiresAtMs: number;
}

export interface LeaseView {
  partition: number;
  /** null: never held, released or deleted. */
  lease: Lease | null;
}

export interface LeasePlan {
  claim: number[];
  release: number[];
}

export function fairShare(partitions: number, workers: number): number {
  return Math.ceil(partitions / Math.max(1, workers));
}

export function preferredOwner(partition: number, members: readonly string[]): string {
  const sorted = [...members].sort();
  return sorted[partition % sorted.length];
}

export function leaseIsFree(lease: Lease | null, nowMs: number): boolean {
  return lease === null || lease.expiresAtMs <= nowMs;
}

export function planLeases(
  me: string,
  members: readonly string[],
  leases: readonly LeaseView[],
  owned: ReadonlySet<number>,
  nowMs: number,
): LeasePlan {
  const everyone = members.includes(me) ? members : [...members, me];
  const share = fairShare(leases.length, everyone.length);
  const mine = (p: number) => preferredOwner(p, everyone) === me;
  const byPreference = (a: number, b: number) => Number(mine(b)) - Number(mine(a)) || a - b;

  const free = leases
    .filter((v) => !owned.has(v.partition) && leaseIsFree(v.lease, nowMs))
    .map((v) => v.partition)
    .sort(byPreference);
  const claim = free.slice(0, Math.max(0, share - owned.size));

  const release =
    owned.size > share
      ? [...owned]
          .sort(byPreference)
          .slice(share)
          .sort((a, b) => a - b)
      : [];
  return { claim, release };
}
