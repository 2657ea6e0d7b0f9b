import type { Database, Statement } from "bun:sqlite";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { CommitOffset, TopicPartition } from "../log.ts";
import { DataVersion } from "./data-version.ts";
import type { GroupMember } from "./range-assignor.ts";

/**
 * Consumer-group coordination through the shared SQLite file, so members in one process and
 * members in other processes on the same file follow the same protocol:
 *
 * 1. join inserts a member row and bumps the group's generation;
 * 2. members heartbeat; a member whose heartbeat is older than the session timeout is evicted
 *    by any other member (its row and its partitions go, the generation is bumped);
 * 3. on a new generation each member computes the same range assignment, releases the
 *    partitions it lost (after its onRevoked callback ran) and claims the ones it gained once
 *    their previous owner has released them or left (incremental cooperative rebalancing);
 * 4. a commit is accepted only from the member that owns the partition now (fencing a zombie).
 */
export class GroupStore {
  private readonly upsertGeneration: Statement<unknown, [string]>;
  private readonly selectGeneration: Statement<{ generation: number }, [string]>;
  private readonly insertMember: Statement<unknown, [string, string, string, number]>;
  private readonly touchMember: Statement<unknown, [number, string, string]>;
  private readonly selectExpired: Statement<{ member_id: string }, [string, number]>;
  private readonly deleteMember: Statement<unknown, [string, string]>;
  private readonly deleteOwnedBy: Statement<unknown, [string, string]>;
  private readonly selectMembers: Statement<{ member_id: string; topics: string }, [string]>;
  private readonly selectMember: Statement<{ member_id: string }, [string, string]>;
  private readonly selectOwner: Statement<{ member_id: string }, [string, string, number]>;
  private readonly upsertOwner: Statement<unknown, [string, string, number, string]>;
  private readonly deleteOwner: Statement<unknown, [string, string, number, string]>;
  private readonly upsertCommit: Statement<unknown, [string, string, number, number]>;
  private readonly selectCommit: Statement<{ offset: number }, [string, string, number]>;
  /**
   * generations as read under `generationsVersion`: every poll of every member asks for its
   * group's generation, and a node's dozen groups asked SQLite ~1,700 times a second at 3k
   * readings/s for a number that changes only on a join, a leave or an eviction
   */
  private readonly generations = new Map<string, number>();
  private generationsVersion = Number.NaN;

  constructor(
    private readonly db: Database,
    private readonly dataVersion = new DataVersion(db),
  ) {
    this.upsertGeneration = db.query(
      "INSERT INTO groups (group_id, generation) VALUES (?, 1) ON CONFLICT (group_id) DO UPDATE SET generation = generation + 1",
    );
    this.selectGeneration = db.query("SELECT generation FROM groups WHERE group_id = ?");
    this.insertMember = db.query(
      "INSERT OR REPLACE INTO group_members (group_id, member_id, topics, heartbeat_at) VALUES (?, ?, ?, ?)",
    );
    this.touchMember = db.query(
      "UPDATE group_members SET heartbeat_at = ? WHERE group_id = ? AND member_id = ?",
    );
    this.selectExpired = db.query(
      "SELECT member_id FROM group_members WHERE group_id = ? AND heartbeat_at < ?",
    );
    this.deleteMember = db.query("DELETE FROM group_members WHERE group_id = ? AND member_id = ?");
    this.deleteOwnedBy = db.query("DELETE FROM partition_owners WHERE group_id = ? AND member_id = ?");
    this.selectMembers = db.query(
      "SELECT member_id, topics FROM group_members WHERE group_id = ? ORDER BY member_id",
    );
    this.selectMember = db.query("SELECT member_id FROM group_members WHERE group_id = ? AND member_id = ?");
    this.selectOwner = db.query(
      "SELECT member_id FROM partition_owners WHERE group_id = ? AND topic = ? AND partition = ?",
    );
    this.upsertOwner = db.query(
      "INSERT OR REPLACE INTO partition_owners (group_id, topic, partition, member_id) VALUES (?, ?, ?, ?)",
    );
    this.deleteOwner = db.query(
      "DELETE FROM partition_owners WHERE group_id = ? AND topic = ? AND partition = ? AND member_id = ?",
    );
    this.upsertCommit = db.query(
      "INSERT OR REPLACE INTO committed_offsets (group_id, topic, partition, offset) VALUES (?, ?, ?, ?)",
    );
    this.selectCommit = db.query(
      "SELECT offset FROM committed_offsets WHERE group_id = ? AND topic = ? AND partition = ?",
    );
  }

  join(groupId: string, member: GroupMember, now: number): void {
    this.db
      .transaction(() => {
        this.insertMember.run(groupId, member.memberId, JSON.stringify(member.topics), now);
        this.bumpGeneration(groupId);
      })
      .immediate();
  }

  /**
   * Record this member's heartbeat and evict members silent for longer than the session
   * timeout. Returns false when this member itself was evicted and must join again.
   */
  heartbeat(groupId: string, memberId: string, now: number, sessionTimeoutMs: number): boolean {
    return this.db
      .transaction(() => {
        const alive = this.touchMember.run(now, groupId, memberId).changes > 0;
        const expired = this.selectExpired.all(groupId, now - sessionTimeoutMs);
        for (const { member_id } of expired) this.removeMember(groupId, member_id);
        if (expired.length > 0) this.bumpGeneration(groupId);
        return alive;
      })
      .immediate();
  }

  leave(groupId: string, memberId: string): void {
    this.db
      .transaction(() => {
        this.removeMember(groupId, memberId);
        this.bumpGeneration(groupId);
      })
      .immediate();
  }

  /**
   * The group's generation. Read from SQLite only when another connection committed since the
   * last read (`version`, a look the caller may have just made) or this one bumped it; the
   * generation changes only inside this store's transactions or another connection's commits.
   */
  generation(groupId: string, version = this.dataVersion.look()): number {
    if (version !== this.generationsVersion) {
      this.generations.clear();
      this.generationsVersion = version;
    }
    const known = this.generations.get(groupId);
    if (known !== undefined) return known;
    const generation = this.selectGeneration.get(groupId)?.generation ?? 0;
    this.generations.set(groupId, generation);
    return generation;
  }

  members(groupId: string): GroupMember[] {
    return this.selectMembers.all(groupId).map((row) => ({
      memberId: row.member_id,
      topics: JSON.parse(row.topics) as string[],
    }));
  }

  isOwner(groupId: string, memberId: string, partition: TopicPartition): boolean {
    return this.selectOwner.get(groupId, partition.topic, partition.partition)?.member_id === memberId;
  }

  release(groupId: string, memberId: string, partitions: readonly TopicPartition[]): void {
    this.db
      .transaction(() => {
        for (const { topic, partition } of partitions)
          this.deleteOwner.run(groupId, topic, partition, memberId);
      })
      .immediate();
  }

  /** claim each partition that has no owner or whose owner left the group; returns the claimed */
  claim(groupId: string, memberId: string, partitions: readonly TopicPartition[]): TopicPartition[] {
    return this.db
      .transaction(() => {
        const claimed: TopicPartition[] = [];
        for (const tp of partitions) {
          const owner = this.selectOwner.get(groupId, tp.topic, tp.partition)?.member_id;
          const free =
            owner === undefined || owner === memberId || this.selectMember.get(groupId, owner) === null;
          if (!free) continue;
          this.upsertOwner.run(groupId, tp.topic, tp.partition, memberId);
          claimed.push(tp);
        }
        return claimed;
      })
      .immediate();
  }

  commit(groupId: string, memberId: string, offsets: readonly CommitOffset[]): void {
    this.db
      .transaction(() => {
        for (const { topic, partition, offset } of offsets) {
          if (!this.isOwner(groupId, memberId, { topic, partition })) {
            throw new PlatformError(
              ErrorCodes.LOG_REBALANCE,
              `member ${memberId} of group ${groupId} does not own ${topic}[${partition}]; commit refused`,
              { details: { groupId, memberId, topic, partition, offset } },
            );
          }
          this.upsertCommit.run(groupId, topic, partition, offset);
        }
      })
      .immediate();
  }

  committed(groupId: string, partition: TopicPartition): number | undefined {
    return this.selectCommit.get(groupId, partition.topic, partition.partition)?.offset;
  }

  /** forgets the known generation first: a rolled-back transaction must not leave a stale one */
  private bumpGeneration(groupId: string): void {
    this.generations.delete(groupId);
    this.upsertGeneration.run(groupId);
  }

  private removeMember(groupId: string, memberId: string): void {
    this.deleteOwnedBy.run(groupId, memberId);
    this.deleteMember.run(groupId, memberId);
  }
}
