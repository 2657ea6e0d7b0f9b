import { SENSOR_TYPES } from "../messages/sensor-reading.ts";
import { Topics } from "../messages/topics.ts";
import type { CompactedTarget, RetainedTarget } from "./log-entity-eraser.ts";

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
