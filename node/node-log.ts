import { join } from "node:path";
import { EmbeddedLog } from "../log/embedded/index.ts";
import type { WalCheckpointStatus } from "../log/embedded/wal-checkpointer.ts";
import { openLog } from "../log/index.ts";
import { kafkaSecurityFromEnv } from "../log/kafka/kafka-security.ts";
import type { Log } from "../log/log.ts";
import { parseTopicRetention, type RetentionPolicy } from "../log/retention.ts";
import { type RecordCodec, registryCodec } from "../messages/codec/record-codec.ts";
import { platformSchemas, subjectOf } from "../messages/platform-schemas.ts";
import { passesProcessedReadingSchema } from "../messages/processed-reading-schema-check.ts";
import { SchemaSerde } from "../messages/schema-registry/schema-serde.ts";
import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import { DEFAULT_PARTITIONS, Topics } from "../messages/topics.ts";
import { registerOwnSubjects } from "../registries/own-subjects.ts";
import { SchemaRegistry } from "../registries/schema-registry.ts";
import { fieldCipherFromEnv } from "../security/field-cipher.ts";
import { createRecordSealer } from "../security/record-sealer.ts";
import { sealedLog } from "../security/sealed-log.ts";
import type { NodeConfig } from "./config.ts";
import { reportEvery5s } from "./failures.ts";

/**
 * A node's log: Kafka when KAFKA_BROKERS names it, else the embedded bun:sqlite log; its
 * topics; the schema registry on it with the platform's subjects registered; and the codec
 * that frames record values with their schema ids.
 */
export interface NodeLog {
  readonly log: Log;
  /** partitions of city.sensors.raw as the topic has them */
  readonly partitions: number;
  readonly registry: SchemaRegistry;
  readonly codec: RecordCodec;
  /** the embedded log's background WAL checkpoints (for /health and /metrics); none on Kafka */
  readonly walCheckpoints?: () => WalCheckpointStatus;
  /** corrupt Kafka record batches met so far, by topic (for /metrics); none on the embedded log */
  readonly corruptBatches?: () => ReadonlyMap<string, number>;
}

/** how often a node reads `_schemas` for what other registries (nodes, threads) appended */
export const REGISTRY_FOLLOW_MS = 1000;

/** the Kafka log counts the corrupt record batches its fetches meet (log/kafka/corrupt-batches.ts) */
const countsCorruptBatches = (log: Log): log is Log & { corruptBatches(): ReadonlyMap<string, number> } =>
  typeof (log as { corruptBatches?: unknown }).corruptBatches === "function";

export const PROCESSED_TOPICS = SENSOR_TYPES.map((type) => Topics.processed(type));

async function provisionTopics(log: Log, partitions: number): Promise<void> {
  await log.createTopic({ name: Topics.sensorsRaw, partitions });
  for (const name of [
    ...PROCESSED_TOPICS,
    Topics.silver,
    Topics.quarantine,
    Topics.predictions,
    Topics.outcomes,
    Topics.lateOf(Topics.sensorsRaw),
    Topics.deadLettersOf(Topics.sensorsRaw),
  ])
    await log.createTopic({ name, partitions });
  for (const name of [Topics.drift, Topics.alerts, Topics.deadLettersOf(Topics.alerts), Topics.deadLetters])
    await log.createTopic({ name, partitions: 1 });
}

export async function openNodeLog(config: NodeConfig): Promise<NodeLog> {
  const { log, backend } = await openLogBackend(config, "node");
  await provisionTopics(log, config.partitions || DEFAULT_PARTITIONS);
  // An input topic that already exists keeps its partition count (Kafka cannot shrink one, and
  // growing it would move keys): placement, changelogs and ownership follow the topic.
  const partitions = (await log.partitions(Topics.sensorsRaw)) ?? config.partitions;
  if (partitions !== config.partitions)
    console.warn(
      `${Topics.sensorsRaw} exists with ${partitions} partitions (PARTITIONS=${config.partitions}); using ${partitions}`,
    );
  const registry = await SchemaRegistry.open(log);
  // what other nodes register shows in this node's REST reads and serdes within a second
  registry.follow(REGISTRY_FOLLOW_MS, reportEvery5s("schema registry's follow of _schemas"));
  const { codec, warnings } = await nodeCodec(registry);
  for (const warning of warnings) console.warn(warning);
  const checkpointer = backend instanceof EmbeddedLog ? backend.walCheckpointer() : undefined;
  return {
    ...{ log, partitions, registry, codec },
    ...(checkpointer ? { walCheckpoints: () => checkpointer.status() } : {}),
    ...(countsCorruptBatches(backend) ? { corruptBatches: () => backend.corruptBatches() } : {}),
  };
}

/**
 * The log as one thread of the node opens it: Kafka (a client of its own) or the embedded file
 * (a connection of its own), sealed when DATA_ENCRYPTION_KEY is set. The main thread keeps the
 * file's housekeeping (WAL checkpoints on their thread, compaction and retention); a sink
 * thread's connection only reads and commits its groups' offsets, and runs neither.
 */
export async function openLogBackend(
  config: NodeConfig,
  role: "node" | "sink-thread",
): Promise<{ readonly log: Log; readonly backend: Log }> {
  // every topic that is not compacted gets a retention (10.8 GB/day at 200 readings/s otherwise)
  const retention: RetentionPolicy = {
    defaultMs: config.logRetentionMs,
    topics: parseTopicRetention(config.logTopicRetentionMs ?? ""),
  };
  // fields marked sensitive (messages/sensitive.ts) are sealed at rest with DATA_ENCRYPTION_KEY;
  // a bad key stops the start before anything is opened
  const cipher = fieldCipherFromEnv(process.env);
  const backend = config.kafkaBrokers
    ? await openLog({
        kind: "kafka",
        brokers: config.kafkaBrokers.split(",").map((b) => b.trim()),
        // how long a dead node holds its partitions: the bulk of a failover's time
        sessionTimeoutMs: config.kafkaSessionTimeoutMs,
        retention,
        // SASL/SCRAM and TLS from KAFKA_SASL_* / KAFKA_TLS* (PLAINTEXT when unset)
        security: kafkaSecurityFromEnv(process.env),
      })
    : await openLog({
        kind: "embedded",
        path: join(config.dataDir, "log.db"),
        synchronous: config.embeddedLogSync === "full" ? "FULL" : "NORMAL",
        sessionTimeoutMs: config.kafkaSessionTimeoutMs,
        retention,
        // the WAL's checkpoints (page copies and syncs) off the main thread's commits
        ...(role === "node" ? { checkpoints: "background" as const } : { maintenanceIntervalMs: 0 }),
      });
  const log = cipher
    ? sealedLog(
        backend,
        createRecordSealer(cipher, {
          onOpenFailure: (topic, field, error) =>
            console.warn(`a sealed ${field} in ${topic} cannot be opened (${error.code}); it stays sealed`),
        }),
      )
    : backend;
  return { log, backend };
}

/**
 * The codec that frames record values with their schema ids: the platform's subjects registered
 * in the registry (found there when registered before), the framed topics validated both ways.
 */
export async function nodeCodec(
  registry: SchemaRegistry,
): Promise<{ readonly codec: RecordCodec; readonly warnings: readonly string[] }> {
  const schemas = platformSchemas();
  const own = await registerOwnSubjects(registry, schemas);
  const codec = registryCodec(
    new SchemaSerde(own.source, {
      schemas,
      // the edge parses every reading with the schema this subject is written from
      // (test/messages/schema-registry/schema-serde.test.ts holds the two together)
      trustedSubjects: new Set([subjectOf(Topics.sensorsRaw)]),
      // the sensor actors' processed readings, checked by hand (the generic check as fallback)
      // against the schema listed above for both subjects
      // (test/messages/processed-reading-schema-check.test.ts holds the two together)
      writeChecks: new Map([
        [subjectOf(Topics.silver), passesProcessedReadingSchema],
        [subjectOf(Topics.quarantine), passesProcessedReadingSchema],
      ]),
    }),
    new Set([
      Topics.sensorsRaw,
      Topics.silver,
      Topics.quarantine,
      ...PROCESSED_TOPICS,
      Topics.predictions,
      Topics.outcomes,
      Topics.drift,
      Topics.deadLetters,
      Topics.newsArticlesRaw,
      Topics.newsInsights,
      Topics.newsSentiment,
      Topics.newsSymbolSentiment,
    ]),
    // a reader meeting a schema id it does not know reads what other registries wrote first
    () => registry.catchUp(),
  );
  return { codec, warnings: own.warnings };
}
