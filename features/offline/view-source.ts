import { quoteIdent } from "../../lake/delta/schema.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import { snapshotSelect, sqlString } from "../../lake/query/snapshot-view.ts";
import { columnOf, type FeatureType, type FeatureViewDefinition } from "../views/feature-view.ts";

/**
 * A view's rows as one DuckDB SELECT over its source table's snapshot, in the shape every reader
 * of the offline store uses (point-in-time join, batch materialization, statistics):
 *
 *   __entity   VARCHAR  the entity's key
 *   __ts       BIGINT   when the row's values became known, epoch µs (timestamp + availableAfterMs)
 *   __created  BIGINT   its created time, epoch µs (0 without a created column)
 *   <feature>  typed    one column per feature, cast to the feature's type
 *
 * Rows whose entity or timestamp is null are left out: they can never be joined.
 */
export const DUCKDB_TYPE: Record<FeatureType, string> = {
  double: "DOUBLE",
  long: "BIGINT",
  string: "VARCHAR",
  boolean: "BOOLEAN",
};

export function viewSourceSelect(view: FeatureViewDefinition, snapshot: DeltaSnapshot | undefined): string {
  const { source } = view;
  const features = view.features.map(
    (f) => `CAST(${quoteIdent(columnOf(f))} AS ${DUCKDB_TYPE[f.type]}) AS ${quoteIdent(f.name)}`,
  );
  if (!snapshot) {
    const nulls = view.features.map((f) => `CAST(NULL AS ${DUCKDB_TYPE[f.type]}) AS ${quoteIdent(f.name)}`);
    return `SELECT CAST(NULL AS VARCHAR) AS __entity, CAST(NULL AS BIGINT) AS __ts, CAST(NULL AS BIGINT) AS __created, ${nulls.join(", ")} WHERE false`;
  }
  const ts = `epoch_us(CAST(${quoteIdent(source.timestampColumn)} AS TIMESTAMPTZ)) + ${source.availableAfterMs * 1000}`;
  const created = source.createdColumn
    ? `COALESCE(epoch_us(CAST(${quoteIdent(source.createdColumn)} AS TIMESTAMPTZ)), 0)`
    : "CAST(0 AS BIGINT)";
  const filters = [
    `${quoteIdent(source.entityColumn)} IS NOT NULL`,
    `${quoteIdent(source.timestampColumn)} IS NOT NULL`,
    ...Object.entries(source.where).map(([column, value]) => `${quoteIdent(column)} = ${sqlLiteral(value)}`),
  ];
  return `SELECT CAST(${quoteIdent(source.entityColumn)} AS VARCHAR) AS __entity, ${ts} AS __ts, ${created} AS __created, ${features.join(", ")}
FROM (${snapshotSelect(snapshot)}) WHERE ${filters.join(" AND ")}`;
}

/**
 * The view's rows with ties on (entity, time) broken by created time, the newest created kept, as
 * Feast does: the point-in-time join must not pick an arbitrary one of two rows stamped alike.
 * Without a created column every row has created 0 and the tie is broken by nothing: the view
 * says its rows do not tie.
 */
export function latestPerInstant(view: FeatureViewDefinition, sourceSql: string): string {
  if (!view.source.createdColumn) return sourceSql;
  const columns = view.features.map((f) => quoteIdent(f.name));
  // one struct per row: arg_max skips a NULL argument, and a NULL feature of the newest row must
  // stay NULL rather than be filled from an older row (a struct of NULLs is not NULL)
  const packed = `struct_pack(${columns.map((c) => `${c} := ${c}`).join(", ")})`;
  return `SELECT __entity, __ts, __created_max AS __created, ${columns.map((c) => `__row.${c} AS ${c}`).join(", ")}
FROM (SELECT __entity, __ts, max(__created) AS __created_max, arg_max(${packed}, __created) AS __row
      FROM (${sourceSql}) GROUP BY __entity, __ts)`;
}

function sqlLiteral(value: string | number | boolean): string {
  if (typeof value === "string") return sqlString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return Number.isFinite(value) ? String(value) : "NULL";
}
