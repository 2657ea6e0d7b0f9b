import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChangelogSnapshotStore } from "../../engine/changelog-snapshot-store.ts";
import { ChangelogStore } from "../../log/changelog/changelog-store.ts";
import { type EmbeddedLog, openEmbeddedLog } from "../../log/embedded/index.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { partitionFor } from "../../messages/murmur2.ts";

const dir = mkdtempSync(join(tmpdir(), "changelog-snapshots-"));
const path = join(dir, "log.db");
const logs: EmbeddedLog[] = [];
const PARTITIONS = 6;

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function windowStore(applicationId: string): Promise<ChangelogStore> {
  const log = openEmbeddedLog({ path, maintenanceIntervalMs: 0, synchronous: "NORMAL" });
  logs.push(log);
  return ChangelogStore.open({ log, applicationId, kind: "window", partitions: PARTITIONS });
}

test("a passivation snapshot lands in the partition of its key and comes back in a new process", async () => {
  const store = await windowStore("snapshots-a");
  const snapshots = new ChangelogSnapshotStore({
    storeOf: (kind) => (kind === "window" ? store : undefined),
  });
  snapshots.save("window/traffic_3", { count: 4 });
  snapshots.save("window/traffic_9", { count: 1 });
  expect(snapshots.load("window/traffic_3")).toEqual({ count: 4 });
  snapshots.delete("window/traffic_9");
  await store.flush();

  const restarted = await windowStore("snapshots-a");
  const revived = new ChangelogSnapshotStore({ storeOf: () => restarted });
  const home = partitionFor("traffic_3", PARTITIONS);
  const restored = await revived.restorePartition("window", home);
  expect(restored.keys).toBe(1);
  expect(revived.load("window/traffic_3")).toEqual({ count: 4 });
  expect(revived.load("window/traffic_9")).toBeUndefined();
  revived.dropPartition("window", home);
  expect(revived.load("window/traffic_3")).toBeUndefined();
});

test("kinds without a state store keep their snapshots in memory only", async () => {
  const store = await windowStore("snapshots-b");
  const snapshots = new ChangelogSnapshotStore({
    storeOf: (kind) => (kind === "window" ? store : undefined),
  });
  snapshots.save("alerts/a1", { open: true });
  expect(snapshots.load("alerts/a1")).toEqual({ open: true });
  expect(store.stats().bufferedKeys).toBe(0);
  snapshots.delete("alerts/a1");
  expect(snapshots.size).toBe(0);
  await expect(snapshots.restorePartition("alerts", 0)).rejects.toMatchObject({
    code: ErrorCodes.UNKNOWN_ACTOR_KIND,
  });
});

test("a snapshot that does not serialise is a SCHEMA_VIOLATION naming the address", async () => {
  const store = await windowStore("snapshots-c");
  const snapshots = new ChangelogSnapshotStore({ storeOf: () => store });
  expect(() => snapshots.save("window/bad", { n: 1n })).toThrow("window/bad");
  expect(snapshots.load("window/bad")).toBeUndefined();
});

test("a snapshot saved while its partition restores is not replaced by the older changelog value", async () => {
  const store = await windowStore("snapshots-d");
  const snapshots = new ChangelogSnapshotStore({ storeOf: () => store, partitionOf: () => 2 });
  snapshots.save("window/k", { v: 1 });
  await store.flush();
  const revived = new ChangelogSnapshotStore({ storeOf: () => store, partitionOf: () => 2 });
  const restoring = revived.restorePartition("window", 2);
  revived.save("window/k", { v: 2 });
  await restoring;
  expect(revived.load("window/k")).toEqual({ v: 2 });
});
