import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Admin } from "@platformatic/kafka";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const unique = (what: string) =>
  `kafka-spec.${what}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;

async function errorOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe.skipIf(skipKafka)("Kafka log specifics against the real broker", () => {
  let log: Log;
  let admin: Admin;

  beforeAll(async () => {
    await requireBroker();
    log = await openKafkaLog({ brokers, clientId: "kafka-spec" });
    admin = new Admin({ clientId: "kafka-spec-admin", bootstrapBrokers: [...brokers] });
  });
  afterAll(async () => {
    await log?.close();
    await admin?.close();
  });

  async function topicConfig(topic: string): Promise<Record<string, string | null | undefined>> {
    const [described] = await admin.describeConfigs({
      resources: [
        { resourceType: 2, resourceName: topic, configurationKeys: ["cleanup.policy", "retention.ms"] },
      ],
    });
    return Object.fromEntries((described?.configs ?? []).map((config) => [config.name, config.value]));
  }

  test("a compacted topic is created with cleanup.policy=compact", async () => {
    const topic = unique("changelog");
    await log.createTopic({ name: topic, partitions: 2, compacted: true });
    expect((await topicConfig(topic))["cleanup.policy"]).toBe("compact");
  });

  test("a compacted topic with a retention of its own is created with cleanup.policy=compact,delete", async () => {
    const topic = unique("windowed-changelog");
    await log.createTopic({ name: topic, partitions: 2, compacted: true, retentionMs: 3_600_000 });
    const config = await topicConfig(topic);
    expect(config["cleanup.policy"]).toBe("compact,delete");
    expect(config["retention.ms"]).toBe("3600000");
  });

  test("a topic gets retention.ms from the log's policy: the per-topic override, else the default", async () => {
    const overridden = unique("raw");
    const plain = unique("silver");
    const withPolicy = await openKafkaLog({
      brokers,
      clientId: "kafka-spec-retention",
      retention: { defaultMs: 86_400_000, topics: { [overridden]: 3_600_000 } },
    });
    try {
      await withPolicy.createTopic({ name: overridden, partitions: 1 });
      await withPolicy.createTopic({ name: plain, partitions: 1 });
    } finally {
      await withPolicy.close();
    }
    expect(await topicConfig(overridden)).toEqual({ "cleanup.policy": "delete", "retention.ms": "3600000" });
    expect(await topicConfig(plain)).toEqual({ "cleanup.policy": "delete", "retention.ms": "86400000" });
  });

  test("an existing topic without a retention of its own gets the policy's; an operator's own setting stays", async () => {
    const bare = unique("bare");
    const tuned = unique("tuned");
    await admin.createTopics({ topics: [bare], partitions: 1, replicas: -1 });
    await admin.createTopics({
      topics: [tuned],
      partitions: 1,
      replicas: -1,
      configs: [{ name: "retention.ms", value: "123456789" }],
    });
    // the broker's own default is 7 days: a 2-day policy shows the topic was changed
    const twoDays = 2 * 24 * 3_600_000;
    const withPolicy = await openKafkaLog({
      brokers,
      clientId: "kafka-spec-existing",
      retention: { defaultMs: twoDays },
    });
    try {
      await withPolicy.createTopic({ name: bare, partitions: 1 });
      await withPolicy.createTopic({ name: tuned, partitions: 1 });
      expect(await withPolicy.topicConfig(bare)).toEqual({ compacted: false, retentionMs: twoDays });
      expect(await withPolicy.topicConfig(tuned)).toEqual({ compacted: false, retentionMs: 123_456_789 });
    } finally {
      await withPolicy.close();
    }
    expect((await topicConfig(bare))["retention.ms"]).toBe(String(twoDays));
  });

  test("an existing topic that deletes becomes compacted when the platform asks for a changelog", async () => {
    const topic = unique("old-changelog");
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 });
    await log.createTopic({ name: topic, partitions: 1, compacted: true });
    expect((await topicConfig(topic))["cleanup.policy"]).toBe("compact");
  });

  test("nodes creating the same topics at the same moment all succeed (regression: one failed describing a topic the other had just created)", async () => {
    const others = await Promise.all(
      [1, 2, 3].map((i) => openKafkaLog({ brokers, clientId: `kafka-spec-racer-${i}` })),
    );
    try {
      const topics = Array.from({ length: 5 }, (_, i) => unique(`raced-${i}`));
      for (const topic of topics)
        await Promise.all(
          [log, ...others].map((racer) => racer.createTopic({ name: topic, partitions: 3, compacted: true })),
        );
      for (const topic of topics) expect((await topicConfig(topic))["cleanup.policy"]).toBe("compact");
    } finally {
      await Promise.all(others.map((other) => other.close()));
    }
  });

  test("a plain topic keeps the delete policy", async () => {
    const topic = unique("plain");
    await log.createTopic({ name: topic, partitions: 1 });
    expect((await topicConfig(topic))["cleanup.policy"]).toBe("delete");
  });

  test("a dead-letter topic named <topic>.dlq can be created and written", async () => {
    const topic = `${unique("readings")}.dlq`;
    await log.createTopic({ name: topic, partitions: 1 });
    const [position] = await log.append([{ topic, key: "sensor_1", value: bytes("bad bytes") }]);
    expect(position).toEqual({ topic, partition: 0, offset: 0 });
  });

  test("concurrent appends are batched and each gets its own consecutive offsets", async () => {
    const topic = unique("batched");
    await log.createTopic({ name: topic, partitions: 1 });
    const appends = Array.from({ length: 20 }, (_, i) =>
      log.append([
        { topic, key: null, value: bytes(`a${i}`), partition: 0 },
        { topic, key: null, value: bytes(`b${i}`), partition: 0 },
      ]),
    );
    const offsets = (await Promise.all(appends)).flat().map((position) => position.offset);
    expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const stored = await log.read({ topic, partition: 0 }, { maxRecords: 100 });
    for (const [i, positions] of (await Promise.all(appends)).entries()) {
      expect(new TextDecoder().decode(stored[positions[0]!.offset]!.value!)).toBe(`a${i}`);
      expect(positions[1]!.offset).toBe(positions[0]!.offset + 1);
    }
  });

  test("a compressible batch of 2000 records round-trips through lz4", async () => {
    const topic = unique("lz4");
    await log.createTopic({ name: topic, partitions: 1 });
    const value = bytes(JSON.stringify({ sensor: "s", temperature: 21.5, pad: "x".repeat(200) }));
    await log.append(Array.from({ length: 2000 }, (_, i) => ({ topic, key: `k${i}`, value, partition: 0 })));
    expect(await log.endOffset({ topic, partition: 0 })).toBe(2000);
    const tail = await log.read({ topic, partition: 0 }, { fromOffset: 1990, maxRecords: 100 });
    expect(tail.map((record) => record.key)).toEqual(Array.from({ length: 10 }, (_, i) => `k${1990 + i}`));
  });

  test("a record the broker refuses as too large is LOG_RECORD_TOO_LARGE naming the topic", async () => {
    const topic = unique("large");
    await log.createTopic({ name: topic, partitions: 1 });
    // the client limit is raised above the broker's message.max.bytes (about 1 MiB)
    const lenient = await openKafkaLog({
      brokers,
      clientId: "kafka-spec-large",
      maxRecordBytes: 8 * 1024 * 1024,
    });
    try {
      // random bytes: lz4 would shrink a repetitive value under the limit
      const value = new Uint8Array(2 * 1024 * 1024);
      for (let at = 0; at < value.length; at += 65_536)
        crypto.getRandomValues(value.subarray(at, at + 65_536));
      const error = await errorOf(() => lenient.append([{ topic, key: "big", value }]));
      expect(isPlatformError(error, ErrorCodes.LOG_RECORD_TOO_LARGE)).toBe(true);
      expect((error as Error).message).toContain(topic);
    } finally {
      await lenient.close();
    }
  });

  test("the record limit counts a key's UTF-8 bytes exactly: a record at the limit is taken, one byte over is refused", async () => {
    const topic = unique("limit");
    await log.createTopic({ name: topic, partitions: 1 });
    const limit = 1_000;
    const strict = await openKafkaLog({ brokers, clientId: "kafka-spec-limit", maxRecordBytes: limit });
    try {
      // 100 "é": 200 UTF-8 bytes, where the quick bound says 300, so this record is measured
      const key = "é".repeat(100);
      const atLimit = new Uint8Array(limit - 32 - 200);
      const positions = await strict.append([{ topic, key, value: atLimit }]);
      expect(positions[0]!.offset).toBe(0);
      const error = await errorOf(() =>
        strict.append([{ topic, key, value: new Uint8Array(atLimit.length + 1) }]),
      );
      expect(isPlatformError(error, ErrorCodes.LOG_RECORD_TOO_LARGE)).toBe(true);
      expect((error as Error).message).toContain(`a record of ${limit + 1} bytes`);
      expect(await strict.endOffset({ topic, partition: 0 })).toBe(1);
    } finally {
      await strict.close();
    }
  });

  test("an unreachable broker is LOG_BROKER_UNAVAILABLE naming the brokers", async () => {
    const error = await errorOf(() =>
      openKafkaLog({ brokers: ["127.0.0.1:1"], retries: 0, connectTimeoutMs: 500 }),
    );
    expect(isPlatformError(error, ErrorCodes.LOG_BROKER_UNAVAILABLE)).toBe(true);
    expect((error as Error).message).toContain("127.0.0.1:1");
  });

  test("a consumer that commits in onRevoked hands its position to the next member", async () => {
    const topic = unique("handoff");
    await log.createTopic({ name: topic, partitions: 1 });
    await log.append(Array.from({ length: 6 }, (_, i) => ({ topic, key: null, value: bytes(`h${i}`) })));
    const groupId = unique("group");
    let read = 0;
    const first = log.consumer({
      groupId,
      topics: [topic],
      rebalance: {
        onRevoked: async (partitions) => {
          await first.commit(partitions.map((tp) => ({ ...tp, offset: read })));
        },
      },
    });
    const deadline = Date.now() + 20_000;
    while (read < 6 && Date.now() < deadline) read += (await first.poll({ timeoutMs: 200 })).length;
    expect(read).toBe(6);
    await first.close();
    const second = log.consumer({ groupId, topics: [topic] });
    try {
      expect(await second.committed({ topic, partition: 0 })).toBe(6);
      await log.append([{ topic, key: null, value: bytes("after") }]);
      const got = [];
      while (got.length < 1 && Date.now() < deadline) got.push(...(await second.poll({ timeoutMs: 200 })));
      expect(got.map((record) => record.offset)).toEqual([6]);
    } finally {
      await second.close();
    }
  }, 30_000);
});
