import {
  type Admin,
  ConfigResourceTypes,
  ConfigSources,
  ConnectionPool,
  IncrementalAlterConfigOperationTypes,
  type Consumer as KafkaConsumer,
  type MessageToProduce,
  type Producer,
} from "@platformatic/kafka";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import type {
  Consumer,
  ConsumerOptions,
  Log,
  LogRecord,
  ProducerRecord,
  ReadOptions,
  RecordPosition,
  TopicConfig,
  TopicPartition,
  TopicSpec,
} from "../log.ts";
import { wantedConfig } from "../retention.ts";
import { AppendBatcher } from "./append-batcher.ts";
import { GroupConsumer } from "./group-consumer.ts";
import { hasApiError, isUnknownTopic, toPlatformError } from "./kafka-errors.ts";
import type { ResolvedKafkaLogOptions } from "./kafka-options.ts";
import { partitionOfKeyBytes, recordSize, recordSizeBound, toKafkaMessages } from "./kafka-records.ts";
import { connectionSecurity } from "./kafka-security.ts";
import { fetchPartitions } from "./partition-fetcher.ts";
import { awaitConfigsShown } from "./topic-config-wait.ts";

/** ListOffsets timestamps with a special meaning (Kafka protocol, ListOffsets API) */
const LIST_OFFSETS_TIMESTAMP = { latest: -1n, earliest: -2n } as const;

const DEFAULT_READ_MAX = 500;
// a broker with thousands of partitions, or one just restarted, can take more than 10 s under load
const TOPIC_VISIBLE_WAIT_MS = 30_000;
const TOPIC_CONFIG_SHOWN_WAIT_MS = 30_000;
/** a read's fetch size: at least this, and this much over the estimate (a batch is sent whole) */
const MIN_READ_BYTES = 64 * 1024;
const READ_SLACK_BYTES = 16 * 1024;

/**
 * The partition bytes to fetch for `wanted` records at `bytesPerRecord` (0: not known yet, the
 * whole `maxBytes`), a little over the estimate since the broker sends batches whole.
 */
export function readFetchBytes(wanted: number, bytesPerRecord: number, maxBytes: number): number {
  if (!(bytesPerRecord > 0)) return maxBytes;
  const estimate = Math.ceil(wanted * bytesPerRecord * 1.05) + READ_SLACK_BYTES;
  return Math.min(maxBytes, Math.max(MIN_READ_BYTES, estimate));
}

/** Kafka's cleanup.policy for a wanted topic config */
function cleanupPolicy(config: TopicConfig): string {
  if (!config.compacted) return "delete";
  return config.retentionMs === undefined ? "compact" : "compact,delete";
}

/** The Log port on Apache Kafka through @platformatic/kafka. */
export class KafkaLog implements Log {
  private closed = false;
  private readonly partitionCounts = new Map<string, number>();
  private readonly roundRobin = new Map<string, number>();
  private readonly batcher: AppendBatcher;
  private readonly readerPool: ConnectionPool;
  private readonly consumers = new Set<GroupConsumer>();
  /** bytes per offset the broker sent for the last read, to size the next read's fetch */
  private bytesPerRecord = 0;
  /** corrupt record batches met by reads and consumers, by topic (each fetch that met one) */
  private readonly corruptBatchesByTopic = new Map<string, number>();

  constructor(
    private readonly options: ResolvedKafkaLogOptions,
    private readonly admin: Admin,
    private readonly producer: Producer,
    /** group-less client for read() and endOffset() */
    private readonly reader: KafkaConsumer,
  ) {
    this.batcher = new AppendBatcher(producer, {
      lingerMs: options.lingerMs,
      batchBytes: options.batchBytes,
      // a request's records sized as the broker's default message.max.bytes (1 MiB), the bound a
      // record is checked against too: each partition's batch in a request stays under it
      requestBytes: options.maxRecordBytes,
    });
    this.readerPool = new ConnectionPool(`${options.clientId}-reader`, {
      connectTimeout: options.connectTimeoutMs,
      ...connectionSecurity(options.security),
    });
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    this.ensureOpen();
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `topic ${spec.name} needs at least one partition`, {
        details: { topic: spec.name, partitions: spec.partitions },
      });
    }
    const wanted = wantedConfig(spec, this.options.retention);
    const configs = [{ name: "cleanup.policy", value: cleanupPolicy(wanted) }];
    if (wanted.retentionMs !== undefined)
      configs.push({ name: "retention.ms", value: String(wanted.retentionMs) });
    let existed = false;
    try {
      await this.admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: this.options.replicationFactor,
        configs,
      });
    } catch (error) {
      if (!hasApiError(error, "TOPIC_ALREADY_EXISTS"))
        throw this.fail(error, `create topic ${spec.name}`, spec.name);
      existed = true;
    }
    // the controller has the topic; wait until the broker's metadata shows it too. Before a
    // reconcile as well: another node that created it a moment ago makes ours answer
    // TOPIC_ALREADY_EXISTS while describing its configs still says it does not exist (two nodes
    // starting together on a fresh broker failed so)
    const deadline = Date.now() + TOPIC_VISIBLE_WAIT_MS;
    while ((await this.partitions(spec.name)) === undefined) {
      if (Date.now() > deadline) {
        throw new PlatformError(
          ErrorCodes.LOG_TOPIC_MISSING,
          `topic ${spec.name} was created but is not visible`,
          {
            details: { topic: spec.name },
          },
        );
      }
      await Bun.sleep(50);
    }
    if (existed) await this.reconcileConfig(spec.name, wanted);
  }

  async topicConfig(topic: string): Promise<TopicConfig | undefined> {
    this.ensureOpen();
    if ((await this.partitions(topic)) === undefined) return undefined;
    const configs = await this.describeTopicConfigs(topic);
    const compacted = (configs.get("cleanup.policy")?.value ?? "delete").split(",").includes("compact");
    const deletes = (configs.get("cleanup.policy")?.value ?? "delete").split(",").includes("delete");
    const retention = Number(configs.get("retention.ms")?.value ?? Number.NaN);
    return {
      compacted,
      // retention.ms -1 keeps records for ever; a compact-only topic ignores it
      retentionMs: deletes && Number.isFinite(retention) && retention >= 0 ? retention : undefined,
    };
  }

  /**
   * An existing topic (made by an older version, or by hand) is brought to what the platform
   * needs: a compacted topic must be compacted (a changelog that deletes by time loses state),
   * and a topic without a retention.ms of its own gets the policy's. A retention.ms set on the
   * topic by an operator (kafka-configs --alter) is theirs and is left alone.
   */
  private async reconcileConfig(topic: string, wanted: TopicConfig): Promise<void> {
    const configs = await this.describeTopicConfigs(topic);
    const changes: { name: string; value: string }[] = [];
    const policy = configs.get("cleanup.policy");
    const isCompacted = (policy?.value ?? "delete").split(",").includes("compact");
    if (wanted.compacted && !isCompacted)
      changes.push({ name: "cleanup.policy", value: cleanupPolicy(wanted) });
    const retention = configs.get("retention.ms");
    if (
      wanted.retentionMs !== undefined &&
      retention?.configSource !== ConfigSources.DYNAMIC_TOPIC_CONFIG &&
      retention?.value !== String(wanted.retentionMs)
    )
      changes.push({ name: "retention.ms", value: String(wanted.retentionMs) });
    if (changes.length === 0) return;
    try {
      await this.admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: changes.map((change) => ({
              ...change,
              configOperation: IncrementalAlterConfigOperationTypes.SET,
            })),
          },
        ],
      });
    } catch (error) {
      throw this.fail(error, `set the configs of topic ${topic}`, topic);
    }
    // the broker describing the topic learns the change from the metadata log a moment later
    await awaitConfigsShown(topic, changes, () => this.describeTopicConfigs(topic), {
      timeoutMs: TOPIC_CONFIG_SHOWN_WAIT_MS,
      pollMs: 50,
    });
  }

  private async describeTopicConfigs(
    topic: string,
  ): Promise<Map<string, { value: string | null; configSource: number }>> {
    try {
      const [description] = await this.admin.describeConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configurationKeys: ["cleanup.policy", "retention.ms"],
          },
        ],
      });
      return new Map(
        (description?.configs ?? []).map((config) => [
          config.name,
          { value: config.value ?? null, configSource: config.configSource as number },
        ]),
      );
    } catch (error) {
      throw this.fail(error, `describe the configs of topic ${topic}`, topic);
    }
  }

  async groupOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    this.ensureOpen();
    const count = (await this.partitions(topic)) ?? 0;
    const offsets = new Map<number, number>();
    if (count === 0) return offsets;
    try {
      const [group] = await this.admin.listConsumerGroupOffsets({
        groups: [
          {
            groupId,
            topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, i) => i) }],
          },
        ],
      });
      for (const listed of group?.topics ?? [])
        for (const { partitionIndex, committedOffset } of listed.partitions)
          if (committedOffset >= 0n) offsets.set(partitionIndex, Number(committedOffset));
    } catch (error) {
      throw this.fail(error, `read the committed offsets of group ${groupId}`, topic);
    }
    return offsets;
  }

  async partitions(topic: string): Promise<number | undefined> {
    this.ensureOpen();
    // no retries: the library retries an unknown topic as stale metadata, which only delays "no"
    for (const retries of [0, this.options.retries]) {
      try {
        const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true, retries });
        const count = metadata.topics.get(topic)?.partitionsCount;
        if (count === undefined) this.partitionCounts.delete(topic);
        else this.partitionCounts.set(topic, count);
        return count;
      } catch (error) {
        if (isUnknownTopic(error)) {
          this.partitionCounts.delete(topic);
          return undefined;
        }
        if (retries > 0) throw this.fail(error, `describe topic ${topic}`, topic);
      }
    }
    return undefined;
  }

  async append(records: readonly ProducerRecord[]): Promise<RecordPosition[]> {
    this.ensureOpen();
    if (records.length === 0) return [];
    // validate the whole batch first, so a bad record fails the batch before anything is written;
    // only a record whose bound passes the limit has its key measured
    const limit = this.options.maxRecordBytes;
    for (const record of records) {
      if (recordSizeBound(record) <= limit) continue;
      const size = recordSize(record);
      if (size > limit) {
        throw new PlatformError(
          ErrorCodes.LOG_RECORD_TOO_LARGE,
          `a record of ${size} bytes for topic ${record.topic} exceeds the limit of ${limit} bytes`,
          { details: { topic: record.topic, bytes: size, limitBytes: limit } },
        );
      }
    }
    return this.acknowledgedWithin(this.placeAndSend(records), records[0]!.topic);
  }

  /**
   * Kafka's delivery.timeout.ms: the bound on an append from its call to its acknowledgement.
   * The producer's retries are counted, and a broker that stops answering without closing its
   * connections (a hung broker, a network partition) holds each try for the whole request
   * timeout: retries x the request timeout was hours at the defaults. Past the bound the append
   * fails; its send may still land later, as a batch Kafka's producer expired may have.
   */
  private async acknowledgedWithin<T>(work: Promise<T>, topic: string): Promise<T> {
    const timeoutMs = this.options.deliveryTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PlatformError(
              ErrorCodes.LOG_BROKER_UNAVAILABLE,
              `an append to ${topic} was not acknowledged within the delivery timeout of ${timeoutMs} ms`,
              { details: { topic, deliveryTimeoutMs: timeoutMs } },
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
      // once the append failed by its deadline, a later failure of its send has nothing more to
      // tell its caller (and must not become an unhandled rejection)
      work.catch(() => undefined);
    }
  }

  private async placeAndSend(records: readonly ProducerRecord[]): Promise<RecordPosition[]> {
    const now = Date.now();
    const { messages, bytes } = toKafkaMessages(records, undefined, now);
    const placed = this.placeFromCache(records, messages) ?? (await this.placeWhileBrokerAway(records));
    for (let i = 0; i < messages.length; i++) messages[i]!.partition = placed[i]!;
    // Sent once. A broker that is away (restarting, a leader moving, too slow to answer within
    // the request timeout) is waited for inside the idempotent producer, which retries the same
    // produce request with the same producer id and sequence numbers until the delivery timeout
    // (index.ts sizes its retries), so a request that did land before its answer was lost is
    // written once. A second produce from here would carry new sequence numbers: the broker
    // would write its records again (regression: a slow broker duplicated thousands of raw
    // readings, and windows that had closed were opened again by the copies).
    try {
      const offsets = await this.batcher.append(messages, bytes);
      return records.map((record, i) => ({
        topic: record.topic,
        partition: placed[i]!,
        offset: offsets[i]!,
      }));
    } catch (error) {
      throw this.fail(error, `append to ${records[0]!.topic}`, records[0]!.topic);
    }
  }

  /**
   * The partition of each record of a topic whose partition count is not known yet (those of
   * known topics are placed without awaiting anything, so appends reach the batcher, and a
   * partition, in the order they were called). Nothing is sent yet, so a broker that is away while the topic is described is
   * simply asked again until the delivery timeout, as Kafka's producer waits for metadata.
   */
  private async placeWhileBrokerAway(records: readonly ProducerRecord[]): Promise<number[]> {
    const giveUpAt = Date.now() + this.options.deliveryTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const resolved: number[] = [];
        for (const record of records) resolved.push(await this.partitionOf(record));
        return resolved;
      } catch (error) {
        const failure = this.fail(error, `place records for ${records[0]!.topic}`, records[0]!.topic);
        if (failure.code !== ErrorCodes.LOG_BROKER_UNAVAILABLE || this.closed || Date.now() >= giveUpAt)
          throw failure;
        await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  async read(tp: TopicPartition, options: ReadOptions = {}): Promise<LogRecord[]> {
    this.ensureOpen();
    await this.checkPartition(tp.topic, tp.partition);
    const maxRecords = Math.max(1, options.maxRecords ?? DEFAULT_READ_MAX);
    const end = BigInt(await this.endOffset(tp));
    let offset = BigInt(Math.max(0, options.fromOffset ?? 0));
    const records: LogRecord[] = [];
    try {
      while (offset < end && records.length < maxRecords) {
        const [fetched] = await fetchPartitions(this.reader, this.readerPool, [{ ...tp, offset }], {
          maxWaitMs: 0,
          partitionBytes: this.readBytesFor(maxRecords - records.length),
          totalBytes: this.options.fetchBytes,
          retries: this.options.retries,
          retryDelayMs: this.options.retryDelayMs,
        });
        // a read asks for a range: a corrupt batch in it fails the read, before or after good ones
        if (fetched?.corrupt !== undefined) {
          this.noteCorruptBatch(tp.topic);
          throw fetched.corrupt.error;
        }
        if (fetched === undefined || fetched.nextOffset === undefined) break;
        if (fetched.records.length > 0)
          this.bytesPerRecord = fetched.bytes / Number(fetched.nextOffset - offset);
        for (const record of fetched.records) {
          if (records.length >= maxRecords || record.offset >= Number(end)) break;
          records.push(record);
        }
        offset = fetched.nextOffset;
      }
    } catch (error) {
      throw this.fail(error, `read ${tp.topic}#${tp.partition}`, tp.topic);
    }
    return records;
  }

  /**
   * Bytes to ask a partition for when `wanted` more records are wanted: records past maxRecords
   * are dropped and fetched again by the next read, so a fetch of the full partition size for a
   * few records made the broker send (and us decode) the same bytes over and over (a changelog
   * restore of 20,000-record reads with 8 MiB fetches read every byte ~2.3 times).
   */
  private readBytesFor(wanted: number): number {
    return readFetchBytes(wanted, this.bytesPerRecord, this.options.partitionFetchBytes);
  }

  async endOffset(tp: TopicPartition): Promise<number> {
    this.ensureOpen();
    await this.checkPartition(tp.topic, tp.partition);
    return Number(await this.listOffset(tp, "latest"));
  }

  /** the first offset of one partition still in the log, or the offset the next append gets */
  async listOffset(tp: TopicPartition, which: "earliest" | "latest"): Promise<bigint> {
    try {
      const offsets = await this.reader.listOffsets({
        topics: [tp.topic],
        partitions: { [tp.topic]: [tp.partition] },
        timestamp: LIST_OFFSETS_TIMESTAMP[which],
      });
      return offsets.get(tp.topic)?.[tp.partition] ?? 0n;
    } catch (error) {
      throw this.fail(error, `list offsets of ${tp.topic}#${tp.partition}`, tp.topic);
    }
  }

  consumer(options: ConsumerOptions): Consumer {
    this.ensureOpen();
    const consumer = new GroupConsumer(options, this.options, this, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // As Kafka's producer.close(timeout): the idempotent producer retries a send until the
    // delivery timeout, so a broker too slow to answer would hold the node's stop for minutes
    // (a rolling restart's SIGTERM was killed after 75 s). Sends still unanswered at the close
    // timeout are abandoned when the producer closes: their appends fail, never acknowledged.
    const drained = this.batcher.drain();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closeTimeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.closeTimeoutMs);
    });
    const results = await Promise.allSettled([
      ...[...this.consumers].map((consumer) => consumer.close()),
      Promise.race([drained, closeTimeout]).finally(() => clearTimeout(timer)),
    ]);
    const closing = await Promise.allSettled([
      drained,
      this.producer.close(),
      this.admin.close(),
      this.reader.close(),
      this.readerPool.close(),
    ]);
    const failures = [...results, ...closing].filter((result) => result.status === "rejected");
    if (failures.length > 0) {
      throw new AggregateError(
        failures.map((failure) => (failure as PromiseRejectedResult).reason),
        "closing the Kafka log failed",
      );
    }
  }

  /** corrupt record batches met so far, by topic (platform_log_corrupt_batches_total) */
  corruptBatches(): ReadonlyMap<string, number> {
    return this.corruptBatchesByTopic;
  }

  noteCorruptBatch(topic: string): void {
    this.corruptBatchesByTopic.set(topic, (this.corruptBatchesByTopic.get(topic) ?? 0) + 1);
  }

  fail(error: unknown, action: string, topic?: string): PlatformError {
    return toPlatformError(error, {
      action,
      brokers: this.options.brokers,
      maxRecordBytes: this.options.maxRecordBytes,
      ...(topic === undefined ? {} : { topic }),
    });
  }

  private ensureOpen(): void {
    if (this.closed) throw new PlatformError(ErrorCodes.LOG_CLOSED, "the Kafka log is closed");
  }

  private async partitionCount(topic: string): Promise<number> {
    const count = this.partitionCounts.get(topic) ?? (await this.partitions(topic));
    if (count === undefined) {
      throw new PlatformError(
        ErrorCodes.LOG_TOPIC_MISSING,
        `topic ${topic} does not exist on ${this.options.brokers.join(",")}`,
        { details: { topic } },
      );
    }
    return count;
  }

  async checkPartition(topic: string, partition: number): Promise<number> {
    let count = await this.partitionCount(topic);
    // the topic may have grown since we cached its size
    if (Number.isInteger(partition) && partition >= count) count = (await this.partitions(topic)) ?? count;
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new PlatformError(
        ErrorCodes.LOG_PARTITION_INVALID,
        `topic ${topic} has partitions 0..${count - 1}, not ${partition}`,
        { details: { topic, partition, partitions: count } },
      );
    }
    return count;
  }

  /**
   * every record's partition from cached partition counts, or undefined if one is missing; a
   * keyed record's from its key bytes in `messages` (written once, for the message and its hash)
   */
  private placeFromCache(
    records: readonly ProducerRecord[],
    messages: readonly MessageToProduce[],
  ): number[] | undefined {
    const placed = new Array<number>(records.length);
    // an append's records are mostly for one topic: its count is looked up once per run of it
    let topic: string | undefined;
    let count: number | undefined;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record.topic !== topic) {
        topic = record.topic;
        count = this.partitionCounts.get(topic);
      }
      if (count === undefined) return undefined;
      if (record.partition !== undefined) {
        if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= count)
          return undefined;
        placed[i] = record.partition;
      } else if (record.key !== null)
        placed[i] = partitionOfKeyBytes(record.key, messages[i]!.key as Uint8Array, count);
      else {
        const next = this.roundRobin.get(record.topic) ?? 0;
        this.roundRobin.set(record.topic, next + 1);
        placed[i] = next % count;
      }
    }
    return placed;
  }

  private async partitionOf(record: ProducerRecord): Promise<number> {
    if (record.partition !== undefined) {
      await this.checkPartition(record.topic, record.partition);
      return record.partition;
    }
    const count = await this.partitionCount(record.topic);
    if (record.key !== null) return partitionFor(record.key, count);
    const next = this.roundRobin.get(record.topic) ?? 0;
    this.roundRobin.set(record.topic, next + 1);
    return next % count;
  }
}
