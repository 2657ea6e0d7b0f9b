import { z } from "zod";

/**
 * IoT sensor readings as they arrive over MQTT on `city/sensors/<type>/<sensor_id>`.
 * The field names are the original design's; `timestamp` is ISO 8601 in UTC.
 * Version 1 of the `city.sensors.raw` value schema.
 */
export const SENSOR_READING_VERSION = 1;

export const SENSOR_TYPES = ["traffic", "environment", "utility"] as const;
export type SensorType = (typeof SENSOR_TYPES)[number];

/**
 * Hard physical limits: a value outside them cannot be a measurement (a negative count, a
 * relative humidity above 100 %, a temperature below absolute zero, an RMS voltage below 0).
 * They are part of the schema of record, so the ingest parser dead-letters them as
 * OUT_OF_RANGE. Values that are possible but implausible (a 60 °C street, 900 vehicles a
 * minute) pass the schema and are the quality layer's job (`stream/quality/`): recorded with
 * an issue, never dropped. `undefined` means no limit on that side.
 */
export const PHYSICAL_LIMITS = {
  vehicle_count: [0, undefined],
  avg_speed: [0, undefined],
  temperature: [-273.15, undefined],
  humidity: [0, 100],
  air_quality_index: [0, undefined],
  // net metering can make consumption negative, so it has no hard lower bound
  consumption: [undefined, undefined],
  voltage: [0, undefined],
  current: [0, undefined],
  lat: [-90, 90],
  lon: [-180, 180],
} as const satisfies Record<string, readonly [number | undefined, number | undefined]>;

type LimitedField = keyof typeof PHYSICAL_LIMITS;

/** z.number() rejects NaN and ±Infinity in zod 4; the limits add the physical bounds. */
function physical(field: LimitedField, integer = false) {
  const [min, max] = PHYSICAL_LIMITS[field] as readonly [number | undefined, number | undefined];
  let schema = integer ? z.number().int() : z.number();
  if (min !== undefined) schema = schema.min(min);
  if (max !== undefined) schema = schema.max(max);
  return schema;
}
const sensorId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, "sensor_id may hold letters, digits, '_', '.' and '-' only");
const isoTimestamp = z.iso.datetime({ offset: true });

export const TrafficReading = z.object({
  type: z.literal("traffic"),
  sensor_id: sensorId,
  timestamp: isoTimestamp,
  vehicle_count: physical("vehicle_count", true),
  avg_speed: physical("avg_speed"),
  location: z.object({ lat: physical("lat"), lon: physical("lon") }),
});

export const EnvironmentReading = z.object({
  type: z.literal("environment"),
  sensor_id: sensorId,
  timestamp: isoTimestamp,
  temperature: physical("temperature"),
  humidity: physical("humidity"),
  air_quality_index: physical("air_quality_index"),
});

export const UtilityReading = z.object({
  type: z.literal("utility"),
  sensor_id: sensorId,
  timestamp: isoTimestamp,
  consumption: physical("consumption"),
  voltage: physical("voltage"),
  current: physical("current"),
});

export const SensorReading = z.discriminatedUnion("type", [
  TrafficReading,
  EnvironmentReading,
  UtilityReading,
]);

/** The ISO 8601 pattern zod checks `timestamp` with; the hand-rolled validator reuses it. */
export const ISO_TIMESTAMP_PATTERN: RegExp = isoTimestamp._zod.pattern;

/** JSON Schema (draft 2020-12) of a reading, for the schema registry and the REST API. */
export function sensorReadingJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SensorReading) as Record<string, unknown>;
}

export function isSensorType(value: unknown): value is SensorType {
  return value === "traffic" || value === "environment" || value === "utility";
}

export type TrafficReading = z.infer<typeof TrafficReading>;
export type EnvironmentReading = z.infer<typeof EnvironmentReading>;
export type UtilityReading = z.infer<typeof UtilityReading>;
export type SensorReading = z.infer<typeof SensorReading>;

/** The numeric measurements of each type, in a fixed order (binary codecs and features use it). */
export const MEASUREMENTS = {
  traffic: ["vehicle_count", "avg_speed"],
  environment: ["temperature", "humidity", "air_quality_index"],
  utility: ["consumption", "voltage", "current"],
} as const satisfies Record<SensorType, readonly string[]>;

export type Measurement = (typeof MEASUREMENTS)[SensorType][number];

/** The plausible range of each measurement (the original design's where it gives one). */
export const MEASUREMENT_RANGES: Readonly<Record<Measurement, readonly [number, number]>> = {
  vehicle_count: [0, 500],
  avg_speed: [0, 200],
  temperature: [-20, 50],
  humidity: [0, 100],
  air_quality_index: [0, 500],
  consumption: [0, 10_000],
  voltage: [0, 480],
  current: [0, 400],
};

export function measurementsOf(reading: SensorReading): Record<string, number> {
  switch (reading.type) {
    case "traffic":
      return { vehicle_count: reading.vehicle_count, avg_speed: reading.avg_speed };
    case "environment":
      return {
        temperature: reading.temperature,
        humidity: reading.humidity,
        air_quality_index: reading.air_quality_index,
      };
    case "utility":
      return { consumption: reading.consumption, voltage: reading.voltage, current: reading.current };
  }
}
