import { describe, expect, test } from "bun:test";
import { SensorReading } from "../../../messages/sensor-reading.ts";
import {
  CROSS_FIELD_RULES,
  crossFieldIssues,
  RANGE_RULES,
  rangeIssues,
} from "../../../stream/quality/quality-rules.ts";

const TS = "2024-03-04T08:00:00Z";
const traffic = (vehicle_count: number, avg_speed: number) =>
  SensorReading.parse({
    type: "traffic",
    sensor_id: "t",
    timestamp: TS,
    vehicle_count,
    avg_speed,
    location: { lat: 52.5, lon: 13.4 },
  });
const env = (temperature: number, humidity: number, air_quality_index: number) =>
  SensorReading.parse({
    type: "environment",
    sensor_id: "e",
    timestamp: TS,
    temperature,
    humidity,
    air_quality_index,
  });
const utility = (consumption: number, voltage: number, current: number) =>
  SensorReading.parse({ type: "utility", sensor_id: "u", timestamp: TS, consumption, voltage, current });

describe("range rules", () => {
  test("the original design's ranges are in the table", () => {
    const range = (field: string) => RANGE_RULES.find((r) => r.field === field);
    expect(range("vehicle_count")).toMatchObject({ min: 0, max: 500 });
    expect(range("temperature")).toMatchObject({ min: -20, max: 50 });
    expect(range("humidity")).toMatchObject({ min: 0, max: 100 });
    expect(range("air_quality_index")).toMatchObject({ min: 0, max: 500 });
  });

  const cases: [string, SensorReading, string[]][] = [
    ["a normal traffic reading", traffic(40, 45), []],
    ["500 vehicles, the edge", traffic(500, 10), []],
    ["501 vehicles", traffic(501, 10), ["range.vehicle_count"]],
    ["a speed of 250 km/h", traffic(3, 250), ["range.avg_speed"]],
    ["-20 °C, the edge", env(-20, 50, 20), []],
    ["-20.5 °C", env(-20.5, 50, 20), ["range.temperature"]],
    ["51 °C with AQI 600", env(51, 50, 600), ["range.temperature", "range.air_quality_index"]],
    ["normal utility", utility(1000, 230, 4.35), []],
    ["490 V", utility(1000, 490, 2), ["range.voltage"]],
    ["12 kW and 500 A", utility(12_000, 230, 500), ["range.consumption", "range.current"]],
  ];
  test.each(cases)("%s gives %p", (_name, reading, rules) => {
    const issues = rangeIssues(reading);
    expect(issues.map((i) => i.rule)).toEqual(rules);
    for (const i of issues) {
      expect(i.severity).toBe("error");
      expect(i.message).toContain(i.field!);
    }
  });
});

describe("cross-field rules", () => {
  const cases: [string, SensorReading, string[]][] = [
    ["no vehicles and no speed", traffic(0, 0), []],
    ["no vehicles but a speed", traffic(0, 30), ["cross_field.traffic.speed_without_vehicles"]],
    ["a full road at 120 km/h", traffic(450, 120), ["cross_field.traffic.gridlock_at_speed"]],
    ["a full road crawling", traffic(450, 8), []],
    ["saturated and spotless", env(10, 100, 0), ["cross_field.environment.saturated_but_spotless"]],
    ["saturated with some pollution", env(10, 100, 30), []],
    ["P = V·I", utility(2300, 230, 10), []],
    ["P within half of V·I", utility(2300, 230, 14), []],
    ["P far from V·I", utility(2300, 230, 40), ["cross_field.utility.power_mismatch"]],
    ["tiny load within 50 W", utility(10, 230, 0.2), []],
    ["current without voltage", utility(0, 0, 3), ["cross_field.utility.current_without_voltage"]],
  ];
  test.each(cases)("%s gives %p", (_name, reading, rules) => {
    expect(crossFieldIssues(reading).map((i) => i.rule)).toEqual(rules);
  });

  test("every cross-field rule has a condition, a reason and a unique id", () => {
    expect(new Set(CROSS_FIELD_RULES.map((r) => r.rule)).size).toBe(CROSS_FIELD_RULES.length);
    for (const r of CROSS_FIELD_RULES) {
      expect(r.condition.length).toBeGreaterThan(5);
      expect(r.why.length).toBeGreaterThan(10);
    }
  });
});
