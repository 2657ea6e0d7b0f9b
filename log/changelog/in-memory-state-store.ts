import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { decodeLatestInPlace, type LatestRecord } from "./restored-entries.ts";
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
import { checkKey, WriteBuffer } from "./write-buffer.ts";

export interface InMemoryStateStoreOptions {
  readonly partitions: number;
  readonly codec?: StateCodec;
  readonly onCorrupt?: CorruptRecordHandler;
  /** the "durable" side to share with a reopened store; a fresh one by default */
  readonly backing?: InMemoryBacking;
}

/** What flushed states an in-memory store keeps: per partition, key -> latest record. */
export class InMemoryBacking {
  readonly partitions = new Map<number, Map<string, LatestRecord>>();
  private nextOffset = 0;

  write(partition: number, key: string, value: Uint8Array | null): void {
    let entries = this.partitions.get(partition);
    if (entries === undefined) {
      entries = new Map();
      this.partitions.set(partition, entries);
    }
    // a delete keeps its tombstone, as a compacted log does until delete.retention.ms
    entries.set(key, { offset: this.nextOffset++, value });
  }
}

/**
 * The StateStore without a log: flushed states live in process memory (an `InMemoryBacking`),
 * so they survive a new store over the same backing but not the process. For tests and for a
 * node without durability (WORKERS=0, no changelog). States are encoded like the changelog
 * store's, so a state that would not survive the changelog fails here too.
 */
export class InMemoryStateStore implements StateStore {
  readonly partitions: number;
  readonly backing: InMemoryBacking;
  private readonly codec: StateCodec;
  private readonly onCorrupt: CorruptRecordHandler;
  private readonly buffer: WriteBuffer;
  private recordsWritten = 0;
  private tombstonesWritten = 0;
  private bytesWritten = 0;
  private flushes = 0;
  private corruptRecords = 0;
  private readonly restores = new Map<number, PartitionRestore>();

  constructor(options: InMemoryStateStoreOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        "an in-memory state store needs at least one partition",
        {
          details: { partitions: options.partitions },
        },
      );
    }
    this.partitions = options.partitions;
    this.codec = options.codec ?? jsonStateCodec;
    this.onCorrupt = options.onCorrupt ?? (() => undefined);
    this.backing = options.backing ?? new InMemoryBacking();
    this.buffer = new WriteBuffer(options.partitions);
  }

  put(partition: number, key: string, state: unknown): void {
    checkPartition(partition, this.partitions, "an in-memory state store");
    checkKey(key);
    this.buffer.set(partition, key, encodeState(this.codec, partition, key, state));
  }

  delete(partition: number, key: string): void {
    checkPartition(partition, this.partitions, "an in-memory state store");
    checkKey(key);
    this.buffer.set(partition, key, null);
  }

  async flush(partitions?: readonly number[]): Promise<void> {
    for (const partition of partitions ?? [])
      checkPartition(partition, this.partitions, "an in-memory state store");
    const taken = this.buffer.take(partitions);
    if (taken.length === 0) return;
    for (const { partition, entries } of taken) {
      for (const [key, value] of entries) {
        this.backing.write(partition, key, value);
        this.recordsWritten++;
        if (value === null) this.tombstonesWritten++;
        else this.bytesWritten += value.byteLength;
      }
    }
    this.flushes++;
  }

  async restorePartition(partition: number, onEntry?: RestoredEntryHandler): Promise<RestoredPartition> {
    checkPartition(partition, this.partitions, "an in-memory state store");
    const started = performance.now();
    const latest = this.backing.partitions.get(partition) ?? new Map<string, LatestRecord>();
    let bytes = 0;
    let endOffset = 0;
    for (const record of latest.values()) {
      bytes += record.value?.byteLength ?? 0;
      endOffset = Math.max(endOffset, record.offset + 1);
    }
    const states = new Map<string, unknown>(latest);
    const [keys, corrupt] = decodeLatestInPlace(partition, states, this.codec, this.onCorrupt, onEntry);
    this.corruptRecords += corrupt;
    const restored: PartitionRestore = {
      partition,
      records: latest.size,
      keys,
      corrupt,
      bytes,
      endOffset,
      millis: performance.now() - started,
    };
    this.restores.set(partition, restored);
    return { ...restored, states };
  }

  async restore(
    partitions: readonly number[],
    onEntry?: RestoredEntryHandler,
  ): Promise<Map<string, unknown>> {
    const states = new Map<string, unknown>();
    for (const partition of partitions) {
      const restored = await this.restorePartition(partition, onEntry);
      for (const [key, state] of restored.states) states.set(key, state);
    }
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
}
