import { describe, expect, test } from "bun:test";
import type { WindowSpec } from "../../actors/window/sensor-windows.ts";
import type { WindowSink } from "../../actors/window/window.ts";
import type { HotReading } from "../../messages/host-protocol.ts";
import { sensorWindowsFactory } from "../../testkit/sensor-windows.ts";

/**
 * The window actor's operator for one sensor: its windows are event time from the one partition
 * the actor's key names, so processing time alone never closes one (the actor runs no tick);
 * the node's watermark does.
 */
const BASE = Date.UTC(2026, 11, 1, 12, 0, 0);
const IDLE_MS = 10_000;

function reading(offset: number, eventTime: number): HotReading {
  return {
    sensorType: "traffic",
    sensorId: "s-1",
    eventTime,
    values: Float64Array.of(10, 50),
    partition: 4,
    offset,
    ingestedAt: eventTime,
  };
}

function collector() {
  const finals: number[] = [];
  const updates: number[] = [];
  const sink: WindowSink = {
    window: (result) => (result.final ? finals : updates).push(result.window_start - BASE),
    late: () => undefined,
  };
  return { sink, finals, updates };
}

const specs: { name: string; spec: WindowSpec }[] = [
  { name: "tumbling", spec: { kind: "tumbling", sizeMs: 60_000 } },
  { name: "hopping", spec: { kind: "hopping", sizeMs: 60_000, advanceMs: 20_000 } },
  { name: "sliding", spec: { kind: "sliding", sizeMs: 60_000 } },
  { name: "session", spec: { kind: "session", sizeMs: 60_000, gapMs: 30_000 } },
];

describe("sensor windows in processing time", () => {
  for (const { name, spec } of specs) {
    test(`${name} windows close on the watermark, never on processing time alone`, () => {
      let now = BASE;
      const windows = sensorWindowsFactory({
        window: spec,
        graceMs: 5_000,
        maxOutOfOrdernessMs: 2_000,
        idleTimeoutMs: IDLE_MS,
        clock: () => now,
        cacheUpdates: false,
      })("traffic", 4);
      const { sink, finals } = collector();
      windows.add(reading(0, BASE + 1_000), sink);
      windows.add(reading(1, BASE + 2_000), sink);
      const closeAt = windows.nextCloseAt();
      expect(Number.isFinite(closeAt)).toBe(true);

      // the partition goes idle many times over: nothing closes, the close time stays
      for (const later of [IDLE_MS, 10 * IDLE_MS, 1_000 * IDLE_MS]) {
        now = BASE + later;
        windows.advance(now, sink);
      }
      expect(finals).toEqual([]);
      expect(windows.nextCloseAt()).toBe(closeAt);
      expect(windows.closesInProcessingTime()).toBe(false);

      windows.advanceTo(BASE + 10 * 60_000, sink);
      expect(finals.length).toBeGreaterThan(0);
      expect(windows.nextCloseAt()).toBe(Number.POSITIVE_INFINITY);
    });
  }
});

describe("sensor windows of one factory", () => {
  // they share one output buffer: each call must hand its own sensor's results to its own sink
  for (const cacheUpdates of [false, true])
    test(`sensors fed in turn each get only their own windows, updates and finals (record cache ${cacheUpdates ? "on" : "off"})`, () => {
      const factory = sensorWindowsFactory({
        window: { kind: "tumbling", sizeMs: 60_000 },
        graceMs: 0,
        maxOutOfOrdernessMs: 0,
        idleTimeoutMs: IDLE_MS,
        clock: () => BASE,
        cacheUpdates,
      });
      const sensors = ["s-1", "s-2", "s-3"].map((sensorId) => {
        const seen: string[] = [];
        const sink: WindowSink = {
          window: (result) =>
            seen.push(`${result.key}@${result.window_start - BASE}:${result.count}:${result.final}`),
          late: () => undefined,
        };
        return { sensorId, seen, sink, windows: factory("traffic", 4) };
      });
      let offset = 0;
      for (const minute of [0, 1, 2])
        for (const { sensorId, sink, windows } of sensors) {
          for (const second of [1, 2])
            windows.add({ ...reading(offset++, BASE + minute * 60_000 + second * 1_000), sensorId }, sink);
          if (cacheUpdates) windows.emitUpdates(sink);
        }
      for (const { sink, windows } of sensors) windows.advanceTo(BASE + 10 * 60_000, sink);
      for (const { sensorId, seen } of sensors) {
        const finals = [0, 60_000, 120_000].map((start) => `${sensorId}@${start}:2:true`);
        const updates = [0, 60_000, 120_000].flatMap((start) =>
          cacheUpdates
            ? [`${sensorId}@${start}:2:false`]
            : [`${sensorId}@${start}:1:false`, `${sensorId}@${start}:2:false`],
        );
        expect(seen.filter((line) => line.endsWith("true"))).toEqual(finals);
        expect(seen.filter((line) => line.endsWith("false"))).toEqual(updates);
      }
    });
});
