import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { kGetApi, type MessageRecord, NumericMap, produceV11 } from "@platformatic/kafka";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import {
  BatchEncodingProducer,
  createProduceRequest,
  produceV11WithOwnBatches,
} from "../../../log/kafka/produce-request.ts";
import type { Log } from "../../../log/log.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";

const T0 = 1_764_633_600_000n;

/** two topics, partitions out of order, one record left to the request's own defaults */
function topicData(): MessageRecord[] {
  const messages: MessageRecord[] = [];
  for (let i = 0; i < 40; i++)
    messages.push({
      topic: i % 3 === 0 ? "city.processed.traffic" : "city.window.changelog",
      partition: (i * 7) % 5,
      key: Buffer.from(`sensor-${i}`),
      value: Buffer.from(`{"i":${i}}`),
      timestamp: T0 + BigInt(i),
    });
  return messages;
}

function sequences(): NumericMap {
  const map = new NumericMap();
  for (let p = 0; p < 5; p++) {
    map.set(`city.processed.traffic:${p}`, 1_000 + p);
    map.set(`city.window.changelog:${p}`, 2_000 + p);
  }
  return map;
}

describe("the Produce v11 request with our record batches", () => {
  const producerStates = [
    { name: "idempotent, lz4", options: { compression: "lz4" as const, producerId: 9n, producerEpoch: 2 } },
    {
      name: "idempotent, uncompressed",
      options: { compression: "none" as const, producerId: 9n, producerEpoch: 2 },
    },
    {
      name: "transactional, lz4",
      options: { compression: "lz4" as const, producerId: 9n, producerEpoch: 2, transactionalId: "tx" },
    },
  ];
  for (const { name, options } of producerStates)
    test(`is the library's request byte for byte (${name}, several topics and partitions)`, () => {
      const ours = createProduceRequest(-1, 30_000, topicData(), { ...options, sequences: sequences() });
      const theirs = produceV11.createRequest(-1, 30_000, topicData(), {
        ...options,
        sequences: sequences(),
      });
      expect(ours.buffer.toString("hex")).toBe(theirs.buffer.toString("hex"));
    });

  test("a message without a partition or timestamp gets partition 0 and the request's time, kept for a retry", () => {
    const message = { topic: "t", key: Buffer.from("k"), value: Buffer.from("v") } as MessageRecord;
    const before = BigInt(Date.now());
    const first = createProduceRequest(-1, 1_000, [message], { compression: "none" }).buffer;
    expect(message.partition).toBe(0);
    expect(message.timestamp! >= before && message.timestamp! <= BigInt(Date.now())).toBe(true);
    expect(createProduceRequest(-1, 1_000, [message], { compression: "none" }).buffer.equals(first)).toBe(
      true,
    );
  });

  test("a gzip request is the library's own (it compresses off the thread)", async () => {
    const request = createRequestOfGzip();
    const theirs = await produceV11.createRequestAsync(-1, 1_000, topicData(), { compression: "gzip" });
    expect((await request).buffer.equals(theirs.buffer)).toBe(true);
  });
});

/** the API's request builder as the connection calls it, for gzip */
function createRequestOfGzip() {
  let built: Promise<{ buffer: Buffer }> | undefined;
  const connection = {
    send: (_key: number, _version: number, createPayload: () => unknown) => {
      built = Promise.resolve(createPayload() as { buffer: Buffer });
    },
  };
  (produceV11WithOwnBatches as unknown as (...args: unknown[]) => void)(
    connection,
    -1,
    1_000,
    topicData(),
    { compression: "gzip" },
    () => undefined,
  );
  return built!;
}

describe.skipIf(skipKafka)("the producer against the real broker", () => {
  let log: Log;
  beforeAll(async () => {
    await requireBroker();
    log = await openKafkaLog({ brokers, clientId: "produce-request" });
  });
  afterAll(async () => {
    await log?.close();
  });

  test("asks the broker's versions and sends Produce v11 built by our encoder; other APIs stay the library's", async () => {
    const producer = new BatchEncodingProducer({
      clientId: "produce-request-api",
      bootstrapBrokers: brokers,
    });
    try {
      const apiOf = (name: string) =>
        new Promise<unknown>((resolve, reject) =>
          producer[kGetApi](name, (error, api) => (error ? reject(error) : resolve(api))),
        );
      expect(await apiOf("Produce")).toBe(produceV11WithOwnBatches);
      expect(await apiOf("Metadata")).not.toBe(produceV11WithOwnBatches);
    } finally {
      await producer.close();
    }
  });

  test("records appended through the log read back as written: keys, values, headers, tombstones, timestamps 30 days apart (regression: the library wrote a timestamp delta of 2^31 ms or more wrongly and the broker refused the whole append)", async () => {
    const topic = `produce-request-${crypto.randomUUID()}`;
    await log.createTopic({ name: topic, partitions: 1 });
    const now = Date.now();
    const stamps = [now, now - 30 * 86_400_000, now + 1, 0];
    const positions = await log.append([
      { topic, key: "a", value: Buffer.from("1"), timestamp: stamps[0] },
      { topic, key: "é€😀", value: new TextEncoder().encode("2"), timestamp: stamps[1] },
      { topic, key: "gone", value: null, timestamp: stamps[2] },
      {
        topic,
        key: null,
        value: Buffer.from("4"),
        timestamp: stamps[3],
        headers: [
          { key: "trace", value: "x" },
          { key: "trace", value: "y" },
        ],
      },
    ]);
    expect(positions.map((p) => p.offset)).toEqual([0, 1, 2, 3]);
    const read = await log.read({ topic, partition: 0 });
    expect(read.map((r) => r.key)).toEqual(["a", "é€😀", "gone", null]);
    expect(read.map((r) => (r.value === null ? null : new TextDecoder().decode(r.value)))).toEqual([
      "1",
      "2",
      null,
      "4",
    ]);
    expect(read.map((r) => r.timestamp)).toEqual(stamps);
    expect(read[3]!.headers).toEqual([
      { key: "trace", value: "x" },
      { key: "trace", value: "y" },
    ]);
  }, 30_000);
});
