import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChangelogStore, DEFAULT_RESTORE_BATCH_RECORDS } from "../../../log/changelog/changelog-store.ts";
import { type EmbeddedLog, openEmbeddedLog } from "../../../log/embedded/index.ts";
import type { Log, LogRecord, ReadOptions, TopicPartition } from "../../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { Topics } from "../../../messages/topics.ts";
import { stateStoreContract } from "./state-store.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "changelog-store-"));
const logs: EmbeddedLog[] = [];
let apps = 0;

function embeddedLog(path = join(dir, "log.db")): EmbeddedLog {
  const log = openEmbeddedLog({ path, maintenanceIntervalMs: 0, synchronous: "NORMAL" });
  logs.push(log);
  return log;
}

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  rmSync(dir, { recursive: true, force: true });
});

stateStoreContract("changelog on the embedded log", async () => ({
  async open({ partitions, onCorrupt, codec }) {
    const applicationId = `app${++apps}`;
    const options = {
      applicationId,
      kind: "window",
      partitions,
      ...(onCorrupt === undefined ? {} : { onCorrupt }),
      ...(codec === undefined ? {} : { codec }),
    };
    const log = embeddedLog();
    const store = await ChangelogStore.open({ ...options, log });
    return {
      store,
      // a second EmbeddedLog on the same file: what a restarted process opens
      reopen: async () => ChangelogStore.open({ ...options, log: embeddedLog() }),
      async writeRaw(partition, key, value) {
        await log.append([{ topic: store.topic, partition, key, value }]);
      },
      async compact() {
        await log.maintain();
        return true;
      },
    };
  },
  async cleanup() {},
}));

test("the changelog topic is Topics.changelogOf(applicationId, kind), compacted, with the input's partitions", async () => {
  const log = embeddedLog(join(dir, "naming.db"));
  const store = await ChangelogStore.open({ log, applicationId: "naming", kind: "sensor", partitions: 5 });
  expect(store.topic).toBe(Topics.changelogOf("naming", "sensor"));
  expect(await log.partitions(store.topic)).toBe(5);
  store.put(0, "a", 1);
  await store.flush();
  store.put(0, "a", 2);
  await store.flush();
  expect((await log.maintain()).compacted).toBe(1);
});

test("a changelog with another partition count than the input is CONFIG_INVALID", async () => {
  const log = embeddedLog();
  await ChangelogStore.open({ log, applicationId: "mismatch", kind: "window", partitions: 3 });
  await expect(
    ChangelogStore.open({ log, applicationId: "mismatch", kind: "window", partitions: 4 }),
  ).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID });
});

test("state flushed before the log file is closed restores from a new EmbeddedLog on the same file", async () => {
  const path = join(dir, "reopen.db");
  const first = openEmbeddedLog({ path, maintenanceIntervalMs: 0 });
  const store = await ChangelogStore.open({
    log: first,
    applicationId: "restart",
    kind: "drift",
    partitions: 2,
  });
  store.put(1, "model_a", { mean: 1.25, n: 40 });
  store.delete(0, "never-written");
  await store.flush();
  await first.close();
  const second = embeddedLog(path);
  const reopened = await ChangelogStore.open({
    log: second,
    applicationId: "restart",
    kind: "drift",
    partitions: 2,
  });
  expect(await reopened.restore([0, 1])).toEqual(new Map([["model_a", { mean: 1.25, n: 40 }]]));
});

test("a failed flush keeps its records buffered under newer values, and rejects", async () => {
  const path = join(dir, "closing.db");
  const log = openEmbeddedLog({ path, maintenanceIntervalMs: 0 });
  const store = await ChangelogStore.open({ log, applicationId: "failing", kind: "window", partitions: 1 });
  store.put(0, "a", 1);
  store.put(0, "b", 1);
  await log.close();
  await expect(store.flush()).rejects.toMatchObject({ code: ErrorCodes.LOG_CLOSED });
  expect(store.stats()).toMatchObject({ bufferedKeys: 2, recordsWritten: 0, flushes: 0 });
  store.put(0, "a", 2);
  await expect(store.flush()).rejects.toMatchObject({ code: ErrorCodes.LOG_CLOSED });
  expect(store.stats().bufferedKeys).toBe(2);
});

test("flushes of the same key land in call order even when not awaited one by one", async () => {
  const log = embeddedLog();
  const store = await ChangelogStore.open({ log, applicationId: "ordered", kind: "window", partitions: 1 });
  const flushes: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    store.put(0, "k", i);
    flushes.push(store.flush());
    // let some flushes start between puts, so several are in flight at once
    if (i % 4 === 0) await Bun.sleep(0);
  }
  await Promise.all(flushes);
  expect(await store.restore([0])).toEqual(new Map([["k", 19]]));
  expect(store.stats().flushes).toBeGreaterThan(1);
});

test("flush of some partitions leaves the others buffered", async () => {
  const log = embeddedLog();
  const store = await ChangelogStore.open({ log, applicationId: "partial", kind: "window", partitions: 3 });
  store.put(0, "a", 1);
  store.put(1, "b", 1);
  store.put(2, "c", 1);
  await store.flush([1]);
  expect(store.stats()).toMatchObject({ recordsWritten: 1, bufferedKeys: 2 });
  expect(await store.restore([0, 1, 2])).toEqual(new Map([["b", 1]]));
});

test("a keyless changelog record is reported as corrupt with its offset and skipped", async () => {
  const log = embeddedLog();
  const reports: [string | null, number, number][] = [];
  const store = await ChangelogStore.open({
    log,
    applicationId: "keyless",
    kind: "window",
    partitions: 1,
    onCorrupt: (key, partition, offset) => reports.push([key, partition, offset]),
  });
  await log.append([{ topic: store.topic, partition: 0, key: null, value: new Uint8Array([1]) }]);
  store.put(0, "k", 1);
  await store.flush();
  expect(await store.restore([0])).toEqual(new Map([["k", 1]]));
  expect(reports).toEqual([[null, 0, 0]]);
});

test("restore reads up to the end offset as of its start, in batches", async () => {
  const log = embeddedLog();
  const store = await ChangelogStore.open({
    log,
    applicationId: "batches",
    kind: "window",
    partitions: 1,
    restoreBatchRecords: 7,
  });
  for (let i = 0; i < 50; i++) store.put(0, `k${i}`, i);
  await store.flush();
  const restored = await store.restorePartition(0, () => undefined);
  expect(restored).toMatchObject({ records: 50, keys: 50, endOffset: 50 });
});

/**
 * The embedded log with its restore calls observed: `events` gets "endOffset <p>" and
 * "read <p>@<offset>"; `failRead` may make a read reject (a broker gone mid-restore).
 */
function observedLog(
  log: Log,
  events: string[],
  failRead: (partition: number, fromOffset: number) => boolean = () => false,
): Log {
  return new Proxy(log, {
    get(target, name, receiver) {
      if (name === "endOffset")
        return (tp: TopicPartition) => {
          events.push(`endOffset ${tp.partition}`);
          return target.endOffset(tp);
        };
      if (name === "read")
        return async (tp: TopicPartition, options?: ReadOptions): Promise<LogRecord[]> => {
          const from = options?.fromOffset ?? 0;
          events.push(`read ${tp.partition}@${from}`);
          if (failRead(tp.partition, from))
            throw new PlatformError(ErrorCodes.LOG_BROKER_UNAVAILABLE, "broker gone");
          return target.read(tp, options);
        };
      const value = Reflect.get(target, name, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

test("a restore reads 100,000 records at a time by default", async () => {
  const events: string[] = [];
  const base = embeddedLog();
  const store = await ChangelogStore.open({
    log: observedLog(base, events),
    applicationId: "default-chunks",
    kind: "window",
    partitions: 1,
  });
  const records = DEFAULT_RESTORE_BATCH_RECORDS + 1;
  for (let i = 0; i < records; i++) store.put(0, `k${i}`, i);
  await store.flush();
  const restored = await store.restorePartition(0);
  expect(restored).toMatchObject({ records, keys: records, endOffset: records });
  expect(events).toEqual(["endOffset 0", "read 0@0", `read 0@${DEFAULT_RESTORE_BATCH_RECORDS}`]);
});

test("a read that fails mid-restore rejects the restore with the log's error, and a later restore runs", async () => {
  const events: string[] = [];
  let failures = 1;
  const store = await ChangelogStore.open({
    log: observedLog(embeddedLog(), events, (_partition, from) => from === 10 && failures-- > 0),
    applicationId: "read-failed",
    kind: "window",
    partitions: 1,
    restoreBatchRecords: 10,
    // one slot: a failed restore that kept it would leave the next one waiting forever
    restoreConcurrency: 1,
  });
  for (let i = 0; i < 25; i++) store.put(0, `k${i}`, i);
  await store.flush();
  await expect(store.restorePartition(0)).rejects.toMatchObject({ code: ErrorCodes.LOG_BROKER_UNAVAILABLE });
  expect(events).toEqual(["endOffset 0", "read 0@0", "read 0@10"]);
  expect((await store.restorePartition(0)).keys).toBe(25);
});
