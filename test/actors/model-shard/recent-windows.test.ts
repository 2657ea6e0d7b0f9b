import { describe, expect, test } from "bun:test";
import { RecentWindows } from "../../../actors/model-shard/recent-windows.ts";
import type { TrafficWindowRow } from "../../../ml/lifecycle/traffic-forecast-features.ts";

const row = (key: string, windowStart: number): TrafficWindowRow => ({
  key,
  windowStart,
  windowMs: 60_000,
  vehicleCountMean: 10,
  vehicleCountMax: 12,
  avgSpeedMean: 40,
});

describe("the recent windows", () => {
  // [case, max sensors, windows added as `sensor@start`, sensors still held]
  test.each([
    ["below the bound every sensor is held", 3, ["a@1", "b@1"], ["a", "b"]],
    ["past the bound the sensor seen least recently goes", 2, ["a@1", "b@1", "c@1"], ["b", "c"]],
    ["a new window renews its sensor", 2, ["a@1", "b@1", "a@2", "c@1"], ["a", "c"]],
    // a replayed window is not taken, but its sensor was seen: it stays, as with the Map's delete + set
    ["a replayed window renews its sensor too", 2, ["a@2", "b@1", "a@1", "c@1"], ["a", "c"]],
  ] as [string, number, string[], string[]][])("%s", (_case, maxSensors, added, held) => {
    const recent = new RecentWindows(3, maxSensors);
    for (const window of added) {
      const [key, start] = window.split("@") as [string, string];
      recent.add(row(key, Number(start)));
    }
    expect(recent.sensors).toBe(held.length);
    for (const key of held) expect(recent.of(key).length).toBeGreaterThan(0);
  });

  test("a sensor keeps its last windows, in order, and a replay is refused", () => {
    const recent = new RecentWindows(2, 10);
    expect([1, 2, 3].map((start) => recent.add(row("a", start)))).toEqual([true, true, true]);
    expect(recent.add(row("a", 2))).toBe(false);
    expect(recent.of("a").map((w) => w.windowStart)).toEqual([2, 3]);
  });

  // Regression: past 100,000 sensors the least recently seen went through the Map's first entry,
  // which walks past every entry deleted before: each window of a new sensor cost more than the
  // last. 500,000 new sensors past the bound took the old code 37.4 s (0.3 s now).
  test("500,000 new sensors past 100,000 each forget the least recently seen without slowing down", () => {
    const recent = new RecentWindows(3, 100_000);
    for (let k = 0; k < 600_000; k++) recent.add(row(`s${k}`, 1));
    expect(recent.sensors).toBe(100_000);
    expect(recent.of("s499999")).toEqual([]);
    expect(recent.of("s500000").length).toBe(1);
  }, 15_000);
});
