import { beforeAll, describe } from "bun:test";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { logContract } from "../log.contract.ts";

describe.skipIf(skipKafka)("Kafka log against the real broker", () => {
  beforeAll(requireBroker);
  logContract(`kafka (${brokers.join(",")})`, async () => {
    await requireBroker();
    const log = await openKafkaLog({
      brokers,
      clientId: "contract",
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 300,
      rebalanceTimeoutMs: 10_000,
    });
    return {
      log,
      async cleanup() {
        await log.close();
      },
    };
  });
});
