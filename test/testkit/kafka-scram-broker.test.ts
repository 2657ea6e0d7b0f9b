import { afterEach, describe, expect, test } from "bun:test";
import { portOpen } from "../../testkit/kafka-broker.ts";
import {
  type ScramBroker,
  scramBrokerAvailable,
  startScramBroker,
} from "../../testkit/kafka-scram-broker.ts";
import { type PortSquatter, squatPort } from "./port-squatter.ts";

const skip = process.env.SKIP_KAFKA_TESTS === "1" || !scramBrokerAvailable();

describe.skipIf(skip)("a SCRAM Kafka broker of a test's own", () => {
  const brokers: ScramBroker[] = [];
  const squatters: PortSquatter[] = [];
  afterEach(async () => {
    for (const broker of brokers.splice(0)) await broker.stop();
    for (const squatter of squatters.splice(0)) await squatter.release();
  });

  // regression: freePort() answers a port another process may bind before the broker does, and
  // the broker then exits ("Socket server failed to bind ...: Address already in use"); here its
  // SASL_PLAINTEXT port, the one the start waits on, so a squatter there must not pass for it
  test(
    "starts on other ports when a port it chose is taken before it binds",
    async () => {
      const squatter = await squatPort(3);
      squatters.push(squatter);

      const broker = await startScramBroker([], undefined, squatter.choosePort);
      brokers.push(broker);

      expect(squatter.handedOut()).toBeGreaterThan(4);
      expect(broker.saslPlaintext).not.toBe(`127.0.0.1:${squatter.port}`);
      const [host, port] = broker.saslPlaintext.split(":") as [string, string];
      expect(await portOpen(host, Number(port))).toBe(true);
      expect(broker.output()).toContain("Kafka Server started");
    },
    { timeout: 180_000 },
  );
});
