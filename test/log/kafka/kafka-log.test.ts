import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Connection, TimeoutError } from "@platformatic/kafka";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import { readFetchBytes } from "../../../log/kafka/kafka-log.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { eventually } from "../../node/node-fixture.ts";
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

/**
 * Answers of produce requests to one topic that the broker wrote and the client never sees, as
 * when a busy broker answers after the request timeout: the broker has the records, the client
 * gets a retriable timeout. Only the answer is lost; the broker is real.
 */
function loseProduceAnswers(topic: string, count: number | "all") {
  const send = Connection.prototype.send;
  let left = count;
  let lost = 0;
  Connection.prototype.send = function (this: Connection, ...args: Parameters<Connection["send"]>) {
    const [apiKey, , , , , , callback] = args;
    if (apiKey !== 0) return send.apply(this, args);
    const answer: typeof callback = (error, response) => {
      const written = response as { responses?: { name?: string }[] } | undefined;
      const ours = error == null && written?.responses?.some((r) => r.name === topic) === true;
      if (ours && (left === "all" || left > 0)) {
        if (left !== "all") left--;
        lost++;
        callback(new TimeoutError("Request timed out", { canRetry: true }), undefined as never);
        return;
      }
      callback(error, response);
    };
    args[6] = answer;
    return send.apply(this, args);
  } as Connection["send"];
  return {
    get lost() {
      return lost;
    },
    restore() {
      Connection.prototype.send = send;
    },
  };
}

describe.skipIf(skipKafka)("an append whose answer the broker never gave in time", () => {
  beforeAll(requireBroker);
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  const readAll = async (log: Awaited<ReturnType<typeof openKafkaLog>>, topic: string) =>
    (await log.read({ topic, partition: 0 }, { maxRecords: 100 })).map((r) =>
      new TextDecoder().decode(r.value!),
    );

  test("is written once when the answers of the first sends were lost (regression: a retry with new sequence numbers wrote it twice)", async () => {
    const topic = `append-lost-answer-${crypto.randomUUID()}`;
    // the library's own retries (2) run out before the answer comes back, as they did on the
    // shared busy broker; the append must still not be sent a second time under a new sequence
    const log = await openKafkaLog({
      brokers,
      clientId: "lost-answer",
      retries: 2,
      retryDelayMs: 20,
      deliveryTimeoutMs: 20_000,
    });
    try {
      await log.createTopic({ name: topic, partitions: 1 });
      const lost = loseProduceAnswers(topic, 4);
      restore = lost.restore;
      const positions = await log.append(
        ["a", "b", "c"].map((v) => ({ topic, key: "k", value: new TextEncoder().encode(v) })),
      );
      expect(lost.lost).toBe(4);
      lost.restore();
      expect(positions.map((p) => p.offset)).toEqual([0, 1, 2]);
      expect(await readAll(log, topic)).toEqual(["a", "b", "c"]);
    } finally {
      await log.close();
    }
  }, 60_000);

  // regression: an append of more than the broker's message.max.bytes (1 MiB) to one partition
  // went out as one record batch and the broker refused it: LOG_RECORD_TOO_LARGE for a backlog of
  // small records (the peer bench's output router, 100k sensors)
  test("an append of 3 MiB to one partition lands whole, in order, as several requests", async () => {
    const topic = `append-past-request-size-${crypto.randomUUID()}`;
    const log = await openKafkaLog({ brokers, clientId: "past-request-size" });
    try {
      await log.createTopic({ name: topic, partitions: 1 });
      // random bytes, so lz4 cannot shrink them under the limit
      const values = Array.from({ length: 300 }, (_, i) => {
        const value = crypto.getRandomValues(new Uint8Array(10_240));
        value[0] = i % 256;
        return value;
      });
      const positions = await log.append(values.map((value) => ({ topic, key: "k", value })));
      expect(positions.map((p) => p.offset)).toEqual(values.map((_, i) => i));
      const read = await log.read({ topic, partition: 0 }, { maxRecords: 1_000 });
      expect(read.map((r) => r.value?.[0])).toEqual(values.map((v) => v[0]));
      expect(read).toHaveLength(300);
    } finally {
      await log.close();
    }
  }, 60_000);

  test("fails with LOG_BROKER_UNAVAILABLE after the delivery timeout, and what landed is there once", async () => {
    const topic = `append-never-answered-${crypto.randomUUID()}`;
    const log = await openKafkaLog({
      brokers,
      clientId: "never-answered",
      retries: 2,
      retryDelayMs: 50,
      deliveryTimeoutMs: 500,
    });
    try {
      await log.createTopic({ name: topic, partitions: 1 });
      const lost = loseProduceAnswers(topic, "all");
      restore = lost.restore;
      const append = log.append([{ topic, key: "k", value: new TextEncoder().encode("x") }]);
      await expect(append).rejects.toMatchObject({ code: ErrorCodes.LOG_BROKER_UNAVAILABLE });
      // every resend carried the first send's sequence number: the broker kept one copy
      expect(lost.lost).toBeGreaterThan(2);
      lost.restore();
      expect(await readAll(log, topic)).toEqual(["x"]);
    } finally {
      await log.close();
    }
  }, 60_000);
  test("a close abandons a send still unanswered after the close timeout, and its append fails (regression: the stop of a node waited for the whole delivery timeout)", async () => {
    const topic = `append-at-close-${crypto.randomUUID()}`;
    const log = await openKafkaLog({
      brokers,
      clientId: "close-timeout",
      retryDelayMs: 50,
      deliveryTimeoutMs: 120_000,
      closeTimeoutMs: 300,
    });
    await log.createTopic({ name: topic, partitions: 1 });
    const lost = loseProduceAnswers(topic, "all");
    restore = lost.restore;
    const append = log.append([{ topic, key: "k", value: new TextEncoder().encode("x") }]);
    const outcome = append.then(
      () => "appended",
      () => "failed",
    );
    expect(
      await eventually(
        () => lost.lost,
        (n) => n >= 1,
      ),
    ).toBeGreaterThanOrEqual(1);
    const started = performance.now();
    await log.close().catch(() => undefined);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await outcome).toBe("failed");
  }, 60_000);
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
