import { openLog } from "../log/index.ts";
import { Topics } from "../messages/topics.ts";
import { brokerReachable, brokers, portOpen, skipKafka } from "./kafka-broker.ts";

/**
 * The real servers the scale-out tests run against: Kafka (KAFKA_BROKERS, default the one
 * `bun run infra:up` starts) and Mosquitto (MOSQUITTO_URL, default mqtt://127.0.0.1:1883).
 * Missing servers fail the tests with a clear message unless SKIP_KAFKA_TESTS=1.
 */
export const kafkaBrokers = brokers.join(",");
export const mosquittoUrl = process.env.MOSQUITTO_URL ?? "mqtt://127.0.0.1:1883";
export const skipScaleOut = skipKafka;

export async function requireRealServers(): Promise<void> {
  if (skipScaleOut) return;
  const missing: string[] = [];
  if (!(await brokerReachable())) missing.push(`Kafka at ${kafkaBrokers}`);
  const mqtt = new URL(mosquittoUrl);
  if (!(await portOpen(mqtt.hostname, Number(mqtt.port || 1883))))
    missing.push(`Mosquitto at ${mosquittoUrl}`);
  if (missing.length > 0)
    throw new Error(
      `scale-out tests need ${missing.join(" and ")}: start them with \`bun run infra:up\`, or set SKIP_KAFKA_TESTS=1 to skip these tests`,
    );
}

/**
 * The partition count to run with: the input topic is shared by every run on the broker, so a
 * node must use the count it already has (a node configured with another count would disagree
 * with the topic about where a key lives).
 */
export async function inputPartitions(preferred: number): Promise<number> {
  const log = await openLog({ kind: "kafka", brokers: [...brokers] });
  try {
    return (await log.partitions(Topics.sensorsRaw)) ?? preferred;
  } finally {
    await log.close();
  }
}

/** a run id for application ids and sensor prefixes: unique per run, valid in both */
export function runId(name: string): string {
  return `${name}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
