import { MEASUREMENT_COLUMNS } from "../../../lake/tables/silver.ts";
import type { SensorType } from "../../../messages/sensor-reading.ts";

/** a silver table row (as the sink writes it) for reading `i` of a type at an instant */
export function silverRow(
  i: number,
  type: SensorType,
  at: number,
  district = `district_${i % 3}`,
): Record<string, unknown> {
  const row: Record<string, unknown> = {
    reading_id: `${i % 4}@${i}`,
    sensor_id: `${type}_${i % 5}`,
    event_time: at,
    quality_score: 1,
    anomaly_score: (i % 10) / 10,
    district,
    zone: "z1",
    source_partition: i % 4,
    source_offset: i,
    date: new Date(at).toISOString().slice(0, 10),
    type,
  };
  for (const m of MEASUREMENT_COLUMNS) row[m] = null;
  if (type === "traffic") {
    row.vehicle_count = i;
    row.avg_speed = 40;
  } else if (type === "environment") {
    row.temperature = 20;
    row.humidity = 50;
    row.air_quality_index = 30;
  } else {
    row.consumption = 5;
    row.voltage = 230;
    row.current = 2;
  }
  return row;
}
