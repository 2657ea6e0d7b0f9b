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
 * Retention moves each partition's start forward, as Kafka's deletion of old segments does: the
 * records before the partition's first record that is not older than retentionMs go. A record
 * with an old timestamp behind a newer one stays until the newer one expires too, so the log
 * never gets holes from producers' clocks. The oldest kept record is found by walking the
 * position index from the partition's start, so a run costs the expired records, not the log.
 */
export class Maintenance {
  private readonly compactKeys: Statement<unknown, [number, number]>;
  private readonly dropTombstones: Statement<unknown, [number, number]>;
  private readonly firstKept: Statement<{ offset: number }, [number, number, number]>;
  private readonly expireBefore: Statement<unknown, [number, number, number]>;
  private readonly expireAll: Statement<unknown, [number, number]>;

  constructor(private readonly db: Database) {
    this.compactKeys = db.query(
      `DELETE FROM records WHERE topic_id = ?1 AND key IS NOT NULL AND rowid NOT IN (
         SELECT max(rowid) FROM records WHERE topic_id = ?2 AND key IS NOT NULL GROUP BY partition, key)`,
    );
    this.dropTombstones = db.query(
      "DELETE FROM records WHERE topic_id = ? AND key IS NOT NULL AND value IS NULL AND timestamp < ?",
    );
    this.firstKept = db.query(
      "SELECT offset FROM records WHERE topic_id = ? AND partition = ? AND timestamp >= ? ORDER BY offset LIMIT 1",
    );
    this.expireBefore = db.query("DELETE FROM records WHERE topic_id = ? AND partition = ? AND offset < ?");
    this.expireAll = db.query("DELETE FROM records WHERE topic_id = ? AND partition = ?");
  }

  run(topics: readonly StoredTopic[], now: number, tombstoneRetentionMs: number): MaintenanceReport {
    return this.db
      .transaction(() => {
        let compacted = 0;
        let expired = 0;
        for (const topic of topics) {
          if (topic.retentionMs !== undefined)
            for (let partition = 0; partition < topic.partitions; partition++)
              expired += this.expirePartition(topic.id, partition, now - topic.retentionMs);
          if (!topic.compacted) continue;
          // rowids grow with offsets within a partition, so max(rowid) is the latest record of a key
          compacted += this.compactKeys.run(topic.id, topic.id).changes;
          compacted += this.dropTombstones.run(topic.id, now - tombstoneRetentionMs).changes;
        }
        return { compacted, expired };
      })
      .immediate();
  }

  private expirePartition(topicId: number, partition: number, cutoff: number): number {
    const kept = this.firstKept.get(topicId, partition, cutoff);
    if (kept === null) return this.expireAll.run(topicId, partition).changes;
    return this.expireBefore.run(topicId, partition, kept.offset).changes;
  }
}
