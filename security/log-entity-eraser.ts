import type { Log } from "../log/log.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { partitionFor } from "../messages/murmur2.ts";
import type { EntityEraser, EntityKind, EntityRef, ErasureOutcome } from "./entity-eraser.ts";

/**
 * The log's part of a deletion request: in each compacted topic that holds the entity, every key
 * naming it whose latest record is a value gets a tombstone (a null value), so compaction removes
 * every earlier record under that key and, after `delete.retention.ms`, the tombstone itself.
 *
 * The keys are found by reading what the topic holds now, not guessed: a changelog may key one
 * sensor's state several ways (its sensor actor, its windows `<type>:<partition>:<id>`). When the
 * topic is partitioned like the input (the entity's key decides the partition), only that
 * partition is read; otherwise all of them.
 *
 * Topics that are not compacted (raw readings, processed windows) cannot lose one key's records
 * in Kafka; they are reported as "expires" with their retention, after which the data is gone.
 */
export interface CompactedTarget {
  readonly topic: string;
  readonly kind: EntityKind;
  /** the key names the entity (exactly, or as part of a composite key) */
  readonly matches: (key: string, entity: EntityRef) => boolean;
  /** the topic's records for an entity sit in the partition of this key (murmur2); default: scan all */
  readonly partitionKey?: (entity: EntityRef) => string;
}

export interface RetainedTarget {
  readonly topic: string;
  readonly kind: EntityKind;
}

const PAGE = 5000;

export function createLogEntityEraser(
  log: Log,
  targets: { readonly compacted: readonly CompactedTarget[]; readonly retained?: readonly RetainedTarget[] },
): EntityEraser {
  const store = "log";

  async function eraseIn(target: CompactedTarget, entity: EntityRef): Promise<ErasureOutcome> {
    const count = await log.partitions(target.topic);
    if (count === undefined)
      return { store, status: "not-found", items: 0, detail: `${target.topic} does not exist` };
    const partitions =
      target.partitionKey === undefined
        ? Array.from({ length: count }, (_, p) => p)
        : [partitionFor(target.partitionKey(entity), count)];
    /** the entity's keys, live (latest record a value) or not, by partition */
    const live = new Map<string, { partition: number; alive: boolean }>();
    for (const partition of partitions) {
      const tp = { topic: target.topic, partition };
      const end = await log.endOffset(tp);
      let from = 0;
      while (from < end) {
        const records = await log.read(tp, { fromOffset: from, maxRecords: PAGE });
        if (records.length === 0) break;
        for (const record of records) {
          from = record.offset + 1;
          if (record.key !== null && target.matches(record.key, entity))
            live.set(record.key, { partition, alive: record.value !== null });
        }
      }
    }
    const doomed = [...live].filter(([, k]) => k.alive);
    if (doomed.length === 0) return { store, status: "not-found", items: 0, detail: target.topic };
    await log.append(
      doomed.map(([key, { partition }]) => ({ topic: target.topic, key, value: null, partition })),
    );
    return {
      store,
      status: "erased",
      items: doomed.length,
      detail: `${target.topic}: ${doomed.length} keys tombstoned`,
    };
  }

  return {
    store,
    async erase(request) {
      const outcomes: ErasureOutcome[] = [];
      for (const target of targets.compacted) {
        if (target.kind !== request.entity.kind) continue;
        try {
          outcomes.push(await eraseIn(target, request.entity));
        } catch (cause) {
          const error = new PlatformError(
            ErrorCodes.ERASURE_INCOMPLETE,
            `erasing from ${target.topic} failed`,
            { cause },
          );
          outcomes.push({ store, status: "failed", items: 0, detail: error.message });
        }
      }
      for (const target of targets.retained ?? []) {
        if (target.kind !== request.entity.kind) continue;
        // the retention is only the report's wording: a log that cannot say it still erased the rest
        const retention = await log.topicConfig(target.topic).then(
          (config) =>
            config?.retentionMs === undefined
              ? "the topic's retention"
              : `${Math.round(config.retentionMs / 3_600_000)} h`,
          (error: unknown) =>
            `the topic's retention (unknown: ${error instanceof PlatformError ? error.code : "the log did not answer"})`,
        );
        outcomes.push({
          store,
          status: "expires",
          items: 0,
          detail: `${target.topic}: deleted by retention after ${retention}`,
        });
      }
      if (outcomes.length === 0) outcomes.push({ store, status: "not-applicable", items: 0 });
      return outcomes;
    },
  };
}
