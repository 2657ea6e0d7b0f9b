import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import type { EntityEraser } from "./entity-eraser.ts";
import type { LakeErasureTarget } from "./lake-entity-eraser.ts";
import type { CompactedTarget, RetainedTarget } from "./log-entity-eraser.ts";
import type { TimeSeriesErasureTarget } from "./time-series-entity-eraser.ts";

/**
 * Where the platform's log holds data about a sensor (users have no log data of their own yet;
 * the API keys' table and the audit trail are the gateway's). Compacted topics get tombstones;
 * the append-only ones are listed so an erasure report says when their records expire.
 * The changelogs are partitioned like the input (murmur2 of the sensor id), so one partition is read.
 */
export function platformErasureTargets(
  applicationId: string,
  /** the registry's topic; tests use one of their own */
  registryTopic: string = Topics.sensorRegistry,
): {
  compacted: CompactedTarget[];
  retained: RetainedTarget[];
} {
  const bySensorId = (entity: { id: string }) => entity.id;
  return {
    compacted: [
      {
        topic: registryTopic,
        kind: "sensor",
        matches: (key, e) => key === e.id,
        partitionKey: bySensorId,
      },
      {
        topic: Topics.changelogOf(applicationId, "sensor"),
        kind: "sensor",
        matches: (key, e) => key === e.id,
        partitionKey: bySensorId,
      },
      {
        // window actors are keyed `<type>:<partition>:<sensor id>` (actors/window/window.ts)
        topic: Topics.changelogOf(applicationId, "window"),
        kind: "sensor",
        matches: (key, e) => key.split(":").slice(2).join(":") === e.id,
        partitionKey: bySensorId,
      },
    ],
    retained: [
      Topics.sensorsRaw,
      Topics.silver,
      Topics.quarantine,
      Topics.lateOf(Topics.sensorsRaw),
      Topics.deadLettersOf(Topics.sensorsRaw),
      ...SENSOR_TYPES.map((type) => Topics.processed(type)),
      Topics.predictions,
    ].map((topic) => ({ topic, kind: "sensor" as const })),
  };
}

/**
 * Where the lake holds a sensor's rows (lake/tables): its readings as ingested, validated and
 * quarantined, its own window aggregates (scope `sensor`; the per-type ones mix every sensor of
 * a type) and the predictions made for it. The per-district hours are aggregates over many
 * sensors and keep no row of one; the dead letters keep refused input as raw bytes, not
 * attributed to an entity, and are not searched.
 */
export function lakeErasureTargets(): LakeErasureTarget[] {
  return [
    { table: "bronze_sensor_readings", kind: "sensor", match: (e) => ({ sensor_id: e.id }) },
    // a raw record whose payload did not parse keeps its sensor only in the log key
    { table: "bronze_sensor_readings", kind: "sensor", match: (e) => ({ key: e.id }) },
    { table: "silver_sensor_readings", kind: "sensor", match: (e) => ({ sensor_id: e.id }) },
    { table: "silver_quarantine", kind: "sensor", match: (e) => ({ sensor_id: e.id }) },
    { table: "gold_sensor_windows", kind: "sensor", match: (e) => ({ scope: "sensor", key: e.id }) },
    { table: "gold_predictions", kind: "sensor", match: (e) => ({ key: e.id }) },
  ];
}

/** Where the time-series store holds a sensor's rows (lake/timeseries/platform-tables.ts). */
export function timeSeriesErasureTargets(): TimeSeriesErasureTarget[] {
  return [
    { table: "sensor_readings", kind: "sensor", equals: (e) => ({ sensor_id: e.id }) },
    { table: "sensor_windows", kind: "sensor", equals: (e) => ({ scope: "sensor", key: e.id }) },
    { table: "predictions", kind: "sensor", equals: (e) => ({ key: e.id }) },
  ];
}

/**
 * The model registry and experiment tracking keep models, parameters and metrics, not rows about
 * an entity: training sets are read from the lake when a model is trained. Listed so a report
 * names every store, and says why this one had nothing to do.
 */
export function modelStoreEraser(): EntityEraser {
  return {
    store: "models",
    erase: async () => [
      {
        store: "models",
        status: "not-applicable",
        items: 0,
        detail: "registry and tracking hold no per-entity rows (training sets come from the lake)",
      },
    ],
  };
}
