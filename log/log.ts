/**
 * The Log port: a durable, partitioned, keyed event log shaped like Kafka.
 *
 * Adapters: `log/embedded/` (bun:sqlite, the zero-setup default) and `log/kafka/`
 * (@platformatic/kafka). Both pass the same contract suite in `test/log/log.contract.ts`.
 *
 * Semantics every adapter keeps:
 * - A record with a key goes to `murmur2(key) mod partitions` (Kafka's default partitioner,
 *   `messages/murmur2.ts`), unless the producer names a partition. A keyless record goes
 *   round-robin.
 * - Offsets are per partition, start at 0 and grow by one per record (compaction may leave gaps).
 * - `append` resolves only when the records are durable (fsync'd WAL / acks=all).
 * - A consumer group divides the partitions of its topics among its members; offsets are
 *   committed explicitly, and only after the records' effects are flushed (at-least-once in,
 *   effectively-once out with idempotent sinks).
 */

/** What a topic is configured to keep (Kafka's cleanup.policy and retention.ms). */
export interface TopicConfig {
  readonly compacted: boolean;
  /** undefined: no time retention (a compacted topic) */
  readonly retentionMs: number | undefined;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** compacted topics keep the latest record per key (changelogs, reference tables, _schemas) */
  readonly compacted?: boolean;
  /**
   * delete records older than this; undefined: the log's retention policy (LOG_RETENTION_MS, a
   * per-topic override, or 7 days). Compacted topics have no time retention.
   */
  readonly retentionMs?: number;
}

export interface Header {
  readonly key: string;
  readonly value: string;
}

export interface ProducerRecord {
  readonly topic: string;
  readonly key: string | null;
  /** null is a tombstone on a compacted topic */
  readonly value: Uint8Array | null;
  readonly partition?: number;
  /** event time in epoch ms; defaults to the append time */
  readonly timestamp?: number;
  readonly headers?: readonly Header[];
  /**
   * The producer hands the value's bytes over: nothing changes them after the append, so a log
   * in this process may keep this very array instead of a copy (the embedded log's tail cache),
   * and a codec that remembers what it encoded into it knows what its consumers will read.
   * Without it a log copies what it keeps (a producer may reuse its buffer). Kafka ignores it.
   */
  readonly handedOver?: boolean;
}

export interface LogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Uint8Array | null;
  readonly timestamp: number;
  readonly headers: readonly Header[];
}

export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Offset to commit = the offset of the next record to read (Kafka's convention). */
export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface RebalanceListener {
  /** called before partitions are taken away: flush their effects and commit */
  onRevoked?(partitions: readonly TopicPartition[]): Promise<void> | void;
  /** called when partitions are given: restore their state before records flow */
  onAssigned?(partitions: readonly TopicPartition[]): Promise<void> | void;
  /**
   * called instead of onRevoked when the group already gave the partitions to another member
   * (this one was fenced: its session expired): nothing of theirs may be flushed or committed
   * any more, their state is the next owner's (Kafka's onPartitionsLost); default: onRevoked
   */
  onLost?(partitions: readonly TopicPartition[]): Promise<void> | void;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** where to start when the group has no committed offset: default "earliest" */
  readonly startFrom?: "earliest" | "latest";
  readonly rebalance?: RebalanceListener;
  /** a stable member name, for logs and the API */
  readonly memberId?: string;
}

export interface PollOptions {
  readonly maxRecords?: number;
  /** how long to wait for records when none are ready; 0 returns at once */
  readonly timeoutMs?: number;
}

export interface Consumer {
  /** the partitions this member owns now */
  assignment(): readonly TopicPartition[];
  /** the next batch from the owned partitions, in offset order within each partition */
  poll(options?: PollOptions): Promise<LogRecord[]>;
  /** commit the next offset to read for each partition; durable when the promise resolves */
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** the group's committed offset for a partition, or undefined */
  committed(partition: TopicPartition): Promise<number | undefined>;
  /** move the read position of an owned partition (replay) */
  seek(position: RecordPosition): void;
  /**
   * How far this member is behind the end of an owned partition: the offsets between the next
   * record poll() hands out and the partition's end as the last fetch saw it (the high
   * watermark, or the last stable offset when reading committed records only). 0 means read to
   * its end; undefined when not known (no fetch has answered for it yet, or it is not owned).
   * Kafka's `Consumer.currentLag` (KIP-695): no request is sent, so it is cheap to ask often.
   */
  currentLag(partition: TopicPartition): number | undefined;
  close(): Promise<void>;
}

export interface ReadOptions {
  readonly fromOffset?: number;
  readonly maxRecords?: number;
}

export interface Log {
  /**
   * create the topic if missing, with its cleanup policy and retention (see log/retention.ts);
   * an existing topic keeps its partitions, but gets the cleanup policy and a retention if it
   * has none of its own
   */
  createTopic(spec: TopicSpec): Promise<void>;
  /** the topic's cleanup policy and retention as the backend holds them, or undefined if missing */
  topicConfig(topic: string): Promise<TopicConfig | undefined>;
  /** partitions of a topic, or undefined if it does not exist */
  partitions(topic: string): Promise<number | undefined>;
  /** durable append; results in the same order as the records */
  append(records: readonly ProducerRecord[]): Promise<RecordPosition[]>;
  /** read one partition from an offset without a group (replay, changelog restore, tests) */
  read(partition: TopicPartition, options?: ReadOptions): Promise<LogRecord[]>;
  /** the offset the next appended record will get (Kafka's high watermark) */
  endOffset(partition: TopicPartition): Promise<number>;
  consumer(options: ConsumerOptions): Consumer;
  /**
   * A group's committed offsets for a topic, by partition, read without joining the group
   * (Kafka's OffsetFetch as the admin client does it): lag, failover checks, tests.
   */
  groupOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}
