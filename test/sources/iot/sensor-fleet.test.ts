import { describe, expect, test } from "bun:test";
import { MEASUREMENT_RANGES, SensorReading } from "../../../messages/sensor-reading.ts";
import { createSensorFleet, type SensorFleet } from "../../../sources/iot/sensor-fleet.ts";

// Monday 2024-03-04 00:00 UTC and Saturday 2024-03-09 00:00 UTC
const MONDAY = Date.UTC(2024, 2, 4);
const SATURDAY = Date.UTC(2024, 2, 9);
const NO_FAULTS = { stuckRate: 0, dropoutRate: 0, spikeRate: 0, anomalyRate: 0 };
const HOUR = 3_600_000;

/** mean of one field over one sensor type, sampled every minute across [from, from + hours) */
function meanOf(fleet: SensorFleet, from: number, hours: number, field: string): number {
  let sum = 0;
  let n = 0;
  for (let t = from; t < from + hours * HOUR; t += 60_000) {
    for (const r of fleet.readingsAt(t)) {
      const v = (r as Record<string, unknown>)[field];
      if (typeof v === "number") {
        sum += v;
        n++;
      }
    }
  }
  return sum / n;
}

describe("sensor fleet", () => {
  test("the same seed replays the same readings and another seed does not", () => {
    const a = createSensorFleet({ seed: 7, startTime: MONDAY });
    const b = createSensorFleet({ seed: 7, startTime: MONDAY });
    const c = createSensorFleet({ seed: 8, startTime: MONDAY });
    const ra = Array.from({ length: 50 }, () => a.tick().readings);
    const rb = Array.from({ length: 50 }, () => b.tick().readings);
    const rc = Array.from({ length: 50 }, () => c.tick().readings);
    expect(rb).toEqual(ra);
    expect(rc).not.toEqual(ra);
  });

  test("five sensors per type by default, with the original design's ids, located around one city", () => {
    const fleet = createSensorFleet();
    expect(fleet.sensors.length).toBe(15);
    expect(fleet.sensors.map((s) => s.sensor_id)).toContain("traffic_1");
    expect(fleet.sensors.map((s) => s.sensor_id)).toContain("env_5");
    expect(fleet.sensors.map((s) => s.sensor_id)).toContain("utility_3");
    for (const s of fleet.sensors) {
      expect(Math.abs(s.location.lat - 52.52)).toBeLessThan(0.1);
      expect(Math.abs(s.location.lon - 13.405)).toBeLessThan(0.15);
    }
  });

  test("it scales to thousands of sensors and every reading passes the schema, faults included", () => {
    const fleet = createSensorFleet({
      sensorsPerType: 1000,
      startTime: MONDAY + 8 * HOUR,
      faults: { stuckRate: 0.01, spikeRate: 0.01, dropoutRate: 0.01, anomalyRate: 0.01 },
    });
    expect(fleet.sensors.length).toBe(3000);
    expect(new Set(fleet.sensors.map((s) => s.sensor_id)).size).toBe(3000);
    for (let i = 0; i < 5; i++) {
      for (const r of fleet.tick().readings) expect(SensorReading.safeParse(r).success).toBe(true);
    }
  });

  test("weekday traffic peaks in the rush hours, speed drops as the count rises, weekends are lighter", () => {
    const fleet = createSensorFleet({ faults: NO_FAULTS });
    const night = meanOf(fleet, MONDAY + 2 * HOUR, 1, "vehicle_count");
    const am = meanOf(fleet, MONDAY + 7.5 * HOUR, 1, "vehicle_count");
    const pm = meanOf(fleet, MONDAY + 17 * HOUR, 1, "vehicle_count");
    const midday = meanOf(fleet, MONDAY + 12 * HOUR, 1, "vehicle_count");
    expect(am).toBeGreaterThan(2 * midday * 0.7);
    expect(pm).toBeGreaterThan(midday);
    expect(night).toBeLessThan(midday / 3);
    const amSpeed = meanOf(fleet, MONDAY + 7.5 * HOUR, 1, "avg_speed");
    const middaySpeed = meanOf(fleet, MONDAY + 12 * HOUR, 1, "avg_speed");
    expect(amSpeed).toBeLessThan(middaySpeed);
    const weekendPm = meanOf(fleet, SATURDAY + 17 * HOUR, 1, "vehicle_count");
    expect(weekendPm).toBeLessThan(pm * 0.7);
  });

  test("temperature peaks in the afternoon while humidity falls, and AQI follows traffic", () => {
    const fleet = createSensorFleet({ faults: NO_FAULTS });
    const dawn = {
      t: meanOf(fleet, MONDAY + 4 * HOUR, 1, "temperature"),
      h: meanOf(fleet, MONDAY + 4 * HOUR, 1, "humidity"),
    };
    const afternoon = {
      t: meanOf(fleet, MONDAY + 14.5 * HOUR, 1, "temperature"),
      h: meanOf(fleet, MONDAY + 14.5 * HOUR, 1, "humidity"),
    };
    expect(afternoon.t - dawn.t).toBeGreaterThan(8);
    expect(afternoon.h).toBeLessThan(dawn.h - 10);
    const aqiRush = meanOf(fleet, MONDAY + 8 * HOUR, 1, "air_quality_index");
    const aqiNight = meanOf(fleet, MONDAY + 2 * HOUR, 1, "air_quality_index");
    expect(aqiRush).toBeGreaterThan(aqiNight + 30);
  });

  test("consumption peaks in the evening, voltage stays near 230 V and current is consumption over voltage", () => {
    const fleet = createSensorFleet({ faults: NO_FAULTS });
    expect(meanOf(fleet, MONDAY + 19 * HOUR, 1, "consumption")).toBeGreaterThan(
      2 * meanOf(fleet, MONDAY + 3 * HOUR, 1, "consumption"),
    );
    for (const r of fleet.readingsAt(MONDAY + 19 * HOUR)) {
      if (r.type !== "utility") continue;
      expect(Math.abs(r.voltage - 230)).toBeLessThan(10);
      expect(Math.abs(r.current * r.voltage - r.consumption) / r.consumption).toBeLessThan(0.1);
    }
  });

  test("a simulated day of 15 sensors at one reading a minute is generated in well under a second", () => {
    const fleet = createSensorFleet({ intervalMs: 60_000, startTime: MONDAY });
    const started = performance.now();
    let n = 0;
    for (let i = 0; i < 1440; i++) n += fleet.tick().readings.length;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(n).toBeGreaterThan(1440 * 15 * 0.98);
  });

  test("faults occur near their configured rates and each is labelled", () => {
    const fleet = createSensorFleet({
      sensorsPerType: 100,
      startTime: MONDAY,
      faults: { dropoutRate: 0.02, spikeRate: 0.01, stuckRate: 0, anomalyRate: 0 },
    });
    const counts = { dropout: 0, spike: 0, readings: 0 };
    for (let i = 0; i < 100; i++) {
      const batch = fleet.tick();
      counts.readings += batch.readings.length;
      for (const l of batch.labels) if (l.kind === "dropout" || l.kind === "spike") counts[l.kind]++;
    }
    expect(counts.readings + counts.dropout).toBe(30_000);
    expect(counts.dropout / 30_000).toBeGreaterThan(0.015);
    expect(counts.dropout / 30_000).toBeLessThan(0.025);
    expect(counts.spike / 30_000).toBeGreaterThan(0.006);
    expect(counts.spike / 30_000).toBeLessThan(0.014);
  });

  test("a spike lifts one field above its plausible range and the label names that field", () => {
    const fleet = createSensorFleet({ startTime: MONDAY, faults: { ...NO_FAULTS, spikeRate: 1 } });
    const batch = fleet.tick();
    expect(batch.labels.length).toBe(15);
    for (const l of batch.labels) {
      const r = batch.readings.find((x) => x.sensor_id === l.sensor_id) as Record<string, number> | undefined;
      expect(l.kind).toBe("spike");
      const [, max] = MEASUREMENT_RANGES[l.field as keyof typeof MEASUREMENT_RANGES];
      expect(r![l.field!]).toBeGreaterThan(max);
    }
  });

  test("a stuck sensor repeats its last values for the configured number of readings", () => {
    const fleet = createSensorFleet({ sensorsPerType: 1, startTime: MONDAY + 8 * HOUR, faults: NO_FAULTS });
    const first = fleet.tick().readings.find((r) => r.type === "utility")!;
    fleet.setFaultRates({ stuckRate: 1, stuckReadings: 3 });
    const stuck = [fleet.tick(), fleet.tick(), fleet.tick()];
    for (const b of stuck) {
      const r = b.readings.find((x) => x.type === "utility")!;
      expect(r.type === "utility" && first.type === "utility" && r.consumption === first.consumption).toBe(
        true,
      );
      expect(b.labels.some((l) => l.kind === "stuck" && l.sensor_id === "utility_1")).toBe(true);
    }
  });

  test("an injected anomaly burst raises the field for its length and is labelled as ground truth", () => {
    const fleet = createSensorFleet({ sensorsPerType: 1, startTime: MONDAY + 12 * HOUR, faults: NO_FAULTS });
    const before = fleet.tick().readings.find((r) => r.type === "environment")!;
    fleet.injectAnomaly("env_1", 4, "air_quality_index");
    const burst = [1, 2, 3, 4].map(() => fleet.tick());
    const after = fleet.tick();
    for (const b of burst) {
      const r = b.readings.find((x) => x.type === "environment")!;
      expect(r.type === "environment" && before.type === "environment").toBe(true);
      if (r.type === "environment" && before.type === "environment") {
        expect(r.air_quality_index).toBeGreaterThan(before.air_quality_index + 100);
      }
      expect(b.labels).toContainEqual({
        sensor_id: "env_1",
        type: "environment",
        time: b.time,
        kind: "anomaly",
        field: "air_quality_index",
      });
    }
    expect(after.labels.length).toBe(0);
  });

  test("setDrift shifts and scales a field live, and clearDrift restores it", () => {
    const start = MONDAY + 12 * HOUR;
    const fleet = createSensorFleet({ startTime: start, faults: NO_FAULTS });
    const baseline = meanOf(fleet, start, 0.5, "temperature");
    fleet.setDrift({ type: "environment", field: "temperature", shift: 5, scale: 1 });
    expect(fleet.drifts().length).toBe(1);
    const drifted = meanOf(fleet, start, 0.5, "temperature");
    expect(drifted - baseline).toBeGreaterThan(4.5);
    expect(drifted - baseline).toBeLessThan(5.5);
    fleet.clearDrift("environment");
    expect(Math.abs(meanOf(fleet, start, 0.5, "temperature") - baseline)).toBeLessThan(0.3);
  });
});
