import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import type { LogRecord } from "../../log/log.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";
import { appliedOffsetOf, isSnapshotBytes } from "../../stream/index.ts";
import { sensorWindowsFactory } from "../../testkit/sensor-windows.ts";
import { eventually, testNodeConfig, trafficReading } from "./node-fixture.ts";

/**
 * Window state outlives the process and the worker: a window that spans a restart (or a worker
 * crash) ends with exactly the readings it was sent, no fewer (state restored from the
 * changelog) and no more (replayed readings skipped by offset).
 */
const WINDOW_MS = 10_000;

async function finalWindows(node: RunningNode, sensor: string): Promise<WindowResult[]> {
  const all: WindowResult[] = [];
  for (let partition = 0; partition < node.config.partitions; partition++)
    for (const r of await node.log.read(
      { topic: Topics.processed("traffic"), partition },
      { maxRecords: 100_000 },
    ))
      all.push(JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as WindowResult);
  return all.filter((w) => w.scope === "sensor" && w.key === sensor && w.final);
}

async function publish(node: RunningNode, sensor: string, times: readonly number[]): Promise<void> {
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (const [i, at] of times.entries())
    await client.publishAsync(
      `city/sensors/traffic/${sensor}`,
      JSON.stringify(trafficReading(sensor, at, 10 + i)),
      {
        qos: 1,
      },
    );
  await client.endAsync();
}

/** the ingest group's committed offsets on the raw topic, summed over its partitions */
async function committedRawReadings(node: RunningNode): Promise<number> {
  const offsets = await node.log.groupOffsets(node.config.applicationId, Topics.sensorsRaw);
  return [...offsets.values()].reduce((a, b) => a + b, 0);
}

/**
 * Closes each sensor's window (a reading past its end) and expects exactly one final window
 * per sensor, counting three readings.
 */
async function expectEachWindowClosesWithThree(
  node: RunningNode,
  sensors: readonly string[],
  windowStart: number,
): Promise<void> {
  for (const sensor of sensors) await publish(node, sensor, [windowStart + WINDOW_MS + 1]);
  for (const sensor of sensors) {
    const windows = await eventually(
      () => finalWindows(node, sensor),
      (all) => all.length >= 1,
    );
    expect(windows.map((w) => w.count)).toEqual([3]);
  }
}

describe.each([
  ["on the main thread", 0],
  ["across two Bun workers", 2],
])("actor state %s", (_name, workers) => {
  const base = (dataDir: string) =>
    testNodeConfig(dataDir, { workers, windowMs: WINDOW_MS, commitIntervalMs: 100 });

  test("a window that spans a node restart counts every reading exactly once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "state-restart-"));
    const windowStart = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
    try {
      let node = await startNode(base(dataDir));
      await publish(node, "traffic_r", [windowStart + 1000, windowStart + 2000, windowStart + 3000]);
      await eventually(
        () => node.view.latestReading("traffic_r")?.offset ?? -1,
        (offset) => offset >= 2,
      );
      await node.stop();

      node = await startNode(base(dataDir));
      // two more in the same window, then one in the next window to close it
      await publish(node, "traffic_r", [windowStart + 4000, windowStart + 5000, windowStart + WINDOW_MS + 1]);
      const windows = await eventually(
        () => finalWindows(node, "traffic_r"),
        (all) => all.length >= 1,
      );
      await node.stop();
      expect(windows).toHaveLength(1);
      expect(windows[0]!.window_start).toBe(windowStart);
      expect(windows[0]!.count).toBe(5);
      expect(windows[0]!.fields.vehicle_count!.sum).toBe(10 + 11 + 12 + 10 + 11);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("a window whose state a node before the binary encoding wrote as JSON continues after the upgrade, every reading counted once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "state-upgrade-"));
    const windowStart = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
    try {
      let node = await startNode(base(dataDir));
      const topic = Topics.changelogOf(node.config.applicationId, "window");
      await publish(node, "traffic_u", [windowStart + 1000, windowStart + 2000, windowStart + 3000]);
      await eventually(
        () => node.view.latestReading("traffic_u")?.offset ?? -1,
        (offset) => offset >= 2,
      );
      await node.stop();

      // the newest state of the sensor's window actor, rewritten in the JSON form older nodes wrote
      const log = openEmbeddedLog({ path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
      try {
        let newest: LogRecord | undefined;
        for (let partition = 0; partition < node.config.partitions; partition++)
          for (const record of await log.read({ topic, partition }, { maxRecords: 100_000 }))
            if (record.key?.endsWith(":traffic_u")) newest = record;
        expect(newest).toBeDefined();
        const stored = newest!.value!;
        expect(isSnapshotBytes(stored)).toBe(true);
        const windowsOf = sensorWindowsFactory({
          window: { kind: "tumbling", sizeMs: WINDOW_MS },
          graceMs: 0,
          maxOutOfOrdernessMs: 0,
          idleTimeoutMs: 60_000,
          clock: Date.now,
        });
        const legacy = {
          windows: windowsOf("traffic", newest!.partition, stored).snapshot(),
          lastOffset: appliedOffsetOf(stored),
        };
        expect(legacy.lastOffset).toBe(2);
        await log.append([
          {
            topic,
            partition: newest!.partition,
            key: newest!.key,
            value: new TextEncoder().encode(JSON.stringify(legacy)),
          },
        ]);
      } finally {
        await log.close();
      }

      node = await startNode(base(dataDir));
      await publish(node, "traffic_u", [windowStart + 4000, windowStart + 5000, windowStart + WINDOW_MS + 1]);
      const windows = await eventually(
        () => finalWindows(node, "traffic_u"),
        (all) => all.length >= 1,
      );
      await node.stop();
      expect(windows).toHaveLength(1);
      expect(windows[0]!.count).toBe(5);
      expect(windows[0]!.fields.vehicle_count!.sum).toBe(10 + 11 + 12 + 10 + 11);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

test("a window on a worker that crashes mid-window counts every reading exactly once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "state-crash-"));
  const windowStart = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
  const node = await startNode(
    testNodeConfig(dataDir, { workers: 2, windowMs: WINDOW_MS, commitIntervalMs: 100 }),
  );
  try {
    const sensors = Array.from({ length: 8 }, (_, i) => `traffic_k${i}`);
    for (const sensor of sensors) await publish(node, sensor, [windowStart + 1000, windowStart + 2000]);
    // let a checkpoint write the window state, then crash both workers in turn
    await eventually(
      () => committedRawReadings(node),
      (committed) => committed >= sensors.length * 2,
    );
    node.killWorker(0);
    node.killWorker(1);
    await Bun.sleep(500);
    // event time is per partition: every sensor's third reading first, then the closing ones
    for (const sensor of sensors) await publish(node, sensor, [windowStart + 3000]);
    await expectEachWindowClosesWithThree(node, sensors, windowStart);
  } finally {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/**
 * Held to the checkpoint (WINDOW_UPDATE_FLUSH=checkpoint), a worker crash loses the updates its
 * cache held since the last checkpoint; the records that caused them are re-read from the
 * committed offsets, so the windows still count every reading once. The commit interval is long
 * enough that the readings after the first checkpoint are still only in the cache when the
 * workers crash.
 */
test("held to the checkpoint, a window on a worker that crashes with updates still cached counts every reading exactly once", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "state-crash-cached-"));
  const windowStart = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
  const sensors = Array.from({ length: 8 }, (_, i) => `traffic_c${i}`);
  const config = (commitIntervalMs: number) =>
    testNodeConfig(dataDir, {
      workers: 2,
      windowMs: WINDOW_MS,
      commitIntervalMs,
      windowUpdateFlush: "checkpoint",
    });
  try {
    // the first two readings of each window checkpointed (state and offsets), by a clean stop
    const first = await startNode(config(100));
    for (const sensor of sensors) await publish(first, sensor, [windowStart + 1000, windowStart + 2000]);
    await eventually(
      () => committedRawReadings(first),
      (committed) => committed >= sensors.length * 2,
    );
    await first.stop();
    // no checkpoint for a minute: the third readings' updates wait in the cache, uncommitted
    const node = await startNode(config(60_000));
    try {
      for (const sensor of sensors) await publish(node, sensor, [windowStart + 3000]);
      await eventually(
        () => sensors.map((sensor) => node.view.latestReading(sensor)?.event_time ?? 0),
        (times) => times.every((t) => t === windowStart + 3000),
      );
      const committed = await committedRawReadings(node);
      // the third readings are (mostly) not committed: their updates are held in the cache
      // (a checkpoint at the start may commit the first of them)
      expect(committed).toBeLessThan(sensors.length * 3 - 4);
      node.killWorker(0);
      node.killWorker(1);
      await Bun.sleep(500);
      await expectEachWindowClosesWithThree(node, sensors, windowStart);
    } finally {
      await node.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
