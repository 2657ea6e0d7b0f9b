import { describe, expect, test } from "bun:test";
import { defaultSpec, generateReadings } from "../../../bench/peers/traffic-data.ts";

/** The peer benchmark's shapes: uniform sensors, and a skew where a few sensors send most readings. */
describe("the benchmark's traffic data", () => {
  const sensorCounts = (spec: ReturnType<typeof defaultSpec>) => {
    const counts = new Map<string, number>();
    for (const reading of generateReadings(spec)) counts.set(reading.key, (counts.get(reading.key) ?? 0) + 1);
    return counts;
  };

  test.each([
    { name: "uniform", hotShare: undefined, hotSensors: undefined, minHot: 0.0, maxHot: 0.02 },
    { name: "skewed", hotShare: 0.5, hotSensors: 100, minHot: 0.48, maxHot: 0.52 },
  ])("$name: the first 1% of the sensors send between $minHot and $maxHot of the readings", (row) => {
    const spec = defaultSpec(40_000, { sensors: 10_000, hotShare: row.hotShare, hotSensors: row.hotSensors });
    const counts = sensorCounts(spec);
    let hot = 0;
    for (const [key, count] of counts) if (Number(key.slice("sensor-".length)) < 100) hot += count;
    expect(hot / spec.records).toBeGreaterThanOrEqual(row.minHot);
    expect(hot / spec.records).toBeLessThanOrEqual(row.maxHot);
    // the other sensors are still many: the skewed shape keeps the many-keys shape's key count
    expect(counts.size).toBeGreaterThan(8_000);
  });

  test("the same spec gives the same readings (both sides and the reference fold see the same data)", () => {
    const spec = defaultSpec(1_000, { sensors: 1_000, hotShare: 0.5, hotSensors: 10, firstEventTime: 0 });
    expect([...generateReadings(spec)]).toEqual([...generateReadings(spec)]);
  });
});
