import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { PartitionWatermark, PartitionWatermarks } from "../watermark/partition-watermarks.ts";
import type { KeyDictionary } from "./key-dictionary.ts";
import type { WindowAssigner } from "./window-assigner.ts";
import type { KeyStateJson, RecordPlacement } from "./window-placement.ts";
import type { WindowStateJson, WindowTable } from "./window-table.ts";

/**
 * Operator state as JSON, version 1.
 *
 * Each open window is a self-contained entry { key, start, end, seq, state } so the same shape
 * can later be written as a changelog record per window (key = `${key}@${start}`, tombstone on
 * close). `seq` is the window's creation sequence: windows closing at the same time are emitted
 * in seq order, which is what makes a restored run emit exactly what an uninterrupted one would.
 * Config (assigner, fields) is not restored from the snapshot, only checked against it:
 * aggregators hold code.
 */
export interface WindowOperatorSnapshot {
  readonly version: 1;
  readonly assigner: WindowAssigner;
  readonly fields: readonly string[];
  /** null before any valid record */
  readonly watermark: number | null;
  readonly partitions: readonly PartitionWatermark[];
  readonly nextSeq: number;
  readonly counts: SnapshotCounts;
  readonly windows: readonly WindowEntryJson[];
  /** per-key record buffers (sliding windows) */
  readonly keyStates: readonly KeyStateJson[];
  /** streamTime "key": each key's max event time, [key, ms] (absent in partition mode) */
  readonly keyStreamTimes?: readonly (readonly [string, number])[];
}

export interface SnapshotCounts {
  readonly processed: number;
  readonly emitted: number;
  readonly late: number;
  readonly rejected: number;
}

export interface WindowEntryJson {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly seq: number;
  readonly state: WindowStateJson;
}

interface OperatorParts {
  readonly config: { readonly assigner: WindowAssigner };
  readonly fields: readonly string[];
  readonly table: WindowTable;
  readonly keys: KeyDictionary;
  readonly watermarks: PartitionWatermarks;
  readonly placement: RecordPlacement;
}

export function writeSnapshot(
  parts: OperatorParts & { readonly nextSeq: number; readonly counts: SnapshotCounts },
): WindowOperatorSnapshot {
  const { table, keys } = parts;
  const windows: WindowEntryJson[] = [];
  for (let keyId = 0; keyId < keys.size; keyId++) {
    for (let slot = table.keyHead[keyId] ?? -1; slot >= 0; slot = table.nextOf(slot)) {
      windows.push({
        key: keys.keyOf(keyId),
        start: table.startOf(slot),
        end: table.endOf(slot),
        seq: table.seqOf(slot),
        state: table.windowState(slot),
      });
    }
  }
  windows.sort((a, b) => a.seq - b.seq);
  const watermark = parts.watermarks.current;
  return {
    version: 1,
    assigner: parts.config.assigner,
    fields: [...parts.fields],
    watermark: watermark === Number.NEGATIVE_INFINITY ? null : watermark,
    partitions: parts.watermarks.partitions(),
    nextSeq: parts.nextSeq,
    counts: { ...parts.counts },
    windows,
    keyStates: parts.placement.snapshotKeys?.((keyId) => keys.keyOf(keyId)) ?? [],
  };
}

/** Loads a snapshot into freshly created parts; `requeue` queues each window's close. */
export function readSnapshot(
  snapshot: WindowOperatorSnapshot,
  parts: OperatorParts & { readonly requeue: (slot: number) => void },
): { nextSeq: number; counts: SnapshotCounts } {
  if (snapshot?.version !== 1 || !Array.isArray(snapshot.windows) || !Array.isArray(snapshot.partitions)) {
    throw new PlatformError(ErrorCodes.DECODE_FAILED, "not a version 1 window operator snapshot");
  }
  if (
    JSON.stringify(snapshot.assigner) !== JSON.stringify(parts.config.assigner) ||
    JSON.stringify(snapshot.fields) !== JSON.stringify(parts.fields)
  ) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "snapshot was taken with another assigner or field list",
      {
        details: { snapshot: { assigner: snapshot.assigner, fields: snapshot.fields } },
      },
    );
  }
  const { table, keys } = parts;
  // windows in seq order, each linked at its key's head: per-key lists come back newest first
  const windows = [...snapshot.windows].sort((a, b) => a.seq - b.seq);
  for (const window of windows) {
    const keyId = keys.intern(window.key);
    table.ensureKeys(keyId + 1);
    const slot = table.allocate(keyId, window.start, window.end, window.seq);
    table.restoreWindowState(slot, window.state);
    parts.requeue(slot);
  }
  for (const state of snapshot.keyStates ?? []) {
    const keyId = keys.intern(state.key);
    table.ensureKeys(keyId + 1);
    parts.placement.restoreKey?.(keyId, state);
  }
  parts.watermarks.restore(snapshot.partitions, snapshot.watermark ?? Number.NEGATIVE_INFINITY);
  return { nextSeq: snapshot.nextSeq, counts: snapshot.counts };
}
