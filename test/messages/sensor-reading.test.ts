import { describe, expect, test } from "bun:test";
import {
  MEASUREMENT_RANGES,
  MEASUREMENTS,
  measurementsOf,
  PHYSICAL_LIMITS,
  SENSOR_TYPES,
  SensorReading,
  sensorReadingJsonSchema,
} from "../../messages/sensor-reading.ts";

const base = {
  traffic: {
    type: "traffic",
    sensor_id: "t",
    timestamp: "2024-01-01T00:00:00Z",
    vehicle_count: 1,
    avg_speed: 1,
    location: { lat: 0, lon: 0 },
  },
  environment: {
    type: "environment",
    sensor_id: "e",
    timestamp: "2024-01-01T00:00:00Z",
    temperature: 1,
    humidity: 1,
    air_quality_index: 1,
  },
  utility: {
    type: "utility",
    sensor_id: "u",
    timestamp: "2024-01-01T00:00:00Z",
    consumption: 1,
    voltage: 1,
    current: 1,
  },
} as const;

describe("sensor reading schema", () => {
  test("every plausible range lies inside the physical limits, so the quality layer sees what the schema lets through", () => {
    for (const [field, [lo, hi]] of Object.entries(MEASUREMENT_RANGES)) {
      const [min, max] = PHYSICAL_LIMITS[field as keyof typeof PHYSICAL_LIMITS];
      if (min !== undefined) expect(lo).toBeGreaterThanOrEqual(min);
      if (max !== undefined) expect(hi).toBeLessThanOrEqual(max);
    }
  });

  const limitCases = Object.entries(PHYSICAL_LIMITS).flatMap(([field, [min, max]]) =>
    [
      min === undefined ? null : ([field, min - 1, false] as const),
      min === undefined ? null : ([field, min, true] as const),
      max === undefined ? null : ([field, max, true] as const),
      max === undefined ? null : ([field, max + 1, false] as const),
    ].filter((c) => c !== null),
  );

  test.each(limitCases)("%s = %d is accepted: %p", (field, value, ok) => {
    const type =
      SENSOR_TYPES.find((t) => (MEASUREMENTS[t] as readonly string[]).includes(field)) ?? "traffic";
    const reading: Record<string, unknown> = structuredClone(base[type]);
    if (field === "lat" || field === "lon") reading.location = { lat: 0, lon: 0, [field]: value };
    else reading[field] = value;
    expect(SensorReading.safeParse(reading).success).toBe(ok);
  });

  test("the JSON Schema export carries the discriminator, the physical limits and the timestamp pattern", () => {
    const schema = sensorReadingJsonSchema() as {
      oneOf: { properties: Record<string, Record<string, unknown>> }[];
    };
    expect(schema.oneOf.length).toBe(3);
    const env = schema.oneOf.find((s) => s.properties.type?.const === "environment")!;
    expect(env.properties.humidity).toMatchObject({ minimum: 0, maximum: 100 });
    expect(typeof env.properties.timestamp?.pattern).toBe("string");
  });

  test("measurementsOf returns exactly the fields MEASUREMENTS lists, in order", () => {
    for (const type of SENSOR_TYPES) {
      const reading = SensorReading.parse(base[type]);
      expect(Object.keys(measurementsOf(reading))).toEqual([...MEASUREMENTS[type]]);
    }
  });
});
