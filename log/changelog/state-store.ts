/**
 * The StateStore port: the durable state of one stateful actor kind of one application,
 * divided by input partition, the way Kafka Streams keeps a state store per task.
 *
 * Implementations: `in-memory-state-store.ts` (tests, WORKERS=0 without durability) and
 * `changelog-store.ts` (a compacted changelog topic on the Log port: embedded or Kafka). Both
 * pass the suite in `test/log/changelog/state-store.contract.ts`.
 *
 * The node's cycle:
 * - processing: `put` / `delete` after each state change; cheap, buffered, latest value per key;
 * - before committing input offsets: `await flush()`, so committed offsets never run ahead of
 *   the state they produced;
 * - on assignment: `restorePartition(p)` per assigned partition; each partition resumes with its
 *   `states` map when its own promise resolves, without waiting for the others;
 * - on revocation: `await flush(revoked)`, then drop the partitions' actors.
 */

/** How a state becomes bytes and back; either may throw on bad input. */
export interface StateCodec {
  encode(state: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/** A changelog record that did not decode: it is skipped, its key is not restored. */
export type CorruptRecordHandler = (
  key: string | null,
  partition: number,
  offset: number,
  error: unknown,
) => void;

export type RestoredEntryHandler = (key: string, state: unknown) => void;

export interface PartitionRestore {
  readonly partition: number;
  /** records read, including overwritten values and tombstones */
  readonly records: number;
  /** live keys handed to `onEntry` */
  readonly keys: number;
  /** records skipped because they did not decode (or had no key) */
  readonly corrupt: number;
  /** value bytes read */
  readonly bytes: number;
  /** the end offset read up to (exclusive), as of the start of the restore */
  readonly endOffset: number;
  readonly millis: number;
}

/** A restored partition: its live keys and their latest states, plus how the restore went. */
export interface RestoredPartition extends PartitionRestore {
  readonly states: Map<string, unknown>;
}

export interface StateStoreStats {
  readonly recordsWritten: number;
  readonly tombstonesWritten: number;
  readonly bytesWritten: number;
  readonly flushes: number;
  /** puts and deletes that a later put or delete of the same key replaced before a flush */
  readonly overwrittenInBuffer: number;
  readonly bufferedKeys: number;
  readonly corruptRecords: number;
  /** the last restore of each partition */
  readonly restores: readonly PartitionRestore[];
}

export interface StateStore {
  readonly partitions: number;
  /**
   * Buffer the latest state of `key`, whose input partition is `partition`. Encodes at once:
   * a state that does not encode throws SCHEMA_VIOLATION naming the key, and nothing is buffered.
   */
  put(partition: number, key: string, state: unknown): void;
  /** buffer a delete (a tombstone in the changelog) */
  delete(partition: number, key: string): void;
  /**
   * Write everything buffered (of the given partitions, or all) in one batched append; durable
   * when the promise resolves. Flushes run one after another; a failed flush keeps its records
   * buffered (under any newer values) and rejects.
   */
  flush(partitions?: readonly number[]): Promise<void>;
  /**
   * Restore one partition: the live keys with their latest states (also handed to `onEntry`,
   * once per key, if given). Partitions restore independently; a store bounds how many run at once.
   */
  restorePartition(partition: number, onEntry?: RestoredEntryHandler): Promise<RestoredPartition>;
  /** Restore several partitions (bounded concurrency) into one map, key -> state. */
  restore(partitions: readonly number[], onEntry?: RestoredEntryHandler): Promise<Map<string, unknown>>;
  stats(): StateStoreStats;
}
