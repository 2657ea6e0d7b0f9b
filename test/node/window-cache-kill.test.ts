import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { openLog } from "../../log/index.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { type EmbeddedNodeProcess, spawnEmbeddedNode, waitFor } from "../../testkit/embedded-node-process.ts";
import { trafficReading } from "../../testkit/traffic-reading.ts";

/**
 * kill -9 of a node whose window updates are held to the checkpoint (WINDOW_UPDATE_FLUSH=
 * checkpoint): the updates its record caches held die with it, and so does the state that
 * implied them; the readings that caused them were not committed, so the restarted node reads
 * them again, and every window counts each reading once. The first readings of each window are
 * checkpointed before the kill (restored from the changelog), the last one is only in a cache.
 */
const WINDOW_MS = 2000; // spawnEmbeddedNode's --window-ms; its grace is 500 ms
const SENSORS = Array.from({ length: 8 }, (_, i) => `traffic_kc${i}`);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const spawn = (dataDir: string) =>
  spawnEmbeddedNode({
    dataDir,
    simulate: false,
    // a checkpoint every 4 s: the last readings' updates wait in the cache when the node dies
    args: ["--window-update-flush", "checkpoint", "--commit-interval-ms", "4000"],
  });

async function publish(node: EmbeddedNodeProcess, at: number): Promise<void> {
  const url = /MQTT\s+(mqtt:\/\/\S+)/.exec(node.output())?.[1];
  expect(url).toBeDefined();
  const client = await mqtt.connectAsync(url!);
  for (const sensor of SENSORS)
    await client.publishAsync(
      `city/sensors/traffic/${sensor}`,
      JSON.stringify(trafficReading(sensor, at, 10)),
      {
        qos: 1,
      },
    );
  await client.endAsync();
}

/** every sensor's latest processed reading (the node's read model) is the one at `at` */
const processedUpTo = (node: EmbeddedNodeProcess, at: number) =>
  waitFor(
    `every sensor's reading at ${at}`,
    async () => {
      for (const sensor of SENSORS) {
        const answer = (await (
          await fetch(`${node.apiUrl}/api/sensors/${sensor}/readings/latest`)
        ).json()) as {
          reading?: { event_time: number };
        };
        if (answer.reading?.event_time !== at) return false;
      }
      return true;
    },
    30_000,
  );

/** the node's committed input offsets, all partitions together (the embedded log is shared between processes) */
async function committedInput(dataDir: string): Promise<number> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    return [...(await log.groupOffsets("city-platform", Topics.sensorsRaw)).values()].reduce(
      (a, b) => a + b,
      0,
    );
  } finally {
    await log.close();
  }
}

async function finalWindows(dataDir: string): Promise<WindowResult[]> {
  const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
  const windows: WindowResult[] = [];
  try {
    const topic = Topics.processed("traffic");
    for (let partition = 0; partition < ((await log.partitions(topic)) ?? 0); partition++)
      for (const r of await log.read({ topic, partition }, { maxRecords: 100_000 })) {
        const w = JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as WindowResult;
        if (w.scope === "sensor" && w.final && SENSORS.includes(w.key)) windows.push(w);
      }
  } finally {
    await log.close();
  }
  return windows;
}

test("kill -9 with window updates held to the checkpoint: every window counts each reading once after the restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "window-cache-kill-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const windowStart = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;

  const first = await spawn(dataDir);
  cleanups.push(() => void first.proc.kill("SIGKILL"));
  await publish(first, windowStart + 100);
  await publish(first, windowStart + 200);
  // a checkpoint: the first two readings' state and offsets are durable, the next one is 4 s away
  await waitFor(
    "the first readings committed",
    async () => (await committedInput(dataDir)) >= 2 * SENSORS.length,
    30_000,
  );
  await publish(first, windowStart + 300);
  await processedUpTo(first, windowStart + 300);
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  // the third readings were applied, their updates only in the caches: not committed
  expect(await committedInput(dataDir)).toBeLessThan(3 * SENSORS.length);

  const second = await spawn(dataDir);
  cleanups.push(() => void second.proc.kill("SIGKILL"));
  // a reading past the window's end, its grace and the 500 ms out-of-orderness bound closes it
  // (each sensor's own stream time)
  const closing = windowStart + 2 * WINDOW_MS + 1_000;
  await publish(second, closing);
  await processedUpTo(second, closing);
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);

  const finals = await finalWindows(dataDir);
  for (const sensor of SENSORS) {
    const mine = finals.filter((w) => w.key === sensor && w.window_start === windowStart);
    // a final may repeat after a crash (idempotent sinks), never with another count
    expect([sensor, mine.length > 0, [...new Set(mine.map((w) => w.count))]]).toEqual([sensor, true, [3]]);
  }
}, 120_000);
