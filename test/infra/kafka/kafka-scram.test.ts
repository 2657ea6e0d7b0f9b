import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";

/**
 * The infra broker's SASL_SSL listener (127.0.0.1:9094, SCRAM over TLS) as `bun run infra:up`
 * sets it up: its CA and the platform user's password in infra/.data/kafka-tls/. A broker
 * started before the listener existed has none of it: the tests say so and skip.
 */
const tls = join(import.meta.dir, "..", "..", "..", "infra", ".data", "kafka-tls");
const ready = existsSync(join(tls, "ca.pem")) && existsSync(join(tls, "scram-password"));
const skip = process.env.SKIP_INFRA_TESTS === "1" || process.env.SKIP_KAFKA_TESTS === "1" || !ready;
if (!ready)
  console.warn(
    "infra/.data/kafka-tls is missing: restart the infra (bun run infra:up) to get Kafka's SASL_SSL listener",
  );

describe.skipIf(skip)("the infra broker's SCRAM listener", () => {
  const open = (password: string) =>
    openKafkaLog({
      brokers: ["127.0.0.1:9094"],
      clientId: "infra-scram-test",
      retries: 1,
      security: {
        sasl: {
          mechanism: "SCRAM-SHA-512",
          username: process.env.KAFKA_SASL_USERNAME || "platform",
          password,
        },
        tls: { ca: readFileSync(join(tls, "ca.pem"), "utf8") },
      },
    });

  test("the platform's user reads the broker's metadata over SASL_SSL", async () => {
    const log = await open(readFileSync(join(tls, "scram-password"), "utf8").trim());
    try {
      await log.createTopic({ name: "infra-scram-probe", partitions: 1 });
      expect(await log.partitions("infra-scram-probe")).toBe(1);
    } finally {
      await log.close();
    }
  });

  test("a wrong password is refused with LOG_NOT_AUTHORIZED", async () => {
    const error = await open("not-the-password").then(
      async (log) => {
        await log.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isPlatformError(error, ErrorCodes.LOG_NOT_AUTHORIZED)).toBe(true);
  });
});
