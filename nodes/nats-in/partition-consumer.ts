/**
 * One owned partition: restores its checkpoint (operator state + stream position), replays
 * the partition's subjects from the next position with an ordered consumer, folds every
 * sample into its keyed operator (moving window or COV resampling), and checkpoints. A
 * checkpoint is written one interval after it was taken, so the results it covers have
 * left through the downstream sinks (InfluxDB batches flush every second) before the
 * position moves past them; the checkpoint write is the acknowledgement (docs/adr/0100-scale-out-engine.md).
 */
import type { ConsumerMessages, JetStreamClient } from 'nats';
import {
  createPartitionOperator,
  type AnyPartitionOperator,
  type OperatorSettings,
  type PartitionBucketResult,
  type PartitionOperator,
  type PartitionOperatorState,
} from '../core/partition-operator';
import type { PartitionForecastResult } from '../core/partition-forecaster';
import type { PartitionWindowResult } from '../core/partition-windows';
import type { PartitionTurbineResult } from '../core/partition-turbine-stats';
import type { PartitionAnomalyResult } from '../core/partition-anomaly';
import { isWrongRevision, type CheckpointStore } from './checkpoint-store';
import { INPUT_STREAM, partitionSubject } from '../nats-connection/nats-streams';
import { parseStreamSample, type StreamSample } from './stream-sample';

const YIELD_EVERY = 256;

export interface PartitionOutput {
  sample(partition: number, sample: StreamSample): void;
  windows(partition: number, results: PartitionWindowResult[]): void;
  /** Buckets of the cov-resample operator. */
  buckets?(partition: number, results: PartitionBucketResult[]): void;
  /** Turbine-periods of the turbine-stats operator. */
  turbineStats?(partition: number, results: PartitionTurbineResult[]): void;
  /** Scored values of the anomaly-stream operator. */
  anomalies?(partition: number, results: PartitionAnomalyResult[]): void;
  /** Forecasts and scored forecasts of the forecaster operator. */
  forecasts?(partition: number, results: PartitionForecastResult[]): void;
  bad(partition: number, seq: number, subject: string, reason: string): void;
  /** The checkpoint could not be written: another worker holds the partition now. */
  lost(partition: number, err: Error): void;
}

export type WindowSettings = OperatorSettings;

export class PartitionConsumer {
  private readonly operator: AnyPartitionOperator;
  private readonly addSample: AddSample;
  private checkpointRevision = 0;
  private pendingSnapshot: { seq: number; text: string } | undefined;
  private writtenSeq: number;
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private writing: Promise<void> = Promise.resolve();
  /** The lease's end: past it the partition may be someone else's, so consuming stops. */
  validUntilMs = Infinity;
  consumed = 0;

  private constructor(
    readonly partition: number,
    private readonly checkpointKey: string,
    private readonly checkpoints: CheckpointStore,
    private readonly output: PartitionOutput,
    state: PartitionOperatorState | undefined,
    revision: number,
    settings: WindowSettings,
  ) {
    this.operator = createPartitionOperator(settings, state);
    this.addSample = addSampleFor(this.operator, partition, output);
    this.checkpointRevision = revision;
    this.writtenSeq = this.operator.operator.seq;
  }

  /** Restores the partition's checkpoint and starts replaying after its position. */
  static async start(
    js: JetStreamClient,
    checkpoints: CheckpointStore,
    checkpointKey: string,
    partition: number,
    windows: WindowSettings,
    output: PartitionOutput,
  ): Promise<PartitionConsumer> {
    const { state, revision } = await checkpoints.read(checkpointKey);
    const owner = new PartitionConsumer(
      partition,
      checkpointKey,
      checkpoints,
      output,
      state,
      revision,
      windows,
    );
    const consumer = await js.consumers.get(INPUT_STREAM, {
      filterSubjects: partitionSubject(partition),
      opt_start_seq: owner.operator.operator.seq + 1,
    });
    owner.messages = await consumer.consume({ max_messages: 2000 });
    void owner.run();
    return owner;
  }

  /** Stream position the operator has folded in. */
  get seq(): number {
    return this.operator.operator.seq;
  }

  /** Position the last written checkpoint covers. */
  get checkpointedSeq(): number {
    return this.writtenSeq;
  }

  /** Writes the snapshot taken at the previous call, then takes a new one. */
  async checkpoint(): Promise<void> {
    const due = this.pendingSnapshot;
    if (this.operator.operator.seq !== (due?.seq ?? this.writtenSeq)) {
      this.pendingSnapshot = {
        seq: this.operator.operator.seq,
        text: JSON.stringify(this.operator.operator.toJSON()),
      };
    } else if (due) {
      this.pendingSnapshot = undefined;
    }
    if (due) await this.write(due);
  }

  /** Stops consuming; `final` writes the last snapshot taken (not the newest state). */
  async stop(final: boolean): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    if (final && this.pendingSnapshot) {
      const due = this.pendingSnapshot;
      this.pendingSnapshot = undefined;
      await this.write(due);
    }
  }

  /** Checkpoint writes of one partition in order: each needs the revision of the one before. */
  private write(snapshot: { seq: number; text: string }): Promise<void> {
    const next = this.writing.then(() => this.writeNow(snapshot));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async writeNow(snapshot: { seq: number; text: string }): Promise<void> {
    if (snapshot.seq <= this.writtenSeq) return;
    try {
      // Compare-and-set on the revision we restored or last wrote: a worker that lost
      // the partition cannot overwrite the new owner's checkpoint.
      this.checkpointRevision = await this.checkpoints.write(
        this.checkpointKey,
        snapshot.seq,
        snapshot.text,
        this.checkpointRevision,
      );
      this.writtenSeq = snapshot.seq;
    } catch (err) {
      if (isWrongRevision(err)) this.output.lost(this.partition, err as Error);
      throw err;
    }
  }

  /** Consumes until stopped; a consumer that ends on its own gives the partition up, to be claimed again. */
  private async run(): Promise<void> {
    let why = 'the consumer ended';
    try {
      await this.consumeAll();
    } catch (err) {
      why = `the consumer failed: ${(err as Error).message}`;
    }
    if (!this.stopped) this.output.lost(this.partition, new Error(why));
  }

  private async consumeAll(): Promise<void> {
    const messages = this.messages;
    if (!messages) return;
    for await (const m of messages) {
      // Buffered messages resolve as microtasks: without a turn of the event loop now and
      // then, a backlog starves the lease renewals (timers) and the client's heartbeats.
      if (++this.consumed % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      if (this.stopped) break;
      if (Date.now() >= this.validUntilMs) {
        this.stop(false).catch(() => undefined);
        this.output.lost(this.partition, new Error('lease ran out before it was renewed'));
        break;
      }
      const seq = m.seq;
      const parsed = parseStreamSample(m.subject, m.data, seq);
      if (!parsed.ok) {
        this.operator.operator.skip(seq);
        this.output.bad(this.partition, seq, m.subject, parsed.reason);
        continue;
      }
      const sample = parsed.sample;
      this.output.sample(this.partition, sample);
      this.fold(`${sample.stream}/${sample.key}`, sample, seq, m.subject);
    }
  }

  private fold(key: string, sample: StreamSample, seq: number, subject: string): void {
    const refusal = this.addSample(key, sample.timeMs, sample.value, seq);
    if (refusal !== undefined) this.output.bad(this.partition, seq, subject, refusal);
  }
}

/** Adds one sample to the partition's operator; returns why it was refused, if it was. */
type AddSample = (key: string, timeMs: number, value: number, seq: number) => string | undefined;

function addTo<R>(operator: PartitionOperator<R>, emit: (results: R[]) => void): AddSample {
  return (key, timeMs, value, seq) => {
    const added = operator.add(key, timeMs, value, seq);
    if (!added.ok) return added.reason;
    if (added.results.length > 0) emit(added.results);
    return undefined;
  };
}

/** The operator's results go to the output method of its kind. */
function addSampleFor(
  { kind, operator }: AnyPartitionOperator,
  partition: number,
  output: PartitionOutput,
): AddSample {
  switch (kind) {
    case 'moving-window':
      return addTo(operator, (results) => output.windows(partition, results));
    case 'cov-resample':
      return addTo(operator, (results) => output.buckets?.(partition, results));
    case 'turbine-stats':
      return addTo(operator, (results) => output.turbineStats?.(partition, results));
    case 'anomaly-stream':
      return addTo(operator, (results) => output.anomalies?.(partition, results));
    case 'forecaster':
      return addTo(operator, (results) => output.forecasts?.(partition, results));
  }
}
