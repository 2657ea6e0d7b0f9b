import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { type KafkaProxy, startKafkaProxy } from "./kafka-proxy.ts";
import { removeScratch } from "./scratch-topics.ts";

/**
 * An append is bounded in time by the delivery timeout (Kafka's delivery.timeout.ms), not only
 * by a count of retries: a broker that stops answering without closing its connections (a
 * network partition, a hung broker) held each try for the whole request timeout, so an append
 * waited retries x request timeout (hours at the defaults) before it failed. Here a proxy on
 * loopback swallows every request once the topic is known; the append must fail with a coded
 * error soon after its delivery timeout, long before one request timeout is over.
 */
const DELIVERY_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 60_000;
const [upstreamHost, upstreamPort] = (brokers[0] ?? "127.0.0.1:9092").split(":");

describe.skipIf(skipKafka)(
  "an append to a broker that stops answering (real broker, blackholing proxy)",
  () => {
    let proxy: KafkaProxy;
    let log: Log;
    const topic = `append-blackholed-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

    beforeAll(async () => {
      await requireBroker();
      proxy = await startKafkaProxy({
        upstreamHost: upstreamHost ?? "127.0.0.1",
        upstreamPort: Number(upstreamPort ?? 9092),
      });
      log = await openKafkaLog({
        brokers: [`127.0.0.1:${proxy.port}`],
        clientId: "append-blackholed",
        deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        closeTimeoutMs: 200,
      });
      await log.createTopic({ name: topic, partitions: 1 });
      // answered: the topic's partitions are known, so the next append goes straight to its send
      await log.append([{ topic, key: "k", value: new TextEncoder().encode("before") }]);
    });

    afterAll(async () => {
      if (proxy) proxy.blackhole = false;
      await log?.close().catch(() => undefined);
      await proxy?.close();
      await removeScratch({ topics: [topic] });
    });

    test("fails with LOG_BROKER_UNAVAILABLE once its delivery timeout has passed, not after retries x the request timeout", async () => {
      proxy.blackhole = true;
      const startedAt = Date.now();
      const outcome = await Promise.race([
        log.append([{ topic, key: "k", value: new TextEncoder().encode("unanswered") }]).then(
          () => "appended" as const,
          (error: unknown) => error,
        ),
        // a bound far above the delivery timeout and far below one request timeout
        Bun.sleep(REQUEST_TIMEOUT_MS / 4).then(() => "still waiting" as const),
      ]);
      const elapsed = Date.now() - startedAt;
      expect(isPlatformError(outcome, ErrorCodes.LOG_BROKER_UNAVAILABLE)).toBe(true);
      expect((outcome as Error).message).toContain(`${DELIVERY_TIMEOUT_MS} ms`);
      expect(elapsed).toBeGreaterThanOrEqual(DELIVERY_TIMEOUT_MS);
    }, 60_000);
  },
);
