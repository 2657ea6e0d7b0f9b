import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { Topics } from "../../messages/topics.ts";
import type { Log, LogRecord, ProducerRecord } from "../log.ts";
import { RestoreSlots } from "./restore-slots.ts";
import { decodeLatestInPlace } from "./restored-entries.ts";
import { checkPartition, encodeState, jsonStateCodec } from "./state-codec.ts";
import type {
  CorruptRecordHandler,
  PartitionRestore,
  RestoredEntryHandler,
  RestoredPartition,
  StateCodec,
  StateStore,
  StateStoreStats,
} from "./state-store.ts";
import { type BufferedPartition, checkKey, WriteBuffer } from "./write-buffer.ts";

export const DEFAULT_RESTORE_BATCH_RECORDS = 100_000;

export interface ChangelogStoreOptions {
  readonly log: Log;
  readonly applicationId: string;
  /** the actor kind whose state this is (`window`, `sensor`, `drift`) */
  readonly kind: string;
  /** the partition count of the input topic: changelog partition p holds input partition p's keys */
  readonly partitions: number;
  readonly codec?: StateCodec;
  readonly onCorrupt?: CorruptRecordHandler;
  /**
   * records per `log.read` during restore; default 100,000. Each read costs a round trip for the
   * end offset and fetches of its own, and a batch that straddles two reads is fetched and
   * decompressed twice: at 1M keys on Kafka, reads of 100,000 took 17-21 % less CPU than 20,000
   * (bench/RESULTS.md, failover restore). A read is at most this many records beyond what the
   * restored map itself holds.
   */
  readonly restoreBatchRecords?: number;
  /** partitions restored at once; default 4 */
  readonly restoreConcurrency?: number;
  /** records per `log.append` during a flush (the chunks go out together); default 10,000 */
  readonly flushBatchRecords?: number;
}

/**
 * A state store backed by a compacted changelog topic, Kafka Streams' model
 * (KIP-"Kafka Streams state stores": a changelog per store, one partition per task):
 *
 * - topic `Topics.changelogOf(applicationId, kind)`, compacted, with the input topic's partition
 *   count; a key's state goes to the changelog partition equal to its input partition, named
 *   explicitly, never re-hashed, so restoring input partition p reads changelog partition p only;
 * - writes are buffered latest-per-key and appended in one batch by `flush`, which the node runs
 *   before it commits input offsets;
 * - restore reads a partition from offset 0 to its end offset as of the start of the restore,
 *   keeps the latest record per key (tombstones delete) and decodes only those. Unlike Kafka
 *   Streams, a partition's restore blocks nothing but that partition: the node resumes each
 *   partition as its own restore resolves.
 */
export class ChangelogStore implements StateStore {
  readonly topic: string;
  readonly partitions: number;
  private readonly log: Log;
  private readonly codec: StateCodec;
  private readonly onCorrupt: CorruptRecordHandler;
  private readonly restoreBatchRecords: number;
  private readonly flushBatchRecords: number;
  private readonly slots: RestoreSlots;
  private readonly buffer: WriteBuffer;
  private flushing: Promise<void> = Promise.resolve();
  private recordsWritten = 0;
  private tombstonesWritten = 0;
  private bytesWritten = 0;
  private flushes = 0;
  private corruptRecords = 0;
  private readonly restores = new Map<number, PartitionRestore>();

  /** Create (or find) the changelog topic and check its partition count against the input's. */
  static async open(options: ChangelogStoreOptions): Promise<ChangelogStore> {
    const topic = Topics.changelogOf(options.applicationId, options.kind);
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `changelog ${topic} needs at least one partition`, {
        details: { topic, partitions: options.partitions },
      });
    }
    await options.log.createTopic({ name: topic, partitions: options.partitions, compacted: true });
    const found = await options.log.partitions(topic);
    if (found !== options.partitions) {
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `changelog ${topic} has ${found} partitions but the input topic has ${options.partitions}: state would be restored to the wrong partitions`,
        { details: { topic, found, expected: options.partitions } },
      );
    }
    return new ChangelogStore(options, topic);
  }

  private constructor(options: ChangelogStoreOptions, topic: string) {
    this.topic = topic;
    this.partitions = options.partitions;
    this.log = options.log;
    this.codec = options.codec ?? jsonStateCodec;
    this.onCorrupt = options.onCorrupt ?? (() => undefined);
    this.restoreBatchRecords = Math.max(1, options.restoreBatchRecords ?? DEFAULT_RESTORE_BATCH_RECORDS);
    this.flushBatchRecords = Math.max(1, options.flushBatchRecords ?? 10_000);
    this.slots = new RestoreSlots(Math.max(1, options.restoreConcurrency ?? 4));
    this.buffer = new WriteBuffer(options.partitions);
  }

  put(partition: number, key: string, state: unknown): void {
    checkPartition(partition, this.partitions, this.topic);
    checkKey(key);
    this.buffer.set(partition, key, encodeState(this.codec, partition, key, state));
  }

  delete(partition: number, key: string): void {
    checkPartition(partition, this.partitions, this.topic);
    checkKey(key);
    this.buffer.set(partition, key, null);
  }

  /** forget what is buffered for these partitions, unwritten (they were lost to another owner) */
  discard(partitions: readonly number[]): void {
    for (const partition of partitions) checkPartition(partition, this.partitions, this.topic);
    this.buffer.take(partitions);
  }

  async flush(partitions?: readonly number[]): Promise<void> {
    for (const partition of partitions ?? []) checkPartition(partition, this.partitions, this.topic);
    // one flush after another: a key's records reach the changelog in the order they were flushed
    const next = this.flushing.then(
      () => this.writeBuffered(partitions),
      () => this.writeBuffered(partitions),
    );
    this.flushing = next;
    await next;
  }

  async restorePartition(partition: number, onEntry?: RestoredEntryHandler): Promise<RestoredPartition> {
    checkPartition(partition, this.partitions, this.topic);
    return this.slots.run(() => this.readPartition(partition, onEntry));
  }

  async restore(
    partitions: readonly number[],
    onEntry?: RestoredEntryHandler,
  ): Promise<Map<string, unknown>> {
    const restored = await Promise.all(
      partitions.map((partition) => this.restorePartition(partition, onEntry)),
    );
    if (restored.length === 1) return restored[0]!.states;
    const states = new Map<string, unknown>();
    for (const { states: partitionStates } of restored)
      for (const [key, state] of partitionStates) states.set(key, state);
    return states;
  }

  stats(): StateStoreStats {
    return {
      recordsWritten: this.recordsWritten,
      tombstonesWritten: this.tombstonesWritten,
      bytesWritten: this.bytesWritten,
      flushes: this.flushes,
      overwrittenInBuffer: this.buffer.overwritten,
      bufferedKeys: this.buffer.size,
      corruptRecords: this.corruptRecords,
      restores: [...this.restores.values()].sort((a, b) => a.partition - b.partition),
    };
  }

  private async writeBuffered(partitions: readonly number[] | undefined): Promise<void> {
    const taken = this.buffer.take(partitions);
    if (taken.length === 0) return;
    const chunks = this.toChunks(taken);
    try {
      await Promise.all(chunks.map((chunk) => this.log.append(chunk)));
    } catch (error) {
      // chunks that did land are written again next time: latest-per-key makes that harmless
      this.buffer.putBack(taken);
      throw error;
    }
    this.flushes++;
    for (const chunk of chunks) {
      for (const record of chunk) {
        if (record.value === null) this.tombstonesWritten++;
        else this.bytesWritten += record.value.byteLength;
      }
      this.recordsWritten += chunk.length;
    }
  }

  private toChunks(taken: readonly BufferedPartition[]): ProducerRecord[][] {
    const chunks: ProducerRecord[][] = [];
    let chunk: ProducerRecord[] = [];
    for (const { partition, entries } of taken) {
      for (const [key, value] of entries) {
        chunk.push({ topic: this.topic, partition, key, value });
        if (chunk.length === this.flushBatchRecords) {
          chunks.push(chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  private async readPartition(partition: number, onEntry?: RestoredEntryHandler): Promise<RestoredPartition> {
    const started = performance.now();
    const position = { topic: this.topic, partition };
    const endOffset = await this.log.endOffset(position);
    // key -> latest record while reading, then key -> state (decodeLatestInPlace)
    const latest = new Map<string, unknown>();
    let records = 0;
    let bytes = 0;
    let corrupt = 0;
    let offset = 0;
    while (offset < endOffset) {
      const batch: LogRecord[] = await this.log.read(position, {
        fromOffset: offset,
        maxRecords: this.restoreBatchRecords,
      });
      if (batch.length === 0) break;
      for (const record of batch) {
        if (record.offset >= endOffset) break;
        records++;
        if (record.key === null) {
          corrupt++;
          this.onCorrupt(null, partition, record.offset, keylessRecord(this.topic, record.offset));
          continue;
        }
        if (record.value !== null) bytes += record.value.byteLength;
        latest.set(record.key, record);
      }
      offset = batch[batch.length - 1]!.offset + 1;
    }
    const [keys, undecodable] = decodeLatestInPlace(partition, latest, this.codec, this.onCorrupt, onEntry);
    corrupt += undecodable;
    this.corruptRecords += corrupt;
    const restored: PartitionRestore = {
      partition,
      records,
      keys,
      corrupt,
      bytes,
      endOffset,
      millis: performance.now() - started,
    };
    this.restores.set(partition, restored);
    return { ...restored, states: latest };
  }
}

function keylessRecord(topic: string, offset: number): PlatformError {
  return new PlatformError(ErrorCodes.DECODE_FAILED, `changelog ${topic} has a record without a key`, {
    details: { topic, offset },
  });
}
