import type { DeltaField } from "../delta/schema.ts";
import { duckdbType, quoteIdent } from "../delta/schema.ts";
import type { DeltaSnapshot } from "../delta/table-state.ts";

/**
 * A Delta snapshot as one DuckDB SELECT (DuckDB's own delta extension cannot be installed here,
 * and would read the newest version only through this API anyway): the snapshot's live files,
 * grouped by their partition values, each group read with `read_parquet` and given its
 * partition columns as typed constants, the groups joined with UNION ALL. Constants instead of a
 * join on the file name keep DuckDB's filter pushdown and cost nothing per row, and a filter on
 * a partition column prunes whole groups at planning time.
 *
 * Delta `timestamp` columns (instants, stored as UTC microseconds) read as DuckDB TIMESTAMP in
 * UTC, not TIMESTAMPTZ: the lake's times are all UTC, and DuckDB computes date_trunc, hour() and
 * friends on TIMESTAMPTZ through ICU's calendar, which cost ~6x the CPU of the whole hourly
 * aggregate over 10M rows here (2.4 s against 0.4 s). The price: a filter on such a column is
 * not pushed into the parquet scan, so range queries should also filter the `date` partition.
 *
 * A column a group's files do not hold (added to the table after they were written) reads as
 * NULL; a file's columns are known from its statistics' null counts, which every writer of the
 * lake records per column.
 */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function snapshotSelect(snapshot: DeltaSnapshot): string {
  const schema = snapshot.schema;
  const partitionColumns = snapshot.partitionColumns;
  const groups = new Map<
    string,
    { values: Readonly<Record<string, string | null>>; files: (typeof snapshot.files)[number][] }
  >();
  for (const file of snapshot.files) {
    const key = JSON.stringify(partitionColumns.map((c) => file.partitionValues[c] ?? null));
    let group = groups.get(key);
    if (!group) {
      group = { values: file.partitionValues, files: [] };
      groups.set(key, group);
    }
    group.files.push(file);
  }
  if (groups.size === 0) {
    const nulls = schema.map((f) => `CAST(NULL AS ${viewType(f)}) AS ${quoteIdent(f.name)}`);
    return `SELECT ${nulls.join(", ")} WHERE false`;
  }
  const selects: string[] = [];
  for (const group of groups.values()) {
    const present = presentColumns(group.files, schema, partitionColumns);
    const columns = schema.map((field) => {
      const type = viewType(field);
      const name = quoteIdent(field.name);
      if (partitionColumns.includes(field.name)) {
        const value = group.values[field.name] ?? null;
        return `CAST(${value === null ? "NULL" : sqlString(value)} AS ${type}) AS ${name}`;
      }
      if (!present.has(field.name)) return `CAST(NULL AS ${type}) AS ${name}`;
      return field.type === "timestamp" ? `make_timestamp(epoch_us(${name})) AS ${name}` : name;
    });
    const paths = group.files.map((f) => sqlString(f.path)).join(", ");
    selects.push(`SELECT ${columns.join(", ")} FROM read_parquet([${paths}], union_by_name = true)`);
  }
  return selects.join("\nUNION ALL\n");
}

/** the column's type in the view: Delta's own, but instants as UTC TIMESTAMP (see above) */
function viewType(field: DeltaField): string {
  return field.type === "timestamp" ? "TIMESTAMP" : duckdbType(field.type);
}

function presentColumns(
  files: readonly DeltaSnapshot["files"][number][],
  schema: readonly DeltaField[],
  partitionColumns: readonly string[],
): Set<string> {
  const all = schema.filter((f) => !partitionColumns.includes(f.name)).map((f) => f.name);
  const present = new Set<string>();
  for (const file of files) {
    const nullCount = file.stats?.nullCount;
    // without statistics nothing says a column is missing: read it (DuckDB fills it by name)
    if (!nullCount || typeof nullCount !== "object") return new Set(all);
    for (const name of all) if (name in nullCount) present.add(name);
  }
  return present;
}
