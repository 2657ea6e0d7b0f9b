import { beforeAll, describe, expect, test } from "bun:test";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import { readFetchBytes } from "../../../log/kafka/kafka-log.ts";
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

describe("the fetch size of a read", () => {
  const MIB = 1024 * 1024;
  test.each([
    {
      case: "nothing known yet: the whole partition fetch size",
      wanted: 20_000,
      perRecord: 0,
      bytes: 8 * MIB,
    },
    {
      case: "20,000 records of 160 bytes: about their bytes, not 8 MiB (regression: every byte read ~2.3 times)",
      wanted: 20_000,
      perRecord: 160,
      bytes: 3_376_384,
    },
    {
      case: "one record: the floor, so tiny reads still take a few batches",
      wanted: 1,
      perRecord: 160,
      bytes: 64 * 1024,
    },
    {
      case: "more than the partition fetch size allows: capped",
      wanted: 1_000_000,
      perRecord: 160,
      bytes: 8 * MIB,
    },
    { case: "a nonsense estimate: the whole size", wanted: 10, perRecord: Number.NaN, bytes: 8 * MIB },
  ])("$case", ({ wanted, perRecord, bytes }) => {
    expect(readFetchBytes(wanted, perRecord, 8 * MIB)).toBe(bytes);
  });
});
