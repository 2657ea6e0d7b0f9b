import { MEASUREMENTS, type SensorType } from "../../messages/sensor-reading.ts";
import { defineFeatureView, type FeatureViewDefinition } from "./feature-view.ts";
import { defineOnDemandView, type OnDemandView } from "./on-demand-view.ts";

/**
 * The city's feature views, registered by every node at start (registering an unchanged
 * definition is a no-op; a changed one becomes the next version).
 *
 * - `sensor_<type>_window`: per sensor, its last closed event-time window (mean, min, max of each
 *   measurement and the reading count), from `gold_sensor_windows`; pushed to the online store as
 *   the windows close on `city.processed.<type>`. Event time is the window's end (its values are
 *   known then), created time the moment it was emitted (a window re-emitted after a crash ties
 *   on event time and the later emission wins, as Feast breaks ties).
 * - `district_<type>_hourly`: per district, the hourly summary the gold job builds from silver.
 *   Stamped with the hour's start, known at its end: `availableAfterMs` keeps the offline join
 *   from reading an hour before it was over.
 * - `traffic_speed_vs_limit` (on demand): the sensor's mean speed against the request's limit.
 */
const HOUR_MS = 3600_000;
const OWNER = "city-platform";

export function sensorWindowView(type: SensorType): FeatureViewDefinition {
  return defineFeatureView({
    name: `sensor_${type}_window`,
    entity: "sensor_id",
    description: `the last closed window of each ${type} sensor: count, mean, min and max of its measurements`,
    owner: OWNER,
    tags: { domain: "iot", type, granularity: "window" },
    ttlMs: 2 * HOUR_MS,
    source: {
      table: "gold_sensor_windows",
      entityColumn: "key",
      timestampColumn: "window_end",
      createdColumn: "emitted_at",
      where: { scope: "sensor", type },
      stream: true,
    },
    features: [
      { name: "reading_count", type: "long", column: "count", description: "readings in the window" },
      ...MEASUREMENTS[type].flatMap((m) =>
        (["mean", "min", "max"] as const).map((agg) => ({
          name: `${m}_${agg}`,
          type: "double" as const,
          description: `${agg} of ${m} in the window`,
        })),
      ),
    ],
  });
}

export function districtHourlyView(type: SensorType): FeatureViewDefinition {
  return defineFeatureView({
    name: `district_${type}_hourly`,
    entity: "district",
    description: `per district, the last complete hour of ${type} readings: volume, sensors, averages, quality`,
    owner: OWNER,
    tags: { domain: "iot", type, granularity: "hour" },
    ttlMs: 3 * HOUR_MS,
    source: {
      table: "gold_district_hourly",
      entityColumn: "district",
      timestampColumn: "hour_start",
      availableAfterMs: HOUR_MS,
      where: { type },
    },
    features: [
      { name: "readings", type: "long" },
      { name: "sensors", type: "long" },
      ...MEASUREMENTS[type].map((m) => ({ name: `avg_${m}`, type: "double" as const })),
      { name: "avg_quality_score", type: "double" },
      { name: "max_anomaly_score", type: "double" },
    ],
  });
}

export const IOT_FEATURE_VIEWS: readonly FeatureViewDefinition[] = [
  sensorWindowView("traffic"),
  sensorWindowView("environment"),
  sensorWindowView("utility"),
  districtHourlyView("traffic"),
  districtHourlyView("environment"),
  districtHourlyView("utility"),
];

export const TRAFFIC_SPEED_VS_LIMIT: OnDemandView = defineOnDemandView({
  name: "traffic_speed_vs_limit",
  sources: ["sensor_traffic_window"],
  request: { speed_limit: "double" },
  features: [
    { name: "speed_ratio", type: "double" },
    { name: "speeding", type: "boolean" },
  ],
  description: "the window's mean speed over the road's limit, and whether it is above it",
  owner: OWNER,
  tags: { domain: "iot", type: "traffic" },
  transform: (features, request) => {
    const speed = features.avg_speed_mean;
    const limit = request.speed_limit;
    if (typeof speed !== "number" || typeof limit !== "number" || limit <= 0)
      return { speed_ratio: null, speeding: null };
    return { speed_ratio: speed / limit, speeding: speed > limit };
  },
});

export const IOT_ON_DEMAND_VIEWS: readonly OnDemandView[] = [TRAFFIC_SPEED_VS_LIMIT];
