import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { Action, AddAction, MetadataAction, RemoveAction } from "./actions.ts";
import { checkConflict, type PendingCommit } from "./conflicts.ts";
import { groupByPartition, writeDataFiles } from "./data-files.ts";
import {
  checkWritable,
  cleanupExpiredLog,
  commitTimestamp,
  LOG_DIR,
  listLog,
  loadState,
  readCommit,
  writeCheckpoint,
  writeCommit,
} from "./delta-log.ts";
import { sharedParquet } from "./duckdb-parquet.ts";
import type { ParquetPort } from "./parquet.ts";
import { type DeltaField, mergeSchema, schemaError, toSchemaString, validateSchema } from "./schema.ts";
import { type CommitSummary, readHistory, versionAtTimestamp } from "./table-history.ts";
import { type DeltaSnapshot, snapshotOf, TableState } from "./table-state.ts";
import {
  decodePathKey,
  filesToReplace,
  parseInterval,
  type Replace,
  schemaForRows,
  toRemove,
  validateTxn,
} from "./write-plan.ts";

/**
 * A Delta table on the local filesystem (protocol reader 1 / writer 2), readable unchanged by
 * delta-rs, Spark and DuckDB. One instance serializes its own commits; several instances or
 * processes writing one table are reconciled by the log's create-if-absent commits
 * (`delta-log.ts`) and the conflict rules of `conflicts.ts`.
 */

export interface TableSpec {
  name: string;
  schema: DeltaField[];
  partitionColumns?: string[];
  description?: string;
  configuration?: Record<string, string>;
}

export interface TableOptions {
  parquet?: ParquetPort;
  /** attempts at a commit before DELTA_COMMIT_CONFLICT (default 50) */
  maxCommitAttempts?: number;
  /** a failed checkpoint never fails the commit it follows; it is reported here */
  onBackgroundError?: (error: unknown) => void;
  /** test seam: runs before each attempt to create commit `version` */
  beforeCommitAttempt?: (version: number) => Promise<void>;
}

export interface WriteOptions {
  /** the writer's exactly-once marker: skipped when the table already has appId at >= version */
  txn?: { appId: string; version: number };
  /**
   * several exactly-once markers in one commit (a sink's source partitions): the write is
   * skipped when the table holds all of them, and refused (DELTA_COMMIT_CONFLICT) when it holds
   * only some, since the rows of the others may not be told apart here: the caller reads
   * `txnVersions` first and writes only what is missing
   */
  txns?: readonly { appId: string; version: number }[];
  commitInfo?: Record<string, unknown>;
  /** "merge" adds the rows' unknown columns as nullable ones; the default rejects them */
  schemaMode?: "strict" | "merge";
}

export interface CommitResult {
  version: number;
  skipped: boolean;
}

export type { CommitSummary } from "./table-history.ts";

export type TimeTravel = { version?: number; timestamp?: Date | number };

const CLIENT = "streaming-ml-platform lake/delta";
const DEFAULT_CHECKPOINT_INTERVAL = 10;
const WEEK_MS = 7 * 24 * 3600 * 1000;
/** Delta's default `delta.logRetentionDuration`: 30 days */
const LOG_RETENTION_MS = 30 * 24 * 3600 * 1000;

export class DeltaTable {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly parquet: ParquetPort,
    private state: TableState,
    private readonly options: TableOptions,
  ) {}

  /** Creates the table, or opens it when it exists with a compatible schema (new nullable columns are added). */
  static async create(dir: string, spec: TableSpec, options: TableOptions = {}): Promise<DeltaTable> {
    const partitionColumns = spec.partitionColumns ?? [];
    validateSchema(spec.schema, partitionColumns);
    for (const field of spec.schema) {
      if (typeof field.type !== "string")
        throw schemaError(`column ${field.name}: nested types are not written here`);
    }
    await mkdir(join(dir, LOG_DIR), { recursive: true });
    const parquet = options.parquet ?? sharedParquet();
    const existing = await DeltaTable.openIfExists(dir, parquet, options);
    if (existing) return existing.adopt(spec);
    const now = Date.now();
    const metadata: MetadataAction = {
      id: crypto.randomUUID(),
      name: spec.name,
      description: spec.description ?? null,
      format: { provider: "parquet", options: {} },
      schemaString: toSchemaString(spec.schema),
      partitionColumns,
      configuration: spec.configuration ?? {},
      createdTime: now,
    };
    const actions: Action[] = [
      {
        commitInfo: {
          timestamp: now,
          operation: "CREATE TABLE",
          operationParameters: { partitionBy: JSON.stringify(partitionColumns), mode: "ErrorIfExists" },
          clientVersion: CLIENT,
        },
      },
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      { metaData: metadata },
    ];
    if (await writeCommit(dir, 0, actions)) {
      const state = new TableState();
      state.apply(0, actions);
      return new DeltaTable(dir, parquet, state, options);
    }
    // another writer created it between our look and our commit
    return (await DeltaTable.open(dir, options)).adopt(spec);
  }

  /** Opens an existing table: DELTA_NOT_A_TABLE when `dir` holds none. */
  static async open(dir: string, options: TableOptions = {}): Promise<DeltaTable> {
    const parquet = options.parquet ?? sharedParquet();
    const state = await loadState(dir, parquet);
    return new DeltaTable(dir, parquet, state, options);
  }

  static openOrCreate(dir: string, spec: TableSpec, options: TableOptions = {}): Promise<DeltaTable> {
    return DeltaTable.create(dir, spec, options);
  }

  private static async openIfExists(
    dir: string,
    parquet: ParquetPort,
    options: TableOptions,
  ): Promise<DeltaTable | undefined> {
    try {
      await listLog(dir);
    } catch (error) {
      if (error instanceof PlatformError && error.code === ErrorCodes.DELTA_NOT_A_TABLE) return undefined;
      throw error;
    }
    return new DeltaTable(dir, parquet, await loadState(dir, parquet), options);
  }

  /** Checks an existing table against the spec a caller created it with. */
  private async adopt(spec: TableSpec): Promise<DeltaTable> {
    const partitionColumns = spec.partitionColumns ?? [];
    const current = this.state.requireMetadata().partitionColumns;
    if (JSON.stringify(current) !== JSON.stringify(partitionColumns)) {
      throw schemaError(
        `${this.dir} is partitioned by ${JSON.stringify(current)}, not ${JSON.stringify(partitionColumns)}`,
      );
    }
    await this.evolveSchema(spec.schema);
    return this;
  }

  /** The parquet port this table reads and writes through (maintenance rewrites with it). */
  get parquetPort(): ParquetPort {
    return this.parquet;
  }

  /** The newest version this instance knows (refresh() or any write brings it up to date). */
  get version(): number {
    return this.state.version;
  }

  get schema(): readonly DeltaField[] {
    return this.state.schema;
  }

  get partitionColumns(): readonly string[] {
    return this.state.requireMetadata().partitionColumns;
  }

  /** The newest committed version of each application's transaction (after reading other writers' commits). */
  txnVersions(appIds: readonly string[]): Promise<Map<string, number | undefined>> {
    return this.serialized(async () => {
      await this.catchUp();
      return new Map(appIds.map((id) => [id, this.state.txnVersion(id)]));
    });
  }

  /** Reads the commits other writers made since this instance last looked. */
  refresh(): Promise<number> {
    return this.serialized(async () => {
      await this.catchUp();
      return this.state.version;
    });
  }

  /** Appends rows in one commit; with `txn`, a batch the table already holds is skipped. */
  append(rows: readonly Record<string, unknown>[], options: WriteOptions = {}): Promise<CommitResult> {
    return this.write(rows, options, undefined);
  }

  /**
   * Replaces the partitions the rows fall in (Spark's dynamic partition overwrite): the files of
   * those partitions are removed and the rows added, in one commit.
   */
  replacePartitions(
    rows: readonly Record<string, unknown>[],
    options: WriteOptions = {},
  ): Promise<CommitResult> {
    return this.write(rows, options, { kind: "dynamic" });
  }

  /**
   * Replaces the files matching `where` (partition column -> value; the whole table when absent)
   * with the rows, in one commit. Every row must fall inside `where` (Spark's replaceWhere).
   */
  overwrite(
    rows: readonly Record<string, unknown>[],
    where?: Record<string, unknown>,
    options: WriteOptions = {},
  ): Promise<CommitResult> {
    return this.write(rows, options, { kind: "static", where: where ?? {} });
  }

  /** Adds nullable columns (the only evolution Delta allows without rewriting). */
  evolveSchema(added: readonly DeltaField[]): Promise<CommitResult> {
    return this.serialized(async () => {
      await this.catchUp();
      const merged = mergeSchema(this.state.schema, added);
      if (merged === this.state.schema) return { version: this.state.version, skipped: true };
      return this.commit(
        { removes: new Set(), readPartitions: "none", changesMetadata: true, dataChange: false },
        () => [
          this.commitInfo(
            "ADD COLUMNS",
            { columns: JSON.stringify(merged.slice(this.state.schema.length)) },
            {},
          ),
          { metaData: { ...this.state.requireMetadata(), schemaString: toSchemaString(merged) } },
        ],
      );
    });
  }

  /** The table at its newest version, or at `at.version` / `at.timestamp` (time travel). */
  async snapshot(at?: TimeTravel): Promise<DeltaSnapshot> {
    if (at?.version === undefined && at?.timestamp === undefined) {
      const state = await this.serialized(async () => {
        await this.catchUp();
        return this.state.clone();
      });
      return snapshotOf(this.dir, state, await commitTimestamp(this.dir, state.version));
    }
    const version = at.version ?? (await versionAtTimestamp(this.dir, at.timestamp as Date | number));
    const state =
      version === this.state.version ? this.state.clone() : await loadState(this.dir, this.parquet, version);
    return snapshotOf(this.dir, state, await commitTimestamp(this.dir, version));
  }

  /**
   * The rows of the table (at a version or time), partition columns included, all in memory: for
   * jobs over a bounded slice and for tests. Queries over a large table should read the
   * snapshot's files with DuckDB instead (`snapshot().files`).
   */
  async readRows(at?: TimeTravel): Promise<Record<string, unknown>[]> {
    const snapshot = await this.snapshot(at);
    await Promise.all(
      snapshot.files.map(async (file) => {
        const exists = await stat(file.path).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === "ENOENT") return false;
            throw error;
          },
        );
        if (!exists) {
          throw new PlatformError(
            ErrorCodes.DELTA_FILE_MISSING,
            `version ${snapshot.version} needs ${file.relativePath}, which no longer exists (removed by VACUUM or by hand)`,
            { details: { version: snapshot.version, path: file.relativePath } },
          );
        }
      }),
    );
    return this.parquet.readFiles(
      snapshot.schema,
      snapshot.files.map((f) => ({ path: f.path, partitionValues: f.partitionValues })),
    );
  }

  /** The commits, newest first: what each did, when, and its metrics. */
  history(limit?: number): Promise<CommitSummary[]> {
    return readHistory(this.dir, limit);
  }

  /**
   * Commits a rewrite prepared outside the table's lock (OPTIMIZE): the files it removes and adds
   * change no data. Conflicts only with a writer that removed one of the same files.
   */
  commitRewrite(
    removes: readonly AddAction[],
    adds: readonly AddAction[],
    operation: string,
    parameters: Record<string, unknown>,
    metrics: Record<string, unknown>,
  ): Promise<CommitResult> {
    return this.serialized(async () => {
      await this.catchUp();
      const removed = new Set(removes.map((r) => decodePathKey(r.path)));
      // the rewrite read an older snapshot: a file another commit removed since is a delete/delete conflict
      for (const path of removed) {
        if (!this.state.files.has(path)) {
          throw new PlatformError(ErrorCodes.DELTA_COMMIT_CONFLICT, `file ${path} was removed concurrently`);
        }
      }
      return this.commit(
        { removes: removed, readPartitions: "none", changesMetadata: false, dataChange: false },
        () => [
          this.commitInfo(operation, parameters, metrics),
          ...removes.map((r): Action => ({ remove: toRemove(r, false) })),
          ...adds.map((a): Action => ({ add: a })),
        ],
      );
    });
  }

  /**
   * Commits a DELETE prepared outside the table's lock (`delete-rows.ts`): the files holding
   * matching rows are removed and their rewrites without those rows added, as data changes. It
   * conflicts with a writer that removed one of the same files (delete/delete, OPTIMIZE); blind
   * appends meanwhile do not conflict, as under Delta's default WriteSerializable isolation: the
   * rows they added were not looked at, which the caller covers by another pass.
   */
  commitDelete(
    removes: readonly AddAction[],
    adds: readonly AddAction[],
    predicate: string,
    metrics: Record<string, unknown>,
  ): Promise<CommitResult> {
    return this.serialized(async () => {
      await this.catchUp();
      checkWritable(this.state.protocol as NonNullable<TableState["protocol"]>);
      const removed = new Set(removes.map((r) => decodePathKey(r.path)));
      for (const path of removed) {
        if (!this.state.files.has(path)) {
          throw new PlatformError(ErrorCodes.DELTA_COMMIT_CONFLICT, `file ${path} was removed concurrently`);
        }
      }
      return this.commit(
        { removes: removed, readPartitions: "none", changesMetadata: false, dataChange: true },
        () => [
          this.commitInfo("DELETE", { predicate }, metrics),
          ...removes.map((r): Action => ({ remove: toRemove(r, true) })),
          ...adds.map((a): Action => ({ add: a })),
        ],
      );
    });
  }

  /** Records a commit with only provenance (VACUUM START / END in the history). */
  commitProvenance(
    operation: string,
    parameters: Record<string, unknown>,
    metrics: Record<string, unknown>,
  ): Promise<CommitResult> {
    return this.serialized(async () => {
      await this.catchUp();
      return this.commit(
        { removes: new Set(), readPartitions: "none", changesMetadata: false, dataChange: false },
        () => [this.commitInfo(operation, parameters, metrics)],
      );
    });
  }

  /** The retention of removed files, from `delta.deletedFileRetentionDuration` (default 1 week). */
  deletedFileRetentionMs(): number {
    return (
      parseInterval(this.state.requireMetadata().configuration?.["delta.deletedFileRetentionDuration"]) ??
      WEEK_MS
    );
  }

  /** The live tombstones of the newest version (for VACUUM). */
  async tombstones(): Promise<RemoveAction[]> {
    return this.serialized(async () => {
      await this.catchUp();
      return [...this.state.tombstones.values()];
    });
  }

  // ------------------------------------------------------------------ writing

  private write(
    rows: readonly Record<string, unknown>[],
    options: WriteOptions,
    replace: Replace | undefined,
  ): Promise<CommitResult> {
    return this.serialized(async () => {
      await this.catchUp();
      checkWritable(this.state.protocol as NonNullable<TableState["protocol"]>);
      if (replace && this.state.requireMetadata().configuration?.["delta.appendOnly"] === "true") {
        throw new PlatformError(
          ErrorCodes.DELTA_PROTOCOL_UNSUPPORTED,
          "the table is append-only (delta.appendOnly)",
        );
      }
      const txn = options.txn;
      const txns = [...(txn ? [txn] : []), ...(options.txns ?? [])];
      for (const t of txns) validateTxn(t);
      const held = txns.filter(
        (t) => (this.state.txnVersion(t.appId) ?? Number.NEGATIVE_INFINITY) >= t.version,
      );
      if (txns.length > 0 && held.length === txns.length) {
        return { version: this.state.version, skipped: true };
      }
      if (held.length > 0) {
        throw new PlatformError(
          ErrorCodes.DELTA_COMMIT_CONFLICT,
          `the table already holds transaction ${held[0]?.appId} at ${held[0]?.version}`,
        );
      }
      if (rows.length === 0 && !replace && txns.length === 0)
        return { version: this.state.version, skipped: true };
      const schema = schemaForRows(this.state.schema, rows, options.schemaMode ?? "strict");
      const partitionColumns = this.state.requireMetadata().partitionColumns;
      const groups = rows.length === 0 ? [] : groupByPartition(rows, schema, partitionColumns);
      const replaced = replace
        ? filesToReplace([...this.state.files.values()], replace, groups, schema, partitionColumns)
        : undefined;
      const adds =
        groups.length === 0
          ? []
          : await writeDataFiles(this.parquet, this.dir, schema, partitionColumns, groups);
      const schemaChanged = schema !== this.state.schema;
      const pending: PendingCommit = {
        txns,
        removes: new Set(replaced?.files.map((f) => decodePathKey(f.path)) ?? []),
        readPartitions: replaced?.partitions ?? "none",
        changesMetadata: schemaChanged,
        dataChange: true,
      };
      const metrics = {
        numFiles: adds.length,
        numOutputRows: rows.length,
        numOutputBytes: adds.reduce((sum, a) => sum + a.size, 0),
        numRemovedFiles: replaced?.files.length ?? 0,
      };
      return this.commit(pending, () => {
        const actions: Action[] = [
          this.commitInfo(
            "WRITE",
            {
              mode: replace ? "Overwrite" : "Append",
              partitionBy: JSON.stringify(partitionColumns),
              ...(replace?.kind === "static" ? { predicate: JSON.stringify(replace.where) } : {}),
            },
            metrics,
            options.commitInfo,
            !replace,
          ),
        ];
        if (schemaChanged)
          actions.push({
            metaData: { ...this.state.requireMetadata(), schemaString: toSchemaString(schema) },
          });
        for (const t of txns)
          actions.push({ txn: { appId: t.appId, version: t.version, lastUpdated: Date.now() } });
        for (const file of replaced?.files ?? []) actions.push({ remove: toRemove(file, true) });
        for (const add of adds) actions.push({ add });
        return actions;
      });
    });
  }

  private commitInfo(
    operation: string,
    parameters: Record<string, unknown>,
    metrics: Record<string, unknown>,
    extra?: Record<string, unknown>,
    isBlindAppend = false,
  ): Action {
    return {
      commitInfo: {
        ...extra,
        timestamp: Date.now(),
        operation,
        operationParameters: parameters,
        operationMetrics: metrics,
        readVersion: this.state.version,
        isBlindAppend,
        clientVersion: CLIENT,
      },
    };
  }

  /**
   * The optimistic commit loop: try version N+1; when another writer has it, read the winners,
   * keep going on top of them unless they conflict, and try again (bounded).
   */
  private async commit(pending: PendingCommit, build: () => Action[]): Promise<CommitResult> {
    const attempts = this.options.maxCommitAttempts ?? 50;
    const partitionColumns = this.state.requireMetadata().partitionColumns;
    const schemaAtStart = this.state.schema;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const version = this.state.version + 1;
      await this.options.beforeCommitAttempt?.(version);
      const actions = build();
      if (await writeCommit(this.dir, version, actions)) {
        this.state.apply(version, actions);
        await this.maybeCheckpoint();
        return { version, skipped: false };
      }
      for (let next = version; ; next++) {
        const winner = await readCommit(this.dir, next);
        if (!winner) break;
        const verdict = checkConflict(pending, winner, partitionColumns);
        this.state.apply(next, winner);
        if (verdict.kind === "already-committed") return { version: this.state.version, skipped: true };
        if (verdict.kind === "conflict") {
          throw new PlatformError(
            ErrorCodes.DELTA_COMMIT_CONFLICT,
            `commit lost to version ${next}: ${verdict.reason}`,
            {
              details: { version: next },
            },
          );
        }
      }
      checkWritable(this.state.protocol as NonNullable<TableState["protocol"]>);
      this.checkStillCompatible(partitionColumns, schemaAtStart);
    }
    throw new PlatformError(ErrorCodes.DELTA_COMMIT_CONFLICT, `no free version after ${attempts} attempts`);
  }

  /** Files written for the old layout must still fit after a winner changed the metadata. */
  private checkStillCompatible(partitionColumns: readonly string[], schema: readonly DeltaField[]): void {
    const now = this.state.requireMetadata().partitionColumns;
    const current = this.state.schema;
    if (current === schema && now === partitionColumns) return;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const incompatible =
      !same(now, partitionColumns) ||
      schema.some((field) => !current.some((f) => f.name === field.name && same(f.type, field.type)));
    if (incompatible) {
      throw new PlatformError(
        ErrorCodes.DELTA_COMMIT_CONFLICT,
        "the table's schema changed under this commit",
      );
    }
  }

  private async maybeCheckpoint(): Promise<void> {
    const configured = Number(this.state.requireMetadata().configuration?.["delta.checkpointInterval"]);
    const interval =
      Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_CHECKPOINT_INTERVAL;
    if (this.state.version === 0 || this.state.version % interval !== 0) return;
    try {
      await writeCheckpoint(this.dir, this.parquet, this.state, this.deletedFileRetentionMs());
      const configuration = this.state.requireMetadata().configuration ?? {};
      if (configuration["delta.enableExpiredLogCleanup"] !== "false") {
        const retention = parseInterval(configuration["delta.logRetentionDuration"]) ?? LOG_RETENTION_MS;
        await cleanupExpiredLog(this.dir, this.state.version, Date.now() - retention);
      }
    } catch (error) {
      // The commit is durable without its checkpoint (readers replay the JSON commits instead) and
      // without the cleanup (the next checkpoint tries again).
      this.options.onBackgroundError?.(error);
    }
  }

  /** Applies the commits other writers made after this instance's version. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const next = this.state.version + 1;
      const actions = await readCommit(this.dir, next);
      if (!actions) return;
      this.state.apply(next, actions);
    }
  }

  /** Runs `work` after every earlier call of this instance has finished. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
