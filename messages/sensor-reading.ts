import { z } from "zod";

/**
 * IoT sensor readings as they arrive over MQTT on `city/sensors/<type>/<sensor_id>`.
 * The field names are the original design's; `timestamp` is ISO 8601 in UTC.
 * Version 1 of the `city.sensors.raw` value schema.
 */
export const SENSOR_READING_VERSION = 1;

export const SENSOR_TYPES = ["traffic", "environment", "utility"] as const;
export type SensorType = (typeof SENSOR_TYPES)[number];

const finite = () => z.number().refine(Number.isFinite, { message: "must be a finite number" });
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
  vehicle_count: z.number().int(),
  avg_speed: finite(),
  location: z.object({ lat: finite(), lon: finite() }),
});

export const EnvironmentReading = z.object({
  type: z.literal("environment"),
  sensor_id: sensorId,
  timestamp: isoTimestamp,
  temperature: finite(),
  humidity: finite(),
  air_quality_index: finite(),
});

export const UtilityReading = z.object({
  type: z.literal("utility"),
  sensor_id: sensorId,
  timestamp: isoTimestamp,
  consumption: finite(),
  voltage: finite(),
  current: finite(),
});

export const SensorReading = z.discriminatedUnion("type", [
  TrafficReading,
  EnvironmentReading,
  UtilityReading,
]);

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
