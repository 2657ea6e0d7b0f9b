import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedLog, openEmbeddedLog } from "../../../log/embedded/index.ts";
import type { LogRecord } from "../../../log/log.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const shape = (records: LogRecord[]) =>
  records.map(
    (record) =>
      `${record.offset}:${record.key}=${record.value === null ? "null" : decoder.decode(record.value)}`,
  );

describe("embedded log maintenance", () => {
  let dir: string;
  let log: EmbeddedLog;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "embedded-maintenance-"));
    log = openEmbeddedLog({
      path: join(dir, "log.db"),
      maintenanceIntervalMs: 0,
      tombstoneRetentionMs: 60_000,
    });
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function writeHistory(topic: string, compacted: boolean, tombstoneAt: number): Promise<void> {
    await log.createTopic({ name: topic, partitions: 1, compacted });
    await log.append([
      { topic, key: "a", value: bytes("a1"), partition: 0 },
      { topic, key: "b", value: bytes("b1"), partition: 0 },
      { topic, key: "a", value: bytes("a2"), partition: 0 },
      { topic, key: "c", value: bytes("c1"), partition: 0 },
      { topic, key: "b", value: null, partition: 0, timestamp: tombstoneAt },
      { topic, key: null, value: bytes("keyless"), partition: 0 },
    ]);
  }

  test("compaction keeps the latest record per key and leaves offsets and the end offset as they were", async () => {
    await writeHistory("changelog", true, Date.now());
    const report = await log.maintain();
    expect(shape(await log.read({ topic: "changelog", partition: 0 }))).toEqual([
      "2:a=a2",
      "3:c=c1",
      "4:b=null",
      "5:null=keyless",
    ]);
    expect(report.compacted).toBe(2);
    expect(await log.endOffset({ topic: "changelog", partition: 0 })).toBe(6);
    const [next] = await log.append([{ topic: "changelog", key: "a", value: bytes("a3") }]);
    expect(next!.offset).toBe(6);
  });

  test("a tombstone older than the tombstone retention deletes its key entirely", async () => {
    const now = Date.now();
    await writeHistory("changelog", true, now - 120_000);
    await log.maintain(now);
    expect(shape(await log.read({ topic: "changelog", partition: 0 }))).toEqual([
      "2:a=a2",
      "3:c=c1",
      "5:null=keyless",
    ]);
  });

  test("a topic that is not compacted keeps every record younger than its retention", async () => {
    await writeHistory("plain", false, Date.now() - 120_000);
    const report = await log.maintain();
    expect(report).toEqual({ compacted: 0, expired: 0 });
    expect(await log.read({ topic: "plain", partition: 0 })).toHaveLength(6);
  });

  test("retention deletes records older than retentionMs and a group then starts at the oldest kept", async () => {
    const now = Date.now();
    await log.createTopic({ name: "readings", partitions: 1, retentionMs: 10_000 });
    await log.append([
      { topic: "readings", key: "s", value: bytes("old1"), timestamp: now - 60_000 },
      { topic: "readings", key: "s", value: bytes("old2"), timestamp: now - 20_000 },
      { topic: "readings", key: "s", value: bytes("new1"), timestamp: now - 1_000 },
      { topic: "readings", key: "s", value: bytes("new2"), timestamp: now },
    ]);
    const report = await log.maintain(now);
    expect(report.expired).toBe(2);
    expect(shape(await log.read({ topic: "readings", partition: 0 }))).toEqual(["2:s=new1", "3:s=new2"]);
    expect(await log.endOffset({ topic: "readings", partition: 0 })).toBe(4);
    const consumer = log.consumer({ groupId: "late-joiner", topics: ["readings"] });
    expect(shape(await consumer.poll({ timeoutMs: 1000 }))).toEqual(["2:s=new1", "3:s=new2"]);
    await consumer.close();
  });

  test("retention moves a partition's start: an old record behind a newer one stays until that one expires", async () => {
    const now = Date.now();
    await log.createTopic({ name: "skewed", partitions: 2, retentionMs: 10_000 });
    await log.append([
      { topic: "skewed", key: "s", value: bytes("old"), timestamp: now - 60_000, partition: 0 },
      { topic: "skewed", key: "s", value: bytes("fresh"), timestamp: now - 1_000, partition: 0 },
      { topic: "skewed", key: "s", value: bytes("skewed-old"), timestamp: now - 50_000, partition: 0 },
      { topic: "skewed", key: "t", value: bytes("all-old"), timestamp: now - 30_000, partition: 1 },
    ]);
    const report = await log.maintain(now);
    expect(report.expired).toBe(2);
    expect(shape(await log.read({ topic: "skewed", partition: 0 }))).toEqual(["1:s=fresh", "2:s=skewed-old"]);
    expect(await log.read({ topic: "skewed", partition: 1 })).toEqual([]);
    expect(await log.endOffset({ topic: "skewed", partition: 1 })).toBe(1);
    const [next] = await log.append([{ topic: "skewed", key: "t", value: bytes("new"), partition: 1 }]);
    expect(next!.offset).toBe(1);
  });

  test("every topic that is not compacted gets the log's retention: the per-topic override, else the default", async () => {
    await log.close();
    log = openEmbeddedLog({
      path: join(dir, "log.db"),
      maintenanceIntervalMs: 0,
      retention: { defaultMs: 20_000, topics: { "city.sensors.raw": 5_000 } },
    });
    const now = Date.now();
    for (const name of ["city.sensors.raw", "city.sensors.silver", "app.sensor.changelog"])
      await log.createTopic({ name, partitions: 1, compacted: name.endsWith(".changelog") });
    for (const topic of ["city.sensors.raw", "city.sensors.silver", "app.sensor.changelog"])
      await log.append([
        { topic, key: "a", value: bytes("60s"), timestamp: now - 60_000 },
        { topic, key: "b", value: bytes("10s"), timestamp: now - 10_000 },
        { topic, key: "c", value: bytes("1s"), timestamp: now - 1_000 },
      ]);
    await log.maintain(now);
    const kept = async (topic: string) =>
      (await log.read({ topic, partition: 0 })).map((record) => decoder.decode(record.value!));
    expect(await kept("city.sensors.raw")).toEqual(["1s"]);
    expect(await kept("city.sensors.silver")).toEqual(["10s", "1s"]);
    expect(await kept("app.sensor.changelog")).toEqual(["60s", "10s", "1s"]);
  });

  test("a topic made before a retention policy gets it when the node creates it again", async () => {
    await log.createTopic({ name: "legacy", partitions: 1, retentionMs: 999 });
    await log.close();
    log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
    expect(await log.topicConfig("legacy")).toEqual({ compacted: false, retentionMs: 999 });
    await log.createTopic({ name: "legacy", partitions: 1 });
    expect(await log.topicConfig("legacy")).toEqual({ compacted: false, retentionMs: 7 * 24 * 3_600_000 });
  });

  test("a zero or negative retention is refused with CONFIG_INVALID", () => {
    for (const retention of [{ defaultMs: 0 }, { defaultMs: 1000, topics: { t: -5 } }])
      expect(() => openEmbeddedLog({ path: join(dir, "other.db"), retention })).toThrow("CONFIG_INVALID");
  });

  test("the maintenance timer compacts without being asked", async () => {
    await log.close();
    log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 20, tombstoneRetentionMs: 0 });
    await writeHistory("changelog", true, Date.now() - 1000);
    const deadline = Date.now() + 5_000;
    while ((await log.read({ topic: "changelog", partition: 0 })).length > 3 && Date.now() < deadline) {
      await Bun.sleep(20);
    }
    expect(shape(await log.read({ topic: "changelog", partition: 0 }))).toEqual([
      "2:a=a2",
      "3:c=c1",
      "5:null=keyless",
    ]);
    expect(log.lastMaintenanceFailure()).toBeUndefined();
  });
});
