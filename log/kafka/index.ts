import { Admin, Consumer as KafkaConsumer } from "@platformatic/kafka";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { Log } from "../log.ts";
import { toPlatformError } from "./kafka-errors.ts";
import { KafkaLog } from "./kafka-log.ts";
import {
  type KafkaLogOptions,
  parseBrokers,
  produceRetries,
  resolveKafkaLogOptions,
} from "./kafka-options.ts";
import { connectionSecurity } from "./kafka-security.ts";
import { BatchEncodingProducer } from "./produce-request.ts";

export type { KafkaLogOptions } from "./kafka-options.ts";
export { type KafkaSecurity, kafkaSecurityFromEnv } from "./kafka-security.ts";
export { parseBrokers };

/**
 * Open the Kafka adapter of the Log port: an idempotent producer (acks=all, lz4, linger),
 * an admin client for topic provisioning and a group-less reader. Fails with
 * LOG_BROKER_UNAVAILABLE, naming the brokers, when none of them answers.
 */
export async function openKafkaLog(options: KafkaLogOptions): Promise<Log> {
  const config = resolveKafkaLogOptions(options);
  if (config.brokers.length === 0) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "openKafkaLog needs at least one broker (KAFKA_BROKERS)",
    );
  }
  const base = {
    bootstrapBrokers: [...config.brokers],
    retries: config.retries,
    retryDelay: config.retryDelayMs,
    connectTimeout: config.connectTimeoutMs,
    timeout: config.requestTimeoutMs,
    ...connectionSecurity(config.security),
  };
  const admin = new Admin({ ...base, clientId: `${config.clientId}-admin` });
  try {
    await admin.metadata({ topics: [] });
  } catch (error) {
    await admin.close().catch(() => undefined);
    const failure = toPlatformError(error, { action: "connect", brokers: config.brokers });
    if (failure.code !== ErrorCodes.INFRA_UNAVAILABLE) throw failure;
    throw new PlatformError(
      ErrorCodes.LOG_BROKER_UNAVAILABLE,
      `no Kafka broker answers at ${config.brokers.join(",")} (start one with: bun run infra:up kafka)`,
      { cause: error, details: { brokers: config.brokers } },
    );
  }
  // the library's idempotent producer; its record batches written by our encoder (produce-request.ts)
  const producer = new BatchEncodingProducer({
    ...base,
    // The producer's own retries resend a produce request with the same producer id and
    // sequence numbers, which the broker deduplicates; they are the only retries of an append
    // (kafka-log.ts), so they cover the delivery timeout as Kafka's delivery.timeout.ms does.
    retries: produceRetries(config),
    clientId: `${config.clientId}-producer`,
    idempotent: true,
    acks: -1,
    compression: config.compression,
    autocreateTopics: false,
  });
  const reader = new KafkaConsumer({
    ...base,
    clientId: `${config.clientId}-reader`,
    groupId: `${config.clientId}-reader`,
  });
  return new KafkaLog(config, admin, producer, reader);
}
