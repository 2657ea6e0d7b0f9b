import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AddAction, RemoveAction } from "./actions.ts";
import { partitionKey } from "./conflicts.ts";
import type { RowGroup } from "./data-files.ts";
import { serializePartitionValue } from "./partition-values.ts";
import { type DeltaField, inferType, mergeSchema, schemaError } from "./schema.ts";

/**
 * What a write works out before it writes any file: the schema the rows need (strict, or merged
 * with their new nullable columns), the files an overwrite replaces, and the actions' small
 * building blocks.
 */

/** Spark's dynamic partition overwrite, or a static one of the partitions matching `where`. */
export type Replace = { kind: "dynamic" } | { kind: "static"; where: Record<string, unknown> };

/** The table's schema, or a merged one when the rows carry new columns and merging is allowed. */
export function schemaForRows(
  schema: DeltaField[],
  rows: readonly Record<string, unknown>[],
  mode: "strict" | "merge",
): DeltaField[] {
  const known = new Set(schema.map((f) => f.name));
  const countKnown = knownCounter(schema);
  const added = new Map<string, DeltaField>();
  for (const row of rows) {
    // a row with as many own keys as it has defined values of known columns has no unknown key
    if (Object.keys(row).length === countKnown(row)) continue;
    for (const key of Object.keys(row)) {
      if (known.has(key) || added.has(key)) continue;
      const value = row[key];
      // a null says nothing about a new column's type: a later row may
      if (value === undefined || value === null) continue;
      const type = inferType(value);
      if (mode !== "merge" || type === undefined) {
        throw new PlatformError(
          mode === "merge" ? ErrorCodes.SCHEMA_VIOLATION : ErrorCodes.DELTA_SCHEMA_MISMATCH,
          mode === "merge"
            ? `column ${key}: no Delta type for a ${typeof value}`
            : `column ${key} is not in the table's schema (append with schemaMode "merge" to add it)`,
        );
      }
      added.set(key, { name: key, type, nullable: true, metadata: {} });
    }
  }
  return added.size === 0 ? schema : mergeSchema(schema, [...added.values()]);
}

const counters = new WeakMap<readonly DeltaField[], (row: Record<string, unknown>) => number>();

/**
 * A function counting a row's defined values of the schema's columns, compiled once per schema:
 * with the names as constants each property read is a cached one, where a loop over the names
 * reads a different key at the same place every time (several times slower per row). The names
 * enter the code only as JSON string literals.
 */
function knownCounter(schema: readonly DeltaField[]): (row: Record<string, unknown>) => number {
  let counter = counters.get(schema);
  if (!counter) {
    const terms = schema.map((f) => `(row[${JSON.stringify(f.name)}] !== undefined ? 1 : 0)`);
    counter = new Function("row", `return ${terms.join(" + ") || "0"};`) as (
      row: Record<string, unknown>,
    ) => number;
    counters.set(schema, counter);
  }
  return counter;
}

/** The live files an overwrite removes, and the partitions it reads to replace. */
export function filesToReplace(
  all: AddAction[],
  replace: Replace,
  groups: readonly RowGroup[],
  schema: readonly DeltaField[],
  partitionColumns: readonly string[],
): { files: AddAction[]; partitions: "all" | Set<string> } {
  if (replace.kind === "dynamic") {
    const partitions = new Set(groups.map((g) => partitionKey(partitionColumns, g.partitionValues)));
    if (partitionColumns.length === 0) return { files: all, partitions: "all" };
    return {
      files: all.filter((f) => partitions.has(partitionKey(partitionColumns, f.partitionValues))),
      partitions,
    };
  }
  const where: Record<string, string | null> = {};
  for (const [column, value] of Object.entries(replace.where)) {
    const field = schema.find((f) => f.name === column);
    if (!field || !partitionColumns.includes(column)) {
      throw schemaError(`overwrite: ${column} is not a partition column`);
    }
    where[column] = serializePartitionValue(field, value);
  }
  const matches = (values: Readonly<Record<string, string | null>>) =>
    Object.entries(where).every(([c, v]) => (values[c] ?? null) === v);
  for (const group of groups) {
    if (!matches(group.partitionValues)) {
      throw new PlatformError(
        ErrorCodes.SCHEMA_VIOLATION,
        "overwrite: a row falls outside the partitions it replaces",
      );
    }
  }
  // a static overwrite reads every partition its predicate covers, possibly ones with no file yet
  return { files: all.filter((f) => matches(f.partitionValues)), partitions: "all" };
}

export function toRemove(add: AddAction, dataChange: boolean): RemoveAction {
  return {
    path: add.path,
    deletionTimestamp: Date.now(),
    dataChange,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
  };
}

export function decodePathKey(path: string): string {
  return path.split("/").map(decodeURIComponent).join("/");
}

export function validateTxn(txn: { appId: string; version: number }): void {
  if (typeof txn.appId !== "string" || txn.appId.length === 0 || !Number.isSafeInteger(txn.version)) {
    throw new PlatformError(ErrorCodes.BAD_REQUEST, "txn needs a non-empty appId and an integer version");
  }
}

/** `interval 7 days` (Delta's table property syntax) in ms, or undefined. */
export function parseInterval(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const match = /^\s*interval\s+(\d+)\s+(millisecond|second|minute|hour|day|week)s?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = { millisecond: 1, second: 1e3, minute: 6e4, hour: 3.6e6, day: 8.64e7, week: 6.048e8 }[
    (match[2] as string).toLowerCase() as "day"
  ];
  return Number(match[1]) * unit;
}
