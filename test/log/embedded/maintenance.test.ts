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

  test("a topic that is not compacted keeps every record", async () => {
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
