/**
 * What a table sink writes to: one small interface, so the time-series store and the Delta lake
 * are fed by the same loop (`sinks/table-sink.ts`).
 *
 * The contract a target keeps: `write` resolves only when the batch is durable in the target,
 * and writing the same batch again (a replay after a crash, the offsets of a batch whose commit
 * did not happen) leaves the target as if it was written once. The time-series store does it by
 * row identity (DEDUP UPSERT KEYS); a Delta target can do it with its `txn` action, using the
 * offsets the batch carries as the transaction's version.
 */
export interface SinkOffsetRange {
  readonly topic: string;
  readonly partition: number;
  /** first and last offset of the batch's records in this partition, both included */
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export interface SinkBatch<Row> {
  readonly rows: readonly Row[];
  /**
   * the log positions the batch covers, one range per topic-partition in the batch; a record that
   * gave no row (dead-lettered, a tombstone) is covered too, since its offset is committed with it
   */
  readonly offsets: readonly SinkOffsetRange[];
}

export interface SinkTarget<Row> {
  write(batch: SinkBatch<Row>): Promise<void>;
}
