/**
 * Where a partition's checkpoint lives: inline in the replicated KV bucket while it is
 * small, in the JetStream object store bucket when it is over `inlineMaxBytes` (a KV value
 * is one stream message: bounded by the bucket's value limit and the server's max_payload).
 * Either way the KV entry is the one compare-and-set point: for a large state it holds a
 * pointer `{object, seq, bytes}` (the object's name and the stream position it covers), so
 * a worker that lost the partition still cannot replace the new owner's checkpoint.
 */
import type { KV, ObjectStore } from 'nats';
import type { PartitionOperatorState } from '../core/partition-operator';

/** Inline up to 1 MiB: the KV bucket allows 8 MiB, but large Raft entries stall the cluster. */
export const DEFAULT_INLINE_MAX_BYTES = 1024 * 1024;

interface ObjectPointer {
  object: string;
  seq: number;
  bytes: number;
}

export interface StoredCheckpoint {
  state: PartitionOperatorState | undefined;
  /** Revision to compare-and-set against: > 0 a live entry, ≤ 0 none or deleted (create next). */
  revision: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A compare-and-set refused: someone else wrote the key since the revision we hold. */
export function isWrongRevision(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /wrong last sequence|key exists|10071/i.test(text);
}

function isPointer(value: unknown): value is ObjectPointer {
  return typeof value === 'object' && value !== null && typeof (value as ObjectPointer).object === 'string';
}

export class CheckpointStore {
  /** The object each key's entry pointed to at the revision this worker last read or wrote. */
  private readonly objectAt = new Map<string, { revision: number; object: string | undefined }>();

  constructor(
    private readonly kv: KV,
    private readonly objects: ObjectStore,
    readonly inlineMaxBytes = DEFAULT_INLINE_MAX_BYTES,
  ) {}

  async read(key: string): Promise<StoredCheckpoint> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT')
      return { state: undefined, revision: entry ? -entry.revision : 0 };
    const value = entry.json<PartitionOperatorState | ObjectPointer>();
    this.objectAt.set(key, { revision: entry.revision, object: isPointer(value) ? value.object : undefined });
    if (!isPointer(value)) return { state: value, revision: entry.revision };
    const blob = await this.objects.getBlob(value.object);
    if (!blob) throw new Error(`checkpoint ${key} points to object ${value.object}, which is missing`);
    return { state: JSON.parse(decoder.decode(blob)) as PartitionOperatorState, revision: entry.revision };
  }

  /** Writes by compare-and-set on `revision` (≤ 0: create); returns the new revision. */
  async write(key: string, seq: number, text: string, revision: number): Promise<number> {
    const known = this.objectAt.get(key);
    const previous =
      revision <= 0
        ? undefined
        : known?.revision === revision
          ? known.object
          : await this.objectOf(key, revision);
    const bytes = encoder.encode(text);
    let value = text;
    let written: string | undefined;
    if (bytes.length > this.inlineMaxBytes) {
      written = `${key}.${seq}`;
      await this.objects.putBlob({ name: written }, bytes);
      value = JSON.stringify({ object: written, seq, bytes: bytes.length } satisfies ObjectPointer);
    }
    let next: number;
    try {
      next = revision > 0 ? await this.kv.update(key, value, revision) : await this.kv.create(key, value);
    } catch (err) {
      if (written) await this.objects.delete(written).catch(() => undefined);
      throw err;
    }
    this.objectAt.set(key, { revision: next, object: written });
    // The replaced state is unreachable now; a leftover object only costs space.
    if (previous && previous !== written) await this.objects.delete(previous).catch(() => undefined);
    return next;
  }

  private async objectOf(key: string, revision: number): Promise<string | undefined> {
    const entry = await this.kv.get(key, { revision }).catch(() => null);
    const value = entry && entry.operation === 'PUT' ? entry.json<unknown>() : undefined;
    return isPointer(value) ? value.object : undefined;
  }
}
