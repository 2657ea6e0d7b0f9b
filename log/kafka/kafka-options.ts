import type { CompressionAlgorithmValue } from "@platformatic/kafka";
import { type RetentionPolicy, validRetention } from "../retention.ts";
import { DEFAULT_OFFLOAD_MIN_BYTES } from "./batch-decode-offload.ts";
import type { KafkaSecurity } from "./kafka-security.ts";

export interface KafkaLogOptions {
  /** bootstrap brokers, "host:port" */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** record batch compression; lz4 and gzip need nothing native (lz4 is WebAssembly) */
  readonly compression?: CompressionAlgorithmValue;
  /** how long an append waits for others to share its produce request */
  readonly lingerMs?: number;
  /** queued bytes that trigger a send before the linger ends */
  readonly batchBytes?: number;
  /** the largest record accepted; the broker's message.max.bytes defaults to ~1 MiB */
  readonly maxRecordBytes?: number;
  /** replicas per new topic; -1 takes the broker's default.replication.factor */
  readonly replicationFactor?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
  /** retries of a failed request (the broker restarting, a leader moving) and the delay between */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** how long an append waits for an unavailable broker before it fails (delivery.timeout.ms) */
  readonly deliveryTimeoutMs?: number;
  /** how long close waits for appends still being sent before it abandons them (producer.close(timeout)) */
  readonly closeTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** bytes one fetch may bring back per partition, and in total */
  readonly partitionFetchBytes?: number;
  readonly fetchBytes?: number;
  /**
   * a fetch response of at least this many record bytes has its batches checked and decompressed
   * on a thread of its own (batch-decode-offload.ts); Infinity: always on the consumer's thread
   */
  readonly decodeThreadBytes?: number;
  /** retention of topics that are not compacted; default 7 days for every topic */
  readonly retention?: RetentionPolicy;
  /** SASL and TLS (kafka-security.ts); default PLAINTEXT */
  readonly security?: KafkaSecurity;
}

export type ResolvedKafkaLogOptions = Required<KafkaLogOptions>;

export function resolveKafkaLogOptions(options: KafkaLogOptions): ResolvedKafkaLogOptions {
  return {
    brokers: options.brokers,
    clientId: options.clientId ?? "streaming-ml",
    compression: options.compression ?? "lz4",
    lingerMs: options.lingerMs ?? 2,
    batchBytes: options.batchBytes ?? 512 * 1024,
    maxRecordBytes: options.maxRecordBytes ?? 1024 * 1024,
    replicationFactor: options.replicationFactor ?? -1,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 15_000,
    retries: options.retries ?? 5,
    retryDelayMs: options.retryDelayMs ?? 300,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 3000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    partitionFetchBytes: options.partitionFetchBytes ?? 1024 * 1024,
    fetchBytes: options.fetchBytes ?? 16 * 1024 * 1024,
    decodeThreadBytes: options.decodeThreadBytes ?? DEFAULT_OFFLOAD_MIN_BYTES,
    retention: validRetention(options.retention),
    security: options.security ?? {},
  };
}

/** "a:9092, b:9092" -> ["a:9092", "b:9092"] (the form KAFKA_BROKERS takes) */
export function parseBrokers(list: string): string[] {
  return list
    .split(",")
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}

/**
 * How many times the idempotent producer resends a produce request before an append fails: at
 * least `retries`, and enough retry delays to span the delivery timeout (a broker that refuses
 * connections fails each attempt at once; one that is slow takes up to the request timeout each).
 */
export function produceRetries(options: ResolvedKafkaLogOptions): number {
  return Math.max(options.retries, Math.ceil(options.deliveryTimeoutMs / Math.max(1, options.retryDelayMs)));
}
