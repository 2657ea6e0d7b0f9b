import type { LogRecord } from "../../../log/log.ts";
import type { SensorRegistryRecord } from "../../../messages/reference-data.ts";

/** Registry rows and compacted-topic records for the enrichment tests. */
export const T0 = Date.UTC(2024, 2, 4, 8);
export const iso = (ms: number) => new Date(ms).toISOString();

export function registryRow(
  sensorId: string,
  district: string,
  updatedAt = T0,
  extra: Partial<SensorRegistryRecord> = {},
): SensorRegistryRecord {
  return {
    sensor_id: sensorId,
    type: "traffic",
    district,
    zone: "arterial",
    installed_at: "2019-04-01",
    location: { lat: 52.52, lon: 13.405 },
    updated_at: iso(updatedAt),
    ...extra,
  };
}

let offset = 0;
export function recordOf(key: string | null, value: unknown, timestamp = T0): LogRecord {
  return {
    topic: "ref.test",
    partition: 0,
    offset: offset++,
    key,
    value:
      value === null
        ? null
        : value instanceof Uint8Array
          ? value
          : new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value)),
    timestamp,
    headers: [],
  };
}

export const tombstone = (key: string, timestamp = T0) => recordOf(key, null, timestamp);
