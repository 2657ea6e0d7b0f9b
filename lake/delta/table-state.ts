import { join } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type {
  Action,
  AddAction,
  FileStats,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from "./actions.ts";
import { decodeDataPath } from "./partition-values.ts";
import { type DeltaField, parseSchemaString } from "./schema.ts";
import { parseStats } from "./stats.ts";

/**
 * The reconciled state of a table at one version (PROTOCOL.md "Action Reconciliation"): the
 * newest protocol and metadata, the live files (an add not followed by a remove of the same
 * path), the tombstones VACUUM needs, and the newest transaction version of each application.
 */
export class TableState {
  version = -1;
  protocol: ProtocolAction | undefined;
  metadata: MetadataAction | undefined;
  /** live files by decoded path */
  readonly files = new Map<string, AddAction>();
  readonly tombstones = new Map<string, RemoveAction>();
  readonly txns = new Map<string, TxnAction>();
  private schemaCache: { text: string; fields: DeltaField[] } | undefined;

  apply(version: number, actions: readonly Action[]): void {
    for (const action of actions) {
      if ("add" in action) {
        const key = decodeDataPath(action.add.path);
        this.files.set(key, action.add);
        this.tombstones.delete(key);
      } else if ("remove" in action) {
        const key = decodeDataPath(action.remove.path);
        this.files.delete(key);
        this.tombstones.set(key, action.remove);
      } else if ("txn" in action) {
        this.txns.set(action.txn.appId, action.txn);
      } else if ("metaData" in action) {
        this.metadata = action.metaData;
      } else if ("protocol" in action) {
        this.protocol = action.protocol;
      }
    }
    this.version = version;
  }

  clone(): TableState {
    const copy = new TableState();
    copy.version = this.version;
    copy.protocol = this.protocol;
    copy.metadata = this.metadata;
    for (const [k, v] of this.files) copy.files.set(k, v);
    for (const [k, v] of this.tombstones) copy.tombstones.set(k, v);
    for (const [k, v] of this.txns) copy.txns.set(k, v);
    copy.schemaCache = this.schemaCache;
    return copy;
  }

  get schema(): DeltaField[] {
    const metadata = this.requireMetadata();
    if (this.schemaCache?.text !== metadata.schemaString) {
      this.schemaCache = { text: metadata.schemaString, fields: parseSchemaString(metadata.schemaString) };
    }
    return this.schemaCache.fields;
  }

  requireMetadata(): MetadataAction {
    if (!this.metadata || !this.protocol) {
      throw new PlatformError(
        ErrorCodes.DELTA_LOG_CORRUPT,
        `version ${this.version} has no metaData or protocol action`,
      );
    }
    return this.metadata;
  }

  txnVersion(appId: string): number | undefined {
    return this.txns.get(appId)?.version;
  }
}

/** A data file of a snapshot, as readers need it. */
export interface DataFile {
  /** absolute filesystem path */
  path: string;
  /** the add action's path, relative to the table */
  relativePath: string;
  partitionValues: Readonly<Record<string, string | null>>;
  size: number;
  numRecords: number | undefined;
  modificationTime: number;
  stats: FileStats | undefined;
}

/** A read-only view of a table at one version. */
export interface DeltaSnapshot {
  readonly version: number;
  /** the commit's timestamp in ms (its file's modification time, as the protocol defines it) */
  readonly timestamp: number;
  readonly schema: readonly DeltaField[];
  readonly partitionColumns: readonly string[];
  readonly files: readonly DataFile[];
  readonly metadata: MetadataAction;
  readonly protocol: ProtocolAction;
  readonly configuration: Readonly<Record<string, string | null>>;
  txnVersion(appId: string): number | undefined;
}

export function snapshotOf(dir: string, state: TableState, timestamp: number): DeltaSnapshot {
  const metadata = state.requireMetadata();
  const files: DataFile[] = [];
  for (const [relative, add] of state.files) {
    const stats = parseStats(add.stats);
    files.push({
      path: join(dir, relative),
      relativePath: add.path,
      partitionValues: add.partitionValues,
      size: add.size,
      numRecords: stats?.numRecords,
      modificationTime: add.modificationTime,
      stats,
    });
  }
  const txns = new Map(state.txns);
  return {
    version: state.version,
    timestamp,
    schema: state.schema,
    partitionColumns: metadata.partitionColumns,
    files,
    metadata,
    protocol: state.protocol as ProtocolAction,
    configuration: metadata.configuration ?? {},
    txnVersion: (appId) => txns.get(appId)?.version,
  };
}
