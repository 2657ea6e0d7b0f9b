/**
 * Readiness probe for the Kafka broker started by infra/up.sh: the broker answers a metadata
 * request and can create a topic (the controller quorum is up, not only the socket).
 * Exit code 0 when ready, 1 otherwise; one line on stderr says why.
 *
 *   bun infra/kafka-probe.ts [brokers]   (default: $KAFKA_BROKERS or 127.0.0.1:9092)
 */
import { Admin } from "@platformatic/kafka";

const PROBE_TOPIC = "_infra_probe";

const brokers = (process.argv[2] ?? process.env.KAFKA_BROKERS ?? "127.0.0.1:9092")
  .split(",")
  .map((broker) => broker.trim())
  .filter((broker) => broker.length > 0);

const admin = new Admin({
  clientId: "infra-probe",
  bootstrapBrokers: brokers,
  retries: 0,
  timeout: 3000,
  connectTimeout: 2000,
});

try {
  const metadata = await admin.metadata({ topics: [] });
  const topics = await admin.listTopics();
  if (!topics.includes(PROBE_TOPIC)) {
    await admin.createTopics({ topics: [PROBE_TOPIC], partitions: 1, replicas: 1 });
  }
  console.log(
    `kafka ready: cluster ${metadata.id}, ${metadata.brokers.size} broker(s) at ${brokers.join(",")}`,
  );
  await admin.close();
  process.exit(0);
} catch (error) {
  console.error(`kafka not ready at ${brokers.join(",")}: ${(error as Error).message}`);
  await admin.close().catch(() => undefined);
  process.exit(1);
}
