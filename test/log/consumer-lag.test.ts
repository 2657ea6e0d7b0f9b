import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consumerLag } from "../../log/consumer-lag.ts";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import type { Log } from "../../log/log.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function logWith(perPartition: readonly number[]): Promise<Log> {
  const dir = mkdtempSync(join(tmpdir(), "consumer-lag-"));
  const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => log.close());
  await log.createTopic({ name: "in", partitions: perPartition.length });
  const value = new TextEncoder().encode("x");
  await log.append(
    perPartition.flatMap((n, partition) =>
      Array.from({ length: n }, () => ({ topic: "in", key: null, value, partition })),
    ),
  );
  return log;
}

test("lag is each partition's end offset minus the group's committed offset", async () => {
  const log = await logWith([5, 3, 0]);
  const consumer = log.consumer({ groupId: "g", topics: ["in"] });
  cleanups.unshift(() => consumer.close());
  await consumer.poll({ timeoutMs: 100 });
  await consumer.commit([
    { topic: "in", partition: 0, offset: 2 },
    { topic: "in", partition: 1, offset: 3 },
  ]);
  expect(await consumerLag(log, "g", "in")).toEqual([
    { partition: 0, lag: 3 },
    { partition: 1, lag: 0 },
    { partition: 2, lag: 0 },
  ]);
});

test("a group that never committed lags by everything in the topic", async () => {
  const log = await logWith([4, 1]);
  expect(await consumerLag(log, "nobody", "in")).toEqual([
    { partition: 0, lag: 4 },
    { partition: 1, lag: 1 },
  ]);
});

test("a topic that does not exist has no lag to report", async () => {
  const log = await logWith([1]);
  expect(await consumerLag(log, "g", "missing")).toEqual([]);
});
