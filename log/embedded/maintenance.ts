import type { Database, Statement } from "bun:sqlite";
import type { StoredTopic } from "./record-store.ts";

export interface MaintenanceReport {
  /** older records of a key removed by compaction, plus expired tombstones */
  readonly compacted: number;
  /** records removed because they were older than the topic's retention */
  readonly expired: number;
}

/**
 * Log compaction and time retention, run on demand and on a timer.
 *
 * Compaction follows Kafka's log cleaner (KIP-"Log Compaction" in the Kafka docs, section
 * 4.8): within a partition only the record with the highest offset per key survives; a
 * tombstone (null value) survives until it is older than `tombstoneRetentionMs`
 * (Kafka's delete.retention.ms) so consumers that are behind still see the delete, then goes
 * too. Keyless records are never compacted. Offsets are not rewritten: compaction leaves gaps.
 *
 * Retention deletes records whose timestamp is older than the topic's retentionMs. Unlike
 * Kafka it works per record, not per segment.
 */
export class Maintenance {
  private readonly compactKeys: Statement<unknown, [number, number]>;
  private readonly dropTombstones: Statement<unknown, [number, number]>;
  private readonly expire: Statement<unknown, [number, number]>;

  constructor(private readonly db: Database) {
    this.compactKeys = db.query(
      `DELETE FROM records WHERE topic_id = ?1 AND key IS NOT NULL AND rowid NOT IN (
         SELECT max(rowid) FROM records WHERE topic_id = ?2 AND key IS NOT NULL GROUP BY partition, key)`,
    );
    this.dropTombstones = db.query(
      "DELETE FROM records WHERE topic_id = ? AND key IS NOT NULL AND value IS NULL AND timestamp < ?",
    );
    this.expire = db.query("DELETE FROM records WHERE topic_id = ? AND timestamp < ?");
  }

  run(topics: readonly StoredTopic[], now: number, tombstoneRetentionMs: number): MaintenanceReport {
    return this.db
      .transaction(() => {
        let compacted = 0;
        let expired = 0;
        for (const topic of topics) {
          if (topic.retentionMs !== undefined)
            expired += this.expire.run(topic.id, now - topic.retentionMs).changes;
          if (!topic.compacted) continue;
          // rowids grow with offsets within a partition, so max(rowid) is the latest record of a key
          compacted += this.compactKeys.run(topic.id, topic.id).changes;
          compacted += this.dropTombstones.run(topic.id, now - tombstoneRetentionMs).changes;
        }
        return { compacted, expired };
      })
      .immediate();
  }
}
