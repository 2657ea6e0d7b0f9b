import { describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { WindowResult } from "../../messages/window-result.ts";
import type { NodeConfig } from "../../node/config.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/** Window kind and anomaly detector are configuration; each combination runs the whole node. */
const CASES: readonly [string, Partial<NodeConfig>, (w: WindowResult) => boolean][] = [
  ["tumbling 1 s", { windowKind: "tumbling", windowMs: 1000 }, (w) => w.window_end - w.window_start === 1000],
  [
    "hopping 2 s every 500 ms",
    { windowKind: "hopping", windowMs: 2000, windowAdvanceMs: 500 },
    (w) => w.window_end - w.window_start === 2000 && w.window_start % 500 === 0,
  ],
  ["session with a 600 ms gap", { windowKind: "session", sessionGapMs: 600 }, (w) => w.count === 5],
  ["sliding 1 s", { windowKind: "sliding", windowMs: 1000 }, (w) => w.window_end - w.window_start <= 1001],
  [
    "tumbling with Half-Space Trees",
    { anomalyDetector: "half-space-trees" },
    (w) => w.window_end - w.window_start === 1000,
  ],
];

describe("window kinds and anomaly detectors are configuration", () => {
  test.each(CASES)(
    "%s: final windows of the configured shape reach city.processed.traffic",
    async (_name, overrides, shaped) => {
      const { node, cleanup } = await startTestNode({ ...overrides, graceMs: 0 });
      const client = await mqtt.connectAsync(node.mqttUrl);
      try {
        const start = Date.now() - 60_000;
        // bursts of 5 readings 100 ms apart, bursts 2 s apart: sessions of exactly 5 with a 600 ms gap
        for (let burst = 0; burst < 6; burst++)
          for (let i = 0; i < 5; i++)
            await client.publishAsync(
              "city/sensors/traffic/traffic_w",
              JSON.stringify(trafficReading("traffic_w", start + burst * 2000 + i * 100, 10 + i)),
              { qos: 1 },
            );
        const windows = await eventually(
          async () =>
            (
              await Promise.all(
                Array.from({ length: node.config.partitions }, (_, partition) =>
                  node.log.read({ topic: Topics.processed("traffic"), partition }),
                ),
              )
            )
              .flat()
              .map((r) => JSON.parse(new TextDecoder().decode(payloadOf(r.value!))) as WindowResult)
              .filter((w) => w.scope === "sensor"),
          (all) => all.length >= 3,
        );
        expect(windows.length).toBeGreaterThanOrEqual(3);
        expect(windows.every((w) => w.final)).toBe(true);
        expect(windows.filter(shaped).length).toBeGreaterThanOrEqual(3);
        const readings = node.view.latestReading("traffic_w");
        expect(readings?.anomaly_score).toBeGreaterThanOrEqual(0);
      } finally {
        await client.endAsync();
        await cleanup();
      }
    },
  );
});
