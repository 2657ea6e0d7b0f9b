import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { ColumnType, ColumnValue, TableDefinition, TimeSeriesRow } from "./time-series-store.ts";

/**
 * A row's value for a column, checked against the column's type before any adapter writes it:
 * a value of the wrong type is SCHEMA_VIOLATION (the row's mapping is wrong, retrying cannot
 * help), a missing value is null, and the timestamp and dedup keys may not be missing.
 */
export function checkedValue(
  table: TableDefinition,
  row: TimeSeriesRow,
  column: string,
  type: ColumnType,
): ColumnValue {
  const value = row[column];
  const required = column === table.timestamp || table.dedupKeys.includes(column);
  if (value === undefined || value === null) {
    if (required) throw violation(table, column, "is part of the row's identity and may not be missing");
    return null;
  }
  switch (type) {
    case "symbol":
    case "varchar":
      if (typeof value !== "string") throw violation(table, column, "must be a string");
      return value;
    case "double":
      if (typeof value !== "number" || !Number.isFinite(value))
        throw violation(table, column, "must be a finite number");
      return value;
    case "long":
    case "timestamp":
      if (typeof value !== "number" || !Number.isSafeInteger(value))
        throw violation(table, column, "must be an integer");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw violation(table, column, "must be a boolean");
      return value;
  }
}

function violation(table: TableDefinition, column: string, what: string): PlatformError {
  return new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `${table.name}.${column} ${what}`);
}
