import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { CommitInfoAction } from "./actions.ts";
import { commitTimestamp, commitTimestamps, listLog, readCommit } from "./delta-log.ts";

/** The table's past as the log tells it: commit summaries (DESCRIBE HISTORY) and timestampAsOf. */

export interface CommitSummary {
  version: number;
  timestamp: number;
  operation: string | undefined;
  operationParameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
  readVersion: number | undefined;
  isBlindAppend: boolean | undefined;
  /** the commit's first transaction id (a sink's micro-batch marker) */
  txn: { appId: string; version: number } | undefined;
  /** every transaction id of the commit (a sink that commits one per source partition) */
  txns: { appId: string; version: number }[];
}

/** The commits, newest first: what each did, when, and its metrics. */
export async function readHistory(dir: string, limit?: number): Promise<CommitSummary[]> {
  const listing = await listLog(dir);
  const versions = [...listing.commits.keys()]
    .sort((a, b) => b - a)
    .slice(0, limit ?? Number.POSITIVE_INFINITY);
  const summaries: CommitSummary[] = [];
  for (const version of versions) {
    const actions = (await readCommit(dir, version)) ?? [];
    const info = actions.find((a): a is { commitInfo: CommitInfoAction } => "commitInfo" in a)?.commitInfo;
    const txns = actions.flatMap((a) => ("txn" in a ? [{ appId: a.txn.appId, version: a.txn.version }] : []));
    summaries.push({
      version,
      timestamp: info?.timestamp ?? (await commitTimestamp(dir, version)),
      operation: info?.operation ?? undefined,
      operationParameters: info?.operationParameters ?? {},
      metrics: info?.operationMetrics ?? {},
      readVersion: info?.readVersion ?? undefined,
      isBlindAppend: info?.isBlindAppend ?? undefined,
      txn: txns[0],
      txns,
    });
  }
  return summaries;
}

/** The newest version committed at or before `timestamp` (timestampAsOf). */
export async function versionAtTimestamp(dir: string, timestamp: Date | number): Promise<number> {
  const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
  const times = await commitTimestamps(dir, await listLog(dir));
  let found: number | undefined;
  for (const [version, time] of times)
    if (time <= ms && (found === undefined || version > found)) found = version;
  if (found === undefined) {
    throw new PlatformError(
      ErrorCodes.DELTA_VERSION_NOT_FOUND,
      `no version of the table is as old as ${new Date(ms).toISOString()}`,
    );
  }
  return found;
}
