import type { TopicPartition } from "../log/log.ts";
import type { SinkBatch, SinkOffsetRange } from "./sink-target.ts";

interface Part<Row> {
  readonly tp: TopicPartition;
  readonly firstOffset: number;
  lastOffset: number;
  records: number;
  rows: Row[];
}

/**
 * The records a sink polled and has not yet written: their rows in log order and, per
 * topic-partition, the offsets they cover. Partitions taken away by a rebalance are dropped
 * (their next owner reads them again from the committed offset).
 */
export class PendingBatch<Row> {
  private parts = new Map<string, Part<Row>>();
  private count = 0;
  private last: Part<Row> | undefined;
  /** when the first record of this batch arrived, for the linger */
  startedAt = 0;

  /** records added (with or without rows) */
  get records(): number {
    return this.count;
  }

  add(topic: string, partition: number, offset: number, rows: readonly Row[], now: number): void {
    if (this.count === 0) this.startedAt = now;
    this.count++;
    // a poll hands records over in runs of one partition: the last part is usually the one
    let part = this.last;
    if (part === undefined || part.tp.partition !== partition || part.tp.topic !== topic) {
      const id = `${topic}\u0000${partition}`;
      part = this.parts.get(id);
      if (!part) {
        part = { tp: { topic, partition }, firstOffset: offset, lastOffset: offset, records: 0, rows: [] };
        this.parts.set(id, part);
      }
      this.last = part;
    }
    part.lastOffset = offset;
    part.records++;
    for (const row of rows) part.rows.push(row);
  }

  /** forget what was polled from these partitions; returns how many records were dropped */
  drop(partitions: readonly TopicPartition[]): number {
    let dropped = 0;
    for (const { topic, partition } of partitions) {
      const id = `${topic}\u0000${partition}`;
      const part = this.parts.get(id);
      if (!part) continue;
      dropped += part.records;
      this.parts.delete(id);
      if (this.last === part) this.last = undefined;
    }
    this.count -= dropped;
    return dropped;
  }

  /** the batch to write, and empties this one */
  take(): SinkBatch<Row> {
    const offsets: SinkOffsetRange[] = [];
    const rows: Row[] = [];
    for (const part of this.parts.values()) {
      offsets.push({ ...part.tp, firstOffset: part.firstOffset, lastOffset: part.lastOffset });
      for (const row of part.rows) rows.push(row);
    }
    this.parts = new Map();
    this.last = undefined;
    this.count = 0;
    return { rows, offsets };
  }
}
