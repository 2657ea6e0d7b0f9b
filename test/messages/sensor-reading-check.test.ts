import { describe, expect, test } from "bun:test";
import { SensorReading } from "../../messages/sensor-reading.ts";
import { checkedSensorReading, epochMillisOf } from "../../messages/sensor-reading-check.ts";

const valid = {
  traffic: {
    type: "traffic",
    sensor_id: "traffic_12",
    timestamp: "2026-12-01T10:00:00.123Z",
    vehicle_count: 17,
    avg_speed: 41.5,
    location: { lat: 52.52, lon: 13.4 },
  },
  environment: {
    type: "environment",
    sensor_id: "env.3-a",
    timestamp: "2024-02-29T23:59:59+01:00",
    temperature: -3.5,
    humidity: 100,
    air_quality_index: 0,
  },
  utility: {
    type: "utility",
    sensor_id: "U",
    timestamp: "2026-01-01T00:00:00Z",
    consumption: -12.25,
    voltage: 230,
    current: 0,
  },
} as const;

/** what zod answers: its value (JSON, so key order counts) or undefined */
function zodAnswer(value: unknown): string | undefined {
  const parsed = SensorReading.safeParse(value);
  return parsed.success ? JSON.stringify(parsed.data) : undefined;
}

describe("the reading schema's fast path", () => {
  test.each(Object.entries(valid))(
    "a well-formed %s reading is what zod returns, key order included",
    (_, reading) => {
      const fast = checkedSensorReading(JSON.parse(JSON.stringify(reading)));
      expect(fast).toBeDefined();
      expect(JSON.stringify(fast)).toBe(zodAnswer(reading)!);
    },
  );

  test("unknown keys are stripped, as zod strips them", () => {
    const withExtra = { ...valid.traffic, extra: 1, location: { ...valid.traffic.location, alt: 3 } };
    expect(JSON.stringify(checkedSensorReading(withExtra))).toBe(zodAnswer(withExtra)!);
  });

  // every row is a reading zod refuses: the fast path must not accept it (zod then gives the reason)
  const refused: Array<[string, unknown]> = [
    ["null", null],
    ["an array", [valid.traffic]],
    ["a string", "traffic"],
    ["an unknown type", { ...valid.traffic, type: "weather" }],
    ["no type", { ...valid.traffic, type: undefined }],
    ["an empty sensor id", { ...valid.traffic, sensor_id: "" }],
    ["a sensor id of 65 characters", { ...valid.traffic, sensor_id: "a".repeat(65) }],
    ["a sensor id with a slash", { ...valid.traffic, sensor_id: "a/b" }],
    ["a sensor id with a space", { ...valid.traffic, sensor_id: "a b" }],
    ["a sensor id with a non-ASCII letter", { ...valid.traffic, sensor_id: "stra\u00dfe" }],
    ["a numeric sensor id", { ...valid.traffic, sensor_id: 12 }],
    ["a timestamp without a zone", { ...valid.traffic, timestamp: "2026-12-01T10:00:00" }],
    ["a timestamp on February 30th", { ...valid.traffic, timestamp: "2026-02-30T10:00:00Z" }],
    ["February 29th of a common year", { ...valid.traffic, timestamp: "2025-02-29T10:00:00Z" }],
    ["a date only", { ...valid.traffic, timestamp: "2026-12-01" }],
    ["a numeric timestamp", { ...valid.traffic, timestamp: 1_760_000_000_000 }],
    ["a fractional vehicle count", { ...valid.traffic, vehicle_count: 1.5 }],
    ["a negative vehicle count", { ...valid.traffic, vehicle_count: -1 }],
    ["a vehicle count past 2^53", { ...valid.traffic, vehicle_count: 2 ** 60 }],
    ["a vehicle count as a string", { ...valid.traffic, vehicle_count: "17" }],
    ["a negative speed", { ...valid.traffic, avg_speed: -0.1 }],
    ["an infinite speed", { ...valid.traffic, avg_speed: Number.POSITIVE_INFINITY }],
    ["a NaN speed", { ...valid.traffic, avg_speed: Number.NaN }],
    ["no location", { ...valid.traffic, location: undefined }],
    ["a location as an array", { ...valid.traffic, location: [52, 13] }],
    ["a latitude past 90", { ...valid.traffic, location: { lat: 90.5, lon: 0 } }],
    ["a longitude below -180", { ...valid.traffic, location: { lat: 0, lon: -181 } }],
    ["a temperature below absolute zero", { ...valid.environment, temperature: -274 }],
    ["a humidity above 100", { ...valid.environment, humidity: 100.01 }],
    ["a negative air quality index", { ...valid.environment, air_quality_index: -1 }],
    ["a negative voltage", { ...valid.utility, voltage: -1 }],
    ["a negative current", { ...valid.utility, current: -0.5 }],
    ["a traffic type with environment fields", { ...valid.environment, type: "traffic" }],
    ["a missing measurement", { ...valid.utility, current: undefined }],
    ["a boolean measurement", { ...valid.environment, humidity: true }],
  ];
  test.each(refused)("%s is left to zod, which refuses it", (_, value) => {
    expect(zodAnswer(value)).toBeUndefined();
    expect(checkedSensorReading(value)).toBeUndefined();
  });

  test("the limits are inclusive, as zod's min and max are", () => {
    const edges = [
      { ...valid.traffic, vehicle_count: 0, avg_speed: 0, location: { lat: -90, lon: 180 } },
      { ...valid.environment, temperature: -273.15, humidity: 0 },
      { ...valid.utility, voltage: 0, current: 0, consumption: -1e12 },
    ];
    for (const reading of edges)
      expect(JSON.stringify(checkedSensorReading(reading))).toBe(zodAnswer(reading)!);
  });

  test("what it accepts zod accepts with the same value, over 20,000 mutated readings", () => {
    // a seeded generator: the same mutations every run
    let seed = 0x9e3779b9;
    const random = () => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
      return ((seed >>> 0) % 1_000_000) / 1_000_000;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const odd: unknown[] = [
      null,
      "",
      "x",
      0,
      -0,
      -1,
      1.5,
      2 ** 53,
      2 ** 53 - 1,
      -273.15,
      100,
      100.5,
      true,
      [],
      {},
      "2026-12-01T10:00:00Z",
      "2026-12-01T24:00:00Z",
      "2026-13-01T10:00:00Z",
      "2026-12-01T10:00:00.5+14:00",
      "2026-12-01T10:00:00-23:59",
      "a".repeat(64),
      "a".repeat(65),
      "a.b-c_d",
      "traffic",
      "environment",
      "utility",
      { lat: 1, lon: 2 },
      { lat: "1", lon: 2 },
    ];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const reading: Record<string, unknown> = structuredClone(pick(Object.values(valid))) as Record<
        string,
        unknown
      >;
      const keys = [...Object.keys(reading), "location", "type", "extra"];
      for (let m = Math.floor(random() * 3); m >= 0; m--) {
        const key = pick(keys);
        if (random() < 0.1) delete reading[key];
        else reading[key] = pick(odd);
      }
      const fast = checkedSensorReading(reading);
      if (fast === undefined) continue;
      accepted++;
      expect(JSON.stringify(fast)).toBe(zodAnswer(reading)!);
    }
    // the mutations must leave both sides something to agree on, or the test proves nothing
    expect(accepted).toBeGreaterThan(500);
  });
});

describe("a timestamp's epoch milliseconds", () => {
  const cases = [
    "2026-12-01T10:00:00Z",
    "2026-12-01T10:00:00.123Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
    "2000-02-29T12:00:00Z",
    "1900-03-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "0050-06-15T08:30:00.500Z",
    "9999-12-31T23:59:59.999Z",
    "2026-12-01T10:00:00+02:00",
    "2026-12-01T10:00:00.1Z",
    "2026-12-01T10:00:00.123456Z",
    "2026-02-30T00:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-12-01T24:00:00Z",
    "2026-12-01T10:60:00Z",
    "2026-12-01 10:00:00Z",
    "2026-12-01T10:00:00,123Z",
    "2026-1a-01T10:00:00Z",
    "not a time at all -Z",
  ];
  test.each(cases)("%s is what Date.parse says", (timestamp) => {
    expect(epochMillisOf(timestamp)).toBe(Date.parse(timestamp));
  });

  test("every millisecond-shaped timestamp over 200,000 random instants equals Date.parse", () => {
    let seed = 12_345;
    for (let i = 0; i < 200_000; i++) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) | 0;
      const high = Math.abs(seed) % 3_155_378;
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) | 0;
      // instants from year 0 to 9999 (steps of 10^8 ms plus a random rest), before the epoch too
      const instant = -62_167_219_200_000 + high * 100_000_000 + (Math.abs(seed) % 100_000_000);
      const iso = new Date(instant).toISOString();
      if (iso.length !== 24) continue;
      expect(epochMillisOf(iso)).toBe(Date.parse(iso));
      const whole = `${iso.slice(0, 19)}Z`;
      expect(epochMillisOf(whole)).toBe(Date.parse(whole));
    }
  });
});
