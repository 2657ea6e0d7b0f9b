import type { Database, Statement } from "bun:sqlite";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { Header, LogRecord, RecordPosition, TopicConfig, TopicSpec } from "../log.ts";
import { DataVersion } from "./data-version.ts";
import { TailCache, type TailCacheLimits } from "./tail-cache.ts";

export interface StoredTopic {
  readonly id: number;
  readonly name: string;
  readonly partitions: number;
  readonly compacted: boolean;
  readonly retentionMs: number | undefined;
}

/** A record whose partition is already chosen, ready to be written. */
export interface PlacedRecord {
  readonly topic: StoredTopic;
  readonly partition: number;
  readonly key: string | null;
  readonly value: Uint8Array | null;
  readonly timestamp: number;
  readonly headers: string | null;
  /**
   * the same headers as the producer gave them, for the tail cache: decoding `headers` again was
   * a JSON.parse per appended record (every raw reading carries one)
   */
  readonly headerList?: readonly Header[];
  /** the producer's bytes may be kept as they are (ProducerRecord.handedOver) */
  readonly handedOver?: boolean;
}

interface TopicRow {
  id: number;
  name: string;
  partitions: number;
  compacted: number;
  retention_ms: number | null;
}

interface RecordRow {
  offset: number;
  key: string | null;
  value: Uint8Array | null;
  timestamp: number;
  headers: string | null;
}

/**
 * Topics, offsets and records in SQLite, through statements prepared once. Topic metadata is
 * cached: a topic never changes its partition count once created, and another process's new
 * topic is found by looking again on a cache miss.
 *
 * End offsets are known in memory too, so a consumer asks SQLite for records only where there
 * are some: a node's dozen consumer groups, each woken by every append and polling every owned
 * partition, spent most of the main thread on reads that found nothing. Appends through this
 * store update the known ends when they commit; appends by other connections (other processes
 * sharing the file) are noticed through `PRAGMA data_version`, which changes exactly when
 * another connection has committed (https://www.sqlite.org/pragma.html#pragma_data_version),
 * and then every end is read again in one query.
 */
export class RecordStore {
  private readonly topics = new Map<string, StoredTopic>();
  /** next offset by topic id, indexed by partition, as of this connection's last look */
  private readonly knownEnds = new Map<number, number[]>();
  private seenDataVersion = -1;
  private readonly tails: TailCache;
  private readonly selectAllNextOffsets: Statement<
    { topic_id: number; partition: number; next_offset: number },
    []
  >;
  private readonly selectTopic: Statement<TopicRow, [string]>;
  private readonly selectTopics: Statement<TopicRow, []>;
  private readonly insertTopic: Statement<unknown, [string, number, number, number | null]>;
  private readonly updateTopicConfig: Statement<unknown, [number, number | null, number]>;
  private readonly insertPartition: Statement<unknown, [number, number]>;
  private readonly selectNextOffset: Statement<{ next_offset: number }, [number, number]>;
  private readonly updateNextOffset: Statement<unknown, [number, number, number]>;
  private readonly insertRecord: Statement<
    unknown,
    [number, number, number, string | null, Uint8Array | null, number, string | null]
  >;
  private readonly selectRecords: Statement<RecordRow, [number, number, number, number]>;
  private readonly appendTransaction: (records: readonly PlacedRecord[]) => RecordPosition[];

  constructor(
    private readonly db: Database,
    tailLimits?: TailCacheLimits,
    private readonly dataVersion = new DataVersion(db),
  ) {
    this.tails = new TailCache(tailLimits);
    this.selectTopic = db.query("SELECT * FROM topics WHERE name = ?");
    this.selectTopics = db.query("SELECT * FROM topics ORDER BY name");
    this.insertTopic = db.query(
      "INSERT INTO topics (name, partitions, compacted, retention_ms) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
    );
    this.updateTopicConfig = db.query("UPDATE topics SET compacted = ?, retention_ms = ? WHERE id = ?");
    this.insertPartition = db.query(
      "INSERT INTO partitions (topic_id, partition, next_offset) VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
    );
    this.selectNextOffset = db.query(
      "SELECT next_offset FROM partitions WHERE topic_id = ? AND partition = ?",
    );
    this.updateNextOffset = db.query(
      "UPDATE partitions SET next_offset = ? WHERE topic_id = ? AND partition = ?",
    );
    this.insertRecord = db.query(
      "INSERT INTO records (topic_id, partition, offset, key, value, timestamp, headers) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.selectRecords = db.query(
      "SELECT offset, key, value, timestamp, headers FROM records WHERE topic_id = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
    );
    this.appendTransaction = db.transaction((records: readonly PlacedRecord[]) =>
      this.write(records),
    ).immediate;
    this.selectAllNextOffsets = db.query("SELECT topic_id, partition, next_offset FROM partitions");
  }

  /**
   * Creates the topic with `config`; an existing topic keeps its partitions and takes `config`
   * (the node's retention policy is the embedded log's only source of topic configs, so a
   * changed LOG_RETENTION_MS applies to topics made before it).
   */
  createTopic(spec: TopicSpec, config: TopicConfig): void {
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new PlatformError(
        ErrorCodes.LOG_PARTITION_INVALID,
        `topic ${spec.name} needs at least one partition`,
        {
          details: { topic: spec.name, partitions: spec.partitions },
        },
      );
    }
    this.db
      .transaction(() => {
        const compacted = config.compacted ? 1 : 0;
        const retentionMs = config.retentionMs ?? null;
        this.insertTopic.run(spec.name, spec.partitions, compacted, retentionMs);
        this.topics.delete(spec.name);
        const topic = this.lookup(spec.name);
        if (topic === undefined) return;
        if (topic.compacted !== config.compacted || topic.retentionMs !== config.retentionMs) {
          this.updateTopicConfig.run(compacted, retentionMs, topic.id);
          this.topics.delete(spec.name);
        }
        for (let partition = 0; partition < topic.partitions; partition++) {
          this.insertPartition.run(topic.id, partition);
          if (this.knownEnd(topic.id, partition) === undefined)
            this.setKnownEnd(topic.id, partition, this.endOffset(topic, partition));
        }
      })
      .immediate();
  }

  /** the topic, or undefined; a cache miss asks the database (another process may have made it) */
  lookup(name: string): StoredTopic | undefined {
    const cached = this.topics.get(name);
    if (cached !== undefined) return cached;
    const row = this.selectTopic.get(name);
    if (row === null) return undefined;
    const topic = toStoredTopic(row);
    this.topics.set(name, topic);
    return topic;
  }

  require(name: string): StoredTopic {
    const topic = this.lookup(name);
    if (topic === undefined) {
      throw new PlatformError(ErrorCodes.LOG_TOPIC_MISSING, `topic ${name} does not exist`, {
        details: { topic: name },
      });
    }
    return topic;
  }

  requirePartition(name: string, partition: number): StoredTopic {
    const topic = this.require(name);
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new PlatformError(
        ErrorCodes.LOG_PARTITION_INVALID,
        `partition ${partition} of topic ${name} does not exist (the topic has ${topic.partitions})`,
        { details: { topic: name, partition, partitions: topic.partitions } },
      );
    }
    return topic;
  }

  allTopics(): StoredTopic[] {
    return this.selectTopics.all().map(toStoredTopic);
  }

  /** one IMMEDIATE transaction for the whole batch: all records are durable, or none */
  append(records: readonly PlacedRecord[]): RecordPosition[] {
    const positions = this.appendTransaction(records);
    // committed: the ends this connection wrote are known without asking (data_version does not
    // change for a connection's own commits), and the records join their partitions' tails
    for (let i = 0; i < positions.length; i++) {
      const record = records[i]!;
      const { partition, offset } = positions[i]!;
      if ((this.knownEnd(record.topic.id, partition) ?? 0) < offset + 1)
        this.setKnownEnd(record.topic.id, partition, offset + 1);
      this.tails.appended(endSlot(record.topic.id, partition), {
        topic: record.topic.name,
        partition,
        offset,
        key: record.key,
        // every consumer shares this one: a copy, unless the producer handed its bytes over (it
        // may reuse its buffer otherwise)
        value: record.value === null || record.handedOver ? record.value : record.value.slice(),
        timestamp: record.timestamp,
        headers: record.headerList ?? decodeHeaders(record.headers),
      });
    }
    return positions;
  }

  /**
   * Reads every partition's end again if another connection committed since the last look; one
   * cheap pragma otherwise. Call once per fetch of several partitions, then `mayHaveRecords`.
   * `version` is a look the caller has just made (a poll looks once for its group and its reads).
   */
  refreshEnds(version = this.dataVersion.look()): void {
    if (version === this.seenDataVersion) return;
    this.seenDataVersion = version;
    for (const row of this.selectAllNextOffsets.all())
      this.setKnownEnd(row.topic_id, row.partition, row.next_offset);
  }

  /** forget the tails: records may have been removed (compaction, retention) */
  forgetTails(): void {
    this.tails.clear();
  }

  /** false only when the partition is known to hold nothing at or after `offset` */
  mayHaveRecords(topic: StoredTopic, partition: number, offset: number): boolean {
    const end = this.knownEnd(topic.id, partition);
    return end === undefined || offset < end;
  }

  /**
   * The partition's end as this connection last saw it (its own appends, or `refreshEnds`);
   * undefined before it looked
   */
  lastSeenEnd(topic: StoredTopic, partition: number): number | undefined {
    return this.knownEnd(topic.id, partition);
  }

  private knownEnd(topicId: number, partition: number): number | undefined {
    return this.knownEnds.get(topicId)?.[partition];
  }

  private setKnownEnd(topicId: number, partition: number, end: number): void {
    let ends = this.knownEnds.get(topicId);
    if (ends === undefined) {
      ends = [];
      this.knownEnds.set(topicId, ends);
    }
    ends[partition] = end;
  }

  /** from the partition's tail in memory when it holds `fromOffset`, else from SQLite */
  read(topic: StoredTopic, partition: number, fromOffset: number, maxRecords: number): LogRecord[] {
    const cached = this.tails.read(endSlot(topic.id, partition), fromOffset, maxRecords);
    if (cached !== undefined) return cached;
    const rows = this.selectRecords.all(topic.id, partition, fromOffset, maxRecords);
    return rows.map((row) => ({
      topic: topic.name,
      partition,
      offset: row.offset,
      key: row.key,
      value: row.value,
      timestamp: row.timestamp,
      headers: decodeHeaders(row.headers),
    }));
  }

  endOffset(topic: StoredTopic, partition: number): number {
    return this.selectNextOffset.get(topic.id, partition)?.next_offset ?? 0;
  }

  private write(records: readonly PlacedRecord[]): RecordPosition[] {
    // Next offsets of the partitions this batch touches, inside the write lock. The ends this
    // connection knows are exact unless another connection committed since it last looked, which
    // data_version tells in one pragma (and then they are read again); a partition end it never
    // learned is read from its row. This spared a SELECT per partition per transaction.
    this.refreshEnds();
    const nextOffsets = new Map<string, number>();
    const positions: RecordPosition[] = [];
    for (const record of records) {
      const slot = `${record.topic.id}:${record.partition}`;
      const offset =
        nextOffsets.get(slot) ??
        this.knownEnd(record.topic.id, record.partition) ??
        this.endOffset(record.topic, record.partition);
      this.insertRecord.run(
        record.topic.id,
        record.partition,
        offset,
        record.key,
        record.value,
        record.timestamp,
        record.headers,
      );
      nextOffsets.set(slot, offset + 1);
      positions.push({ topic: record.topic.name, partition: record.partition, offset });
    }
    for (const [slot, nextOffset] of nextOffsets) {
      const [topicId, partition] = slot.split(":").map(Number) as [number, number];
      this.updateNextOffset.run(nextOffset, topicId, partition);
    }
    return positions;
  }
}

const endSlot = (topicId: number, partition: number) => `${topicId}:${partition}`;

function toStoredTopic(row: TopicRow): StoredTopic {
  return {
    id: row.id,
    name: row.name,
    partitions: row.partitions,
    compacted: row.compacted === 1,
    retentionMs: row.retention_ms ?? undefined,
  };
}

/** headers are stored as a JSON array of [key, value] pairs; null when there are none */
export function encodeHeaders(headers: readonly Header[] | undefined): string | null {
  if (headers === undefined || headers.length === 0) return null;
  return JSON.stringify(headers.map((header) => [header.key, header.value]));
}

function decodeHeaders(text: string | null): Header[] {
  if (text === null) return [];
  const pairs = JSON.parse(text) as [string, string][];
  return pairs.map(([key, value]) => ({ key, value }));
}
