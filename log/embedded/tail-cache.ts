import type { LogRecord } from "../log.ts";

export interface TailCacheLimits {
  /** newest records kept per partition */
  readonly recordsPerPartition: number;
  /** bytes of values and keys kept over all partitions */
  readonly totalBytes: number;
}

interface Tail {
  /** offset of records[0]; the records are contiguous in offset */
  first: number;
  records: LogRecord[];
  bytes: number;
}

const DEFAULT_LIMITS: TailCacheLimits = { recordsPerPartition: 4096, totalBytes: 32 * 1024 * 1024 };

/**
 * The newest records of each partition as this connection appended them, the page cache of the
 * embedded log: a node runs a dozen consumer groups over the same topics (the engine, the time
 * series and lake sinks, features, models, the aggregates), and each read every record again
 * from SQLite. Consumers near the end of a partition, which is where a node's groups are, now
 * share one copy of each record, read from memory.
 *
 * A tail holds only contiguous offsets: a record appended by another connection (another
 * process sharing the file) leaves a gap, and the tail starts again at this connection's next
 * append; what is not in a tail is read from SQLite. Maintenance (compaction, retention) clears
 * every tail, so a consumer never reads from memory a record the log has removed. Memory is
 * bounded by records per partition and by bytes over all partitions.
 */
export class TailCache {
  private readonly tails = new Map<string, Tail>();
  private bytes = 0;

  constructor(private readonly limits: TailCacheLimits = DEFAULT_LIMITS) {}

  /** a record this connection committed, in offset order within its partition */
  appended(slot: string, record: LogRecord): void {
    let tail = this.tails.get(slot);
    if (tail === undefined) {
      tail = { first: record.offset, records: [], bytes: 0 };
      this.tails.set(slot, tail);
    } else if (tail.first + tail.records.length !== record.offset) {
      // another connection wrote the offsets between: start this tail again here
      this.bytes -= tail.bytes;
      tail.first = record.offset;
      tail.records = [];
      tail.bytes = 0;
    }
    const size = sizeOf(record);
    tail.records.push(record);
    tail.bytes += size;
    this.bytes += size;
    if (tail.records.length > this.limits.recordsPerPartition)
      this.dropOldest(tail, tail.records.length >> 1);
    if (this.bytes > this.limits.totalBytes) {
      this.dropOldest(tail, tail.records.length >> 1);
      // still over: the other partitions' tails hold it; start every tail afresh
      if (this.bytes > this.limits.totalBytes) this.clear();
    }
  }

  /**
   * up to maxRecords from `fromOffset` on, or undefined when the tail does not hold
   * `fromOffset` (read SQLite instead)
   */
  read(slot: string, fromOffset: number, maxRecords: number): LogRecord[] | undefined {
    const tail = this.tails.get(slot);
    if (tail === undefined) return undefined;
    const index = fromOffset - tail.first;
    if (index < 0 || index >= tail.records.length) return undefined;
    return tail.records.slice(index, index + maxRecords);
  }

  clear(): void {
    this.tails.clear();
    this.bytes = 0;
  }

  /** bytes held now (for tests and metrics) */
  heldBytes(): number {
    return this.bytes;
  }

  private dropOldest(tail: Tail, count: number): void {
    for (let i = 0; i < count; i++) {
      const size = sizeOf(tail.records[i]!);
      tail.bytes -= size;
      this.bytes -= size;
    }
    tail.records = tail.records.slice(count);
    tail.first += count;
  }
}

/** value bytes plus two bytes per key character and a fixed overhead for the record object */
function sizeOf(record: LogRecord): number {
  return (record.value?.byteLength ?? 0) + 2 * (record.key?.length ?? 0) + 64;
}
