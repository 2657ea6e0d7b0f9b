import type { Action } from "./actions.ts";
import { decodeDataPath } from "./partition-values.ts";

/**
 * Optimistic concurrency (PROTOCOL.md "Requirements for Writers", after Delta's
 * ConflictChecker): a writer that lost the race for version N reads the commits that won and
 * decides whether its own commit still holds on top of them.
 *
 * - an append next to an append never conflicts (blind appends);
 * - a winner that carries the same application's transaction at or past this commit's version
 *   means this batch is already in the table: the commit is dropped, not retried (exactly once);
 *   a commit with several transactions (one per source partition) is dropped when the winners
 *   cover all of them, and is a conflict when they cover only some (the caller re-reads the
 *   versions and writes what is still missing);
 * - a winner that changed the protocol, or the metadata when this commit changes it too, is a
 *   conflict;
 * - a winner that removed a file this commit removes is a conflict (delete/delete);
 * - a winner that added data to a partition this commit read to replace is a conflict
 *   (concurrent append), unless this commit changes no data (OPTIMIZE only reads the files it
 *   removes).
 */

export interface PendingCommit {
  txn?: { appId: string; version: number } | undefined;
  /** further transactions committed in the same commit (one per source partition of a sink) */
  txns?: readonly { appId: string; version: number }[] | undefined;
  /** decoded paths of the files this commit removes */
  removes: ReadonlySet<string>;
  /** partitions this commit read to replace ("all", or keys from `partitionKey`); none for a blind append */
  readPartitions: "none" | "all" | ReadonlySet<string>;
  changesMetadata: boolean;
  dataChange: boolean;
}

export type ConflictVerdict =
  | { kind: "none" }
  | { kind: "already-committed"; appId: string; version: number }
  | { kind: "conflict"; reason: string };

export function partitionKey(
  columns: readonly string[],
  values: Readonly<Record<string, string | null>>,
): string {
  return JSON.stringify(columns.map((c) => values[c] ?? null));
}

export function checkConflict(
  pending: PendingCommit,
  winner: readonly Action[],
  partitionColumns: readonly string[],
): ConflictVerdict {
  const pendingTxns = [...(pending.txn ? [pending.txn] : []), ...(pending.txns ?? [])];
  if (pendingTxns.length > 0) {
    const covered = pendingTxns.filter((mine) =>
      winner.some((a) => "txn" in a && a.txn.appId === mine.appId && a.txn.version >= mine.version),
    );
    const first = covered[0];
    if (first && covered.length === pendingTxns.length) {
      return { kind: "already-committed", appId: first.appId, version: first.version };
    }
    if (first) {
      return { kind: "conflict", reason: `transaction ${first.appId} was committed concurrently` };
    }
  }
  for (const action of winner) {
    if ("protocol" in action) return { kind: "conflict", reason: "the protocol changed" };
    if ("metaData" in action && pending.changesMetadata) {
      return { kind: "conflict", reason: "the metadata changed concurrently" };
    }
    if ("remove" in action && pending.removes.has(decodeDataPath(action.remove.path))) {
      return { kind: "conflict", reason: `file ${action.remove.path} was removed concurrently` };
    }
    if ("add" in action && action.add.dataChange && pending.dataChange && pending.readPartitions !== "none") {
      const key = partitionKey(partitionColumns, action.add.partitionValues);
      if (pending.readPartitions === "all" || pending.readPartitions.has(key)) {
        return { kind: "conflict", reason: `data was added concurrently to partition ${key}` };
      }
    }
  }
  return { kind: "none" };
}
