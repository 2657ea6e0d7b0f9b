import { describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { partitionFor } from "../../messages/murmur2.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A sensor that goes silent still gets its last window closed: event time advances per
 * partition (the node's watermark), not per sensor, so once the partition's other sensors move
 * past the window's end plus grace, the silent sensor's window is final too.
 */
const WINDOW_MS = 1000;
const PARTITIONS = 4;

async function finalWindows(node: RunningNode, sensor: string): Promise<WindowResult[]> {
  const all: WindowResult[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++)
    for (const r of await node.log.read(
      { topic: Topics.processed("traffic"), partition },
      { maxRecords: 10_000 },
    ))
      all.push(JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as WindowResult);
  return all.filter((w) => w.scope === "sensor" && w.key === sensor && w.final);
}

/** a sensor id on the same partition as `sensor`, or on another one */
function neighbourOf(sensor: string, samePartition = true): string {
  for (let i = 0; ; i++) {
    const candidate = `traffic_loud${i}`;
    if ((partitionFor(candidate, PARTITIONS) === partitionFor(sensor, PARTITIONS)) === samePartition)
      return candidate;
  }
}

describe.each([
  ["on the main thread", 0],
  ["across two Bun workers", 2],
])("a silent sensor %s", (_name, workers) => {
  test.each([
    ["its partition's event time passes the window's end", true],
    ["its partition, silent too, goes idle and the others' event time passes the window's end", false],
  ])("has its last window closed once %s", async (_case, samePartition) => {
    const { node, cleanup } = await startTestNode({
      workers,
      partitions: PARTITIONS,
      windowMs: WINDOW_MS,
      partitionIdleMs: 500,
    });
    try {
      const quiet = "traffic_quiet";
      const loud = neighbourOf(quiet, samePartition);
      const start = Math.floor((Date.now() - 60_000) / WINDOW_MS) * WINDOW_MS;
      const client = await mqtt.connectAsync(node.mqttUrl);
      const send = (sensor: string, at: number, count: number) =>
        client.publishAsync(
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, at, count)),
          {
            qos: 1,
          },
        );
      await send(quiet, start + 100, 7);
      await send(loud, start + 150, 1);
      await send(quiet, start + 200, 8);
      // the quiet sensor says nothing more; its neighbour goes on, a reading every 100 ms, its
      // event time moving through the next windows (a stream that flows: a stalled one freezes
      // event time, see test/engine/dispatcher.test.ts)
      let at = start + WINDOW_MS + 500;
      const windows = await eventually(
        async () => {
          await send(loud, at, 1);
          at += 100;
          return finalWindows(node, quiet);
        },
        (all) => all.length >= 1,
      );
      await client.endAsync();
      expect(windows.map((w) => [w.window_start, w.count, w.fields.vehicle_count!.sum])).toEqual([
        [start, 2, 15],
      ]);
    } finally {
      await cleanup();
    }
  });
});
