import { DuckDBInstance } from "@duckdb/node-api";
import type { DeltaTable } from "../../lake/delta/delta-table.ts";
import { quoteIdent } from "../../lake/delta/schema.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import { latestPerInstant, viewSourceSelect } from "../offline/view-source.ts";
import type { OnlineRow, OnlineStore } from "../online/online-store.ts";
import type { RegisteredView } from "../registry/registry-records.ts";

/**
 * Batch materialization from the gold tables into the online store (Feast's `materialize` and
 * `materialize-incremental`).
 *
 * - `materialize(view, from, to)`: the newest row per entity with its availability time in
 *   [from, to), written to the online store. The store keeps the newest per entity whatever the
 *   order of writes, so ranges can be run in any order, twice, or overlapping: idempotent.
 * - `materializeIncremental(view)`: the rows of the data files the table gained since the Delta
 *   version last materialized for this view version, then that version is kept as the view's
 *   watermark (in the online store, beside the values it describes). Like a sink's `txn`: a run
 *   that dies before the watermark moved is run again whole, which the last-writer-wins store
 *   absorbs (resumable), and a run with nothing new writes nothing. Late rows (an event time
 *   older than a previous run's) are found too, since the unit is the file, not the time.
 */
export interface MaterializeResult {
  readonly view: string;
  readonly version: number;
  /** rows written (the newest per entity) */
  readonly rows: number;
  /** the source table's Delta version read (lineage) */
  readonly tableVersion: number | null;
  /** the Delta version the incremental run started after (undefined: from the start) */
  readonly fromTableVersion?: number;
  /** the newest event time among the rows written (undefined when none) */
  readonly newestEventTime?: number;
  readonly elapsedMs: number;
}

const WRITE_CHUNK = 5000;

export function watermarkName(view: RegisteredView): string {
  return `materialize/${view.name}@${view.version}`;
}

export async function materialize(
  view: RegisteredView,
  snapshot: DeltaSnapshot | undefined,
  store: OnlineStore,
  range: { from: number; to: number; now?: number },
): Promise<MaterializeResult> {
  const started = performance.now();
  const now = range.now ?? Date.now();
  if (!Number.isSafeInteger(range.from) || !Number.isSafeInteger(range.to) || range.from < 0)
    throw new PlatformError(ErrorCodes.OUT_OF_RANGE, "from and to must be epoch milliseconds from 1970 on");
  if (range.from >= range.to)
    throw new PlatformError(
      ErrorCodes.OUT_OF_RANGE,
      `from ${new Date(range.from).toISOString()} is not before to ${new Date(range.to).toISOString()}`,
    );
  if (range.to > now + 86_400_000)
    throw new PlatformError(
      ErrorCodes.OUT_OF_RANGE,
      `to ${new Date(range.to).toISOString()} is in the future`,
    );
  const rows = await newestPerEntity(view, snapshot, range);
  await writeRows(view, store, rows, now);
  return {
    view: view.name,
    version: view.version,
    rows: rows.length,
    ...newest(rows),
    tableVersion: snapshot?.version ?? null,
    elapsedMs: performance.now() - started,
  };
}

export async function materializeIncremental(
  view: RegisteredView,
  table: DeltaTable | undefined,
  store: OnlineStore,
  now = Date.now(),
): Promise<MaterializeResult> {
  const started = performance.now();
  const name = watermarkName(view);
  const done = await store.watermark(name);
  if (!table)
    return {
      view: view.name,
      version: view.version,
      rows: 0,
      tableVersion: null,
      elapsedMs: performance.now() - started,
    };
  const snapshot = await table.snapshot();
  if (done !== undefined && done >= snapshot.version)
    return {
      ...{
        view: view.name,
        version: view.version,
        rows: 0,
        tableVersion: snapshot.version,
        fromTableVersion: done,
      },
      elapsedMs: performance.now() - started,
    };
  let files = snapshot.files;
  if (done !== undefined) {
    const before = new Set((await table.snapshot({ version: done })).files.map((f) => f.relativePath));
    files = files.filter((f) => !before.has(f.relativePath));
  }
  const rows = await newestPerEntity(view, { ...snapshot, files }, undefined);
  await writeRows(view, store, rows, now);
  await store.setWatermark(name, snapshot.version);
  return {
    ...{ view: view.name, version: view.version, rows: rows.length, tableVersion: snapshot.version },
    ...newest(rows),
    ...(done === undefined ? {} : { fromTableVersion: done }),
    elapsedMs: performance.now() - started,
  };
}

async function newestPerEntity(
  view: RegisteredView,
  snapshot: DeltaSnapshot | undefined,
  range: { from: number; to: number } | undefined,
): Promise<OnlineRow[]> {
  const definition = view.definition;
  const source = latestPerInstant(definition, viewSourceSelect(definition, snapshot));
  const where = range ? `WHERE __ts >= ${range.from * 1000} AND __ts < ${range.to * 1000}` : "";
  const features = definition.features.map((f) => quoteIdent(f.name));
  const sql = `SELECT __entity, __ts, __created, ${features.join(", ")} FROM (${source}) ${where}
    QUALIFY row_number() OVER (PARTITION BY __entity ORDER BY __ts DESC, __created DESC) = 1`;
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((r) => {
      const values: Record<string, string | number | boolean | null> = {};
      for (const f of definition.features) {
        const v = r[f.name];
        values[f.name] = typeof v === "bigint" ? Number(v) : (v as string | number | boolean | null);
      }
      return {
        entity: String(r.__entity),
        eventTime: Math.floor(Number(r.__ts) / 1000),
        createdTime: Math.floor(Number(r.__created) / 1000),
        values,
      };
    });
  } catch (error) {
    if (isPlatformError(error)) throw error;
    throw new PlatformError(
      ErrorCodes.LAKE_QUERY_INVALID,
      `materializing ${view.name} failed: ${String(error).slice(0, 300)}`,
      {
        cause: error,
      },
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function newest(rows: readonly OnlineRow[]): { newestEventTime?: number } {
  if (rows.length === 0) return {};
  let max = rows[0]!.eventTime;
  for (const row of rows) if (row.eventTime > max) max = row.eventTime;
  return { newestEventTime: max };
}

async function writeRows(
  view: RegisteredView,
  store: OnlineStore,
  rows: readonly OnlineRow[],
  now: number,
): Promise<void> {
  for (let i = 0; i < rows.length; i += WRITE_CHUNK)
    await store.write({ name: view.name, version: view.version }, rows.slice(i, i + WRITE_CHUNK), {
      ttlMs: view.definition.ttlMs,
      now,
    });
}
