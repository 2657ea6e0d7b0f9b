import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import type { LogRecord } from "../../log/log.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";
import { isSnapshotBytes } from "../../stream/index.ts";
import { eventually, testNodeConfig, trafficReading } from "./node-fixture.ts";

/**
 * A window state in the changelog that does not decode (here the newest one of a sensor, cut
 * short) is decoded only by the window actor that owns the key, in its worker. The node must see
 * it as it sees a changelog record its store cannot decode: the key starts empty, and the main
 * thread counts it (platform_dead_letters_total{source="changelog:window"}) and says it once.
 * Before, it showed only in the worker (a supervision restart, later an actor's dead letter).
 */
const WINDOW_MS = 10_000;
const SENSOR = "traffic_corrupt";

async function finalWindows(node: RunningNode): Promise<WindowResult[]> {
  const all: WindowResult[] = [];
  for (let partition = 0; partition < node.config.partitions; partition++)
    for (const r of await node.log.read(
      { topic: Topics.processed("traffic"), partition },
      { maxRecords: 100_000 },
    ))
      all.push(JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as WindowResult);
  return all.filter((w) => w.scope === "sensor" && w.key === SENSOR && w.final);
}

async function publish(node: RunningNode, times: readonly number[]): Promise<void> {
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (const [i, at] of times.entries())
    await client.publishAsync(
      `city/sensors/traffic/${SENSOR}`,
      JSON.stringify(trafficReading(SENSOR, at, 10 + i)),
      {
        qos: 1,
      },
    );
  await client.endAsync();
}

async function corruptWindowStates(node: RunningNode): Promise<number> {
  const { values } = await node.metrics.deadLetters.get();
  return (
    values.find((v) => v.labels.source === "changelog:window" && v.labels.code === ErrorCodes.DECODE_FAILED)
      ?.value ?? 0
  );
}

let said: ReturnType<typeof spyOn<Console, "error">>;
beforeEach(() => {
  said = spyOn(console, "error");
});
afterEach(() => said.mockRestore());

describe.each([
  ["on the main thread", 0],
  ["across two Bun workers", 2],
])("a corrupt window state in the changelog %s", (_name, workers) => {
  test("starts its sensor's windows empty, and the main thread counts it and says it once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "corrupt-state-"));
    const config = () => testNodeConfig(dataDir, { workers, windowMs: WINDOW_MS, commitIntervalMs: 100 });
    const windowStart = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
    try {
      let node = await startNode(config());
      const topic = Topics.changelogOf(node.config.applicationId, "window");
      await publish(node, [windowStart + 1000, windowStart + 2000, windowStart + 3000]);
      await eventually(
        () => node.view.latestReading(SENSOR)?.offset ?? -1,
        (offset) => offset >= 2,
      );
      await node.stop();

      // the sensor's newest window state, cut short: its header reads, its windows do not
      const log = openEmbeddedLog({ path: join(dataDir, "log.db"), maintenanceIntervalMs: 0 });
      try {
        let newest: LogRecord | undefined;
        for (let partition = 0; partition < node.config.partitions; partition++)
          for (const record of await log.read({ topic, partition }, { maxRecords: 100_000 }))
            if (record.key?.endsWith(`:${SENSOR}`)) newest = record;
        expect(newest).toBeDefined();
        expect(isSnapshotBytes(newest!.value!)).toBe(true);
        await log.append([
          { topic, partition: newest!.partition, key: newest!.key, value: newest!.value!.slice(0, -5) },
        ]);
      } finally {
        await log.close();
      }

      node = await startNode(config());
      try {
        await publish(node, [windowStart + 4000, windowStart + 5000, windowStart + WINDOW_MS + 1]);
        const windows = await eventually(
          () => finalWindows(node),
          (all) => all.length >= 1,
        );
        // the readings before the restart were committed with the state that is lost: the key
        // started empty and counts what came after
        expect(windows.map((w) => w.count)).toEqual([2]);
        expect(await corruptWindowStates(node)).toBe(1);
        const lines = said.mock.calls
          .map((call) => String(call[0]))
          .filter((line) => line.startsWith("changelog window"));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`:${SENSOR} does not decode`);
        expect(lines[0]).toContain("DECODE_FAILED");
      } finally {
        await node.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
