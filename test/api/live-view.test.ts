import { describe, expect, test } from "bun:test";
import { LiveView } from "../../api/live-view.ts";
import type { ProcessedReading } from "../../messages/processed-reading.ts";
import type { WindowResult } from "../../messages/window-result.ts";

const reading = (sensorId: string, eventTime: number): ProcessedReading => ({
  sensor_id: sensorId,
  type: "traffic",
  event_time: eventTime,
  values: { vehicle_count: 10 },
  passed: true,
  quality_score: 1,
  issues: [],
  anomaly_score: 0,
  partition: 0,
  offset: eventTime,
});

const window = (key: string, start: number): WindowResult => ({
  scope: "sensor",
  key,
  type: "traffic",
  window_start: start,
  window_end: start + 1000,
  count: 1,
  fields: {},
  final: true,
  emitted_at: start + 1000,
});

describe("the live view", () => {
  test("regression: a flood of new sensor ids keeps the per-sensor parts at their cap, forgetting the least recent", () => {
    const view = new LiveView({ maxSensors: 100 });
    for (let i = 0; i < 5000; i++) {
      view.reading(reading(`flood_${i}`, 1_000_000 + i));
      view.window(window(`flood_${i}`, 1_000_000));
      view.prediction({
        prediction_id: `p${i}`,
        model: "m",
        model_version: "1",
        key: `flood_${i}`,
        window_start: 0,
        window_end: 1000,
        features: {},
        value: 0,
        latency_ms: 0,
        at: i,
      });
    }
    expect(view.sizes()).toEqual({
      sensors: 100,
      sensor_windows: 100,
      prediction_keys: 100,
      drift: 0,
      quality_sensors: 100,
    });
    // a forgotten sensor takes its windows along, so their own cap is not what evicted them
    expect(view.evictions()).toEqual({ sensors: 4900, sensor_windows: 0, prediction_keys: 4900, drift: 0 });
    expect(view.sensor("flood_0")).toBeUndefined();
    expect(view.sensorWindows("flood_0")).toEqual([]);
    expect(view.quality.sensor("flood_0")).toBeUndefined();
    expect(view.sensor("flood_4999")?.readings).toBe(1);
    expect(view.sensorList()).toHaveLength(100);
  });

  test("a sensor that keeps reporting is not forgotten by a flood of others", () => {
    const view = new LiveView({ maxSensors: 10 });
    for (let i = 0; i < 1000; i++) {
      view.reading(reading("steady", i));
      view.reading(reading(`flood_${i}`, i));
    }
    expect(view.sensor("steady")?.readings).toBe(1000);
  });

  test("a sensor's quality is counted per reading with the view's interval, and starts over once the sensor was forgotten", () => {
    const view = new LiveView({ maxSensors: 2, qualityWindowMs: 10_000, sensorIntervalMs: 500 });
    const late = {
      rule: "timeliness.late",
      family: "timeliness",
      severity: "warning",
      message: "late",
    } as const;
    view.reading(reading("a", 1_000));
    view.reading({ ...reading("a", 2_000), issues: [late] });
    view.reading({ ...reading("a", 3_000), type: "utility" });
    expect(view.quality.sensor("a")).toMatchObject({ received: 3, onTime: 2, valid: 3, expected: 20 });
    // the scoreboard keeps the type a sensor was first seen with
    expect(view.quality.type("traffic", 0)).toMatchObject({ received: 3 });
    view.reading(reading("b", 4_000));
    view.reading(reading("c", 5_000)); // "a" is the least recent: forgotten with its quality
    expect(view.quality.sensor("a")).toBeUndefined();
    view.reading({ ...reading("a", 6_000), type: "utility" });
    expect(view.quality.sensor("a")).toMatchObject({ received: 1, expected: 20 });
    expect(view.quality.type("utility", 0)).toMatchObject({ received: 1 });
  });

  test("sensors are listed sorted by id, optionally by type", () => {
    const view = new LiveView();
    for (const id of ["c", "a", "b"]) view.reading(reading(id, 1));
    view.reading({ ...reading("z", 1), type: "environment" });
    expect(view.sensorList("traffic").map((s) => s.sensor_id)).toEqual(["a", "b", "c"]);
    expect(view.sensorList().map((s) => s.sensor_id)).toEqual(["a", "b", "c", "z"]);
  });
});
