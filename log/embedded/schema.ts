import type { Database } from "bun:sqlite";

/**
 * The embedded log's tables in one SQLite file.
 *
 * Durability: WAL journal with synchronous=FULL fsyncs the WAL on every commit, so a
 * transaction that returned is on disk and survives kill -9 and power loss
 * (https://www.sqlite.org/pragma.html#pragma_synchronous, "WAL mode ... FULL"). With NORMAL
 * the WAL is written on every commit but synced only at checkpoints: a committed transaction
 * survives kill -9 of the process (the OS holds the pages) and may be lost only with the
 * machine (power loss). The node uses NORMAL unless EMBEDDED_LOG_SYNC=full: the fsync per
 * commit blocked its main thread for about a third of its time at 3k readings/s.
 * Several processes may open the same file: writers serialise on SQLite's write lock
 * (BEGIN IMMEDIATE) and wait up to busy_timeout for it.
 *
 * - topics:        one row per topic; id keeps the record index narrow.
 * - partitions:    next_offset per partition, kept apart from the records because compaction
 *                  and retention may delete the newest record and offsets must never be reused.
 * - records:       the log itself; (topic_id, partition, offset) is unique and the read index.
 * - groups:        a consumer group's generation, bumped on every membership change.
 * - group_members: live members with their subscription and last heartbeat.
 * - partition_owners: which member consumes a partition now; a member claims a partition only
 *                  after the previous owner released it (or was evicted), so two members never
 *                  consume one partition at once.
 * - committed_offsets: the next offset to read per group and partition (Kafka's convention).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  partitions INTEGER NOT NULL,
  compacted INTEGER NOT NULL,
  retention_ms INTEGER
);
CREATE TABLE IF NOT EXISTS partitions (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  key TEXT,
  value BLOB,
  timestamp INTEGER NOT NULL,
  headers TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS records_position ON records (topic_id, partition, offset);
CREATE TABLE IF NOT EXISTS groups (
  group_id TEXT PRIMARY KEY,
  generation INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
  group_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  topics TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS partition_owners (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  member_id TEXT NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS committed_offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;
`;

export type Synchronous = "FULL" | "NORMAL";

export function prepareDatabase(db: Database, synchronous: Synchronous, busyTimeoutMs: number): void {
  db.run(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  db.run("PRAGMA journal_mode = WAL");
  db.run(`PRAGMA synchronous = ${synchronous}`);
  db.transaction(() => db.run(SCHEMA)).immediate();
}
