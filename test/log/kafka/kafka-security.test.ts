import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import {
  connectionSecurity,
  type KafkaSecurity,
  kafkaSecurityFromEnv,
} from "../../../log/kafka/kafka-security.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import {
  type ScramBroker,
  scramBrokerAvailable,
  startScramBroker,
} from "../../../testkit/kafka-scram-broker.ts";
import { logContract } from "../log.contract.ts";

/**
 * The log's SASL/SCRAM and TLS options against a real Kafka broker with SCRAM users and a TLS
 * listener (a private one: testkit/kafka-scram-broker.ts; the shared 9092 stays PLAINTEXT). The
 * whole Log contract runs over SASL_SSL with SCRAM-SHA-256; the refusals are tested one by one.
 */
const skip = process.env.SKIP_KAFKA_TESTS === "1" || !scramBrokerAvailable();
const users = {
  sha256: { username: "platform", password: "platform-scram-256-secret", mechanism: "SCRAM-SHA-256" },
  sha512: { username: "platform512", password: "platform-scram-512-secret", mechanism: "SCRAM-SHA-512" },
  /** added to the running broker the way infra/up.sh adds its user */
  later: { username: "platform-later", password: "platform-later-secret", mechanism: "SCRAM-SHA-256" },
} as const;

describe("Kafka security from the environment", () => {
  const dir = mkdtempSync(join(tmpdir(), "kafka-security-env-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = join(dir, "ca.pem");
  const passwordFile = join(dir, "password");
  writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
  writeFileSync(passwordFile, "from-a-file\n");

  test.each([
    ["nothing set: PLAINTEXT", {}, undefined],
    [
      "SCRAM-SHA-512 in any case",
      { KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" },
      { sasl: { mechanism: "SCRAM-SHA-512", username: "u", password: "p" } },
    ],
    [
      "the password from a file",
      {
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-256",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      },
      { sasl: { mechanism: "SCRAM-SHA-256", username: "u", password: "from-a-file" } },
    ],
    [
      "TLS with a CA file",
      { KAFKA_TLS_CA_FILE: caFile },
      { tls: { ca: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n" } },
    ],
    ["TLS with the system's CAs", { KAFKA_TLS: "true" }, { tls: {} }],
  ] as const)("%s", (_, env, expected) => {
    expect(kafkaSecurityFromEnv(env)).toEqual(expected as KafkaSecurity | undefined);
  });

  test.each([
    [
      "an unknown mechanism",
      { KAFKA_SASL_MECHANISM: "GSSAPI", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" },
    ],
    ["a mechanism without a password", { KAFKA_SASL_MECHANISM: "SCRAM-SHA-256", KAFKA_SASL_USERNAME: "u" }],
    [
      "PLAIN without TLS (the password would cross the wire as it is)",
      { KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "hunter2-secret" },
    ],
    [
      "a password file that cannot be read",
      {
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-256",
        KAFKA_SASL_USERNAME: "u",
        KAFKA_SASL_PASSWORD_FILE: "/nonexistent/pw",
      },
    ],
  ] as const)("refuses %s with CONFIG_INVALID, echoing no secret", (_, env) => {
    let caught: unknown;
    try {
      kafkaSecurityFromEnv(env);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, ErrorCodes.CONFIG_INVALID)).toBe(true);
    expect((caught as Error).message).not.toContain("hunter2-secret");
  });

  test("TLS always verifies the broker's certificate", () => {
    expect(connectionSecurity({ tls: {} }).tls?.rejectUnauthorized).toBe(true);
  });
});

describe.skipIf(skip)("Kafka log with SASL/SCRAM and TLS against a real broker", () => {
  let broker: ScramBroker;
  beforeAll(async () => {
    broker = await startScramBroker([users.sha256, users.sha512], users.later);
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
  });

  // one retry for the refusals (quick); the contract gets the default five, as a fresh broker's
  // first JoinGroup waits for __consumer_offsets to be created
  const open = (brokerAddress: string, security: KafkaSecurity, retries = 1) =>
    openKafkaLog({
      brokers: [brokerAddress],
      clientId: "scram-test",
      security,
      retries,
      retryDelayMs: 100,
      connectTimeoutMs: 3000,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 300,
      rebalanceTimeoutMs: 10_000,
    });

  logContract("kafka over SASL_SSL with SCRAM-SHA-256 (private broker)", async () => {
    const log = await open(broker.saslSsl, { sasl: users.sha256, tls: { ca: broker.caPem } }, 5);
    return { log, cleanup: () => log.close() };
  });

  test.each([
    ["SCRAM-SHA-256 over SASL_PLAINTEXT", () => broker.saslPlaintext, () => ({ sasl: users.sha256 })],
    ["SCRAM-SHA-512 over SASL_PLAINTEXT", () => broker.saslPlaintext, () => ({ sasl: users.sha512 })],
    [
      "SCRAM-SHA-512 over SASL_SSL",
      () => broker.saslSsl,
      () => ({ sasl: users.sha512, tls: { ca: broker.caPem } }),
    ],
    [
      "a user added to the running broker as infra/up.sh adds it, over SASL_SSL",
      () => broker.saslSsl,
      () => ({ sasl: users.later, tls: { ca: broker.caPem } }),
    ],
  ] as const)("%s appends and reads back", async (_, address, security) => {
    const log = await open(address(), security() as KafkaSecurity);
    try {
      const topic = `scram-${Math.random().toString(36).slice(2, 10)}`;
      await log.createTopic({ name: topic, partitions: 1 });
      await log.append([{ topic, key: "k", value: new TextEncoder().encode("v") }]);
      const [record] = await log.read({ topic, partition: 0 }, { fromOffset: 0, maxRecords: 1 });
      expect(new TextDecoder().decode(record?.value ?? new Uint8Array())).toBe("v");
    } finally {
      await log.close();
    }
  });

  test.each([
    [
      "a wrong password",
      () => broker.saslPlaintext,
      () => ({ sasl: { ...users.sha256, password: "wrong-password-42" } }),
    ],
    [
      "an unknown user",
      () => broker.saslPlaintext,
      () => ({ sasl: { ...users.sha256, username: "nobody" } }),
    ],
    [
      "a user of the other mechanism",
      () => broker.saslPlaintext,
      () => ({ sasl: { ...users.sha512, mechanism: "SCRAM-SHA-256" } }),
    ],
  ] as const)("%s is refused with LOG_NOT_AUTHORIZED, echoing no password", async (_, address, security) => {
    const attempt = open(address(), security() as KafkaSecurity);
    const error = await attempt.then(
      async (log) => {
        await log.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isPlatformError(error, ErrorCodes.LOG_NOT_AUTHORIZED)).toBe(true);
    expect(String((error as Error).message)).not.toContain("wrong-password-42");
    expect(String((error as Error).message)).not.toContain(users.sha256.password);
  });

  test.each([
    ["no credentials on the SASL listener", () => broker.saslPlaintext, () => ({})],
    [
      "TLS with a CA that did not sign the broker's certificate",
      () => broker.saslSsl,
      () => ({ sasl: users.sha256, tls: { ca: broker.strangerCaPem } }),
    ],
    ["plain TCP on the TLS listener", () => broker.saslSsl, () => ({ sasl: users.sha256 })],
  ] as const)(
    "%s does not open the log",
    async (_, address, security) => {
      const error = await open(address(), security() as KafkaSecurity).then(
        async (log) => {
          await log.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(isPlatformError(error)).toBe(true);
    },
    30_000,
  );
});
