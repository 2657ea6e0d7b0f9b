import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Delta's schema serialization (PROTOCOL.md "Schema Serialization Format") and what this
 * library maps it to: DuckDB column types for the parquet writer, the text form of partition
 * values, and the one evolution the lake allows (added nullable columns).
 */

export type DeltaPrimitiveType =
  | "string"
  | "long"
  | "integer"
  | "short"
  | "byte"
  | "float"
  | "double"
  | "boolean"
  | "binary"
  | "date"
  | "timestamp"
  | "timestamp_ntz"
  | `decimal(${number},${number})`;

export interface DeltaStructType {
  type: "struct";
  fields: DeltaField[];
}
export interface DeltaArrayType {
  type: "array";
  elementType: DeltaType;
  containsNull: boolean;
}
export interface DeltaMapType {
  type: "map";
  keyType: DeltaType;
  valueType: DeltaType;
  valueContainsNull: boolean;
}
export type DeltaType = DeltaPrimitiveType | DeltaStructType | DeltaArrayType | DeltaMapType;

export interface DeltaField {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata?: Record<string, unknown>;
}

const PRIMITIVE_DUCKDB: Record<string, string> = {
  string: "VARCHAR",
  long: "BIGINT",
  integer: "INTEGER",
  short: "SMALLINT",
  byte: "TINYINT",
  float: "FLOAT",
  double: "DOUBLE",
  boolean: "BOOLEAN",
  binary: "BLOB",
  date: "DATE",
  // Delta's `timestamp` is instant-based: parquet INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true),
  // which is what DuckDB writes for TIMESTAMPTZ and what delta-rs writes and expects.
  timestamp: "TIMESTAMPTZ",
  timestamp_ntz: "TIMESTAMP",
};

const DECIMAL = /^decimal\((\d+),\s*(\d+)\)$/;

export function schemaError(message: string, details?: Record<string, unknown>): PlatformError {
  return new PlatformError(ErrorCodes.DELTA_SCHEMA_MISMATCH, message, details ? { details } : {});
}

/** The DuckDB type of a Delta type (nested types too, for reading tables other writers made). */
export function duckdbType(type: DeltaType): string {
  if (typeof type === "string") {
    const primitive = PRIMITIVE_DUCKDB[type];
    if (primitive !== undefined) return primitive;
    const decimal = DECIMAL.exec(type);
    if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
    throw schemaError(`unsupported Delta type ${JSON.stringify(type)}`);
  }
  switch (type.type) {
    case "struct":
      return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(", ")})`;
    case "array":
      return `${duckdbType(type.elementType)}[]`;
    case "map":
      return `MAP(${duckdbType(type.keyType)}, ${duckdbType(type.valueType)})`;
  }
}

export function isPrimitive(type: DeltaType): type is DeltaPrimitiveType {
  return typeof type === "string";
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `{"type":"struct","fields":[...]}`: the text of `metaData.schemaString`. */
export function toSchemaString(fields: readonly DeltaField[]): string {
  return JSON.stringify({
    type: "struct",
    fields: fields.map((f) => ({
      name: f.name,
      type: f.type,
      nullable: f.nullable,
      metadata: f.metadata ?? {},
    })),
  });
}

export function parseSchemaString(text: string): DeltaField[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.DELTA_LOG_CORRUPT, "metaData.schemaString is not JSON", { cause });
  }
  const struct = parsed as { type?: unknown; fields?: unknown };
  if (struct?.type !== "struct" || !Array.isArray(struct.fields)) {
    throw new PlatformError(ErrorCodes.DELTA_LOG_CORRUPT, "metaData.schemaString is not a struct type");
  }
  return struct.fields.map((f) => {
    const field = f as DeltaField;
    if (typeof field?.name !== "string" || field.type === undefined) {
      throw new PlatformError(
        ErrorCodes.DELTA_LOG_CORRUPT,
        "metaData.schemaString has a field without name or type",
      );
    }
    return {
      name: field.name,
      type: field.type,
      nullable: field.nullable !== false,
      metadata: field.metadata ?? {},
    };
  });
}

/** Checks a schema a writer asks for: unique names, known types, partition columns primitive. */
export function validateSchema(fields: readonly DeltaField[], partitionColumns: readonly string[]): void {
  if (fields.length === 0) throw schemaError("a table needs at least one column");
  const seen = new Set<string>();
  for (const field of fields) {
    if (typeof field.name !== "string" || field.name.length === 0 || /[ ,;{}()\n\t=]/.test(field.name)) {
      throw schemaError(`invalid column name ${JSON.stringify(field.name)}`);
    }
    const key = field.name.toLowerCase();
    if (seen.has(key)) throw schemaError(`duplicate column ${field.name}`);
    seen.add(key);
    duckdbType(field.type);
  }
  for (const column of partitionColumns) {
    const field = fields.find((f) => f.name === column);
    if (field === undefined) throw schemaError(`partition column ${column} is not in the schema`);
    if (!isPrimitive(field.type) || field.type === "binary") {
      throw schemaError(
        `partition column ${column} must have a primitive type, not ${JSON.stringify(field.type)}`,
      );
    }
  }
  if (partitionColumns.length === fields.length)
    throw schemaError("a table needs a column that is not a partition column");
}

function sameType(a: DeltaType, b: DeltaType): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The schema after adding `wanted`'s new columns to `current`: the only evolution allowed is an
 * added nullable column (Delta's mergeSchema for appends). A column that changes type, or a new
 * one that is not nullable, is DELTA_SCHEMA_MISMATCH. Returns `current` itself when nothing is new.
 */
export function mergeSchema(current: readonly DeltaField[], wanted: readonly DeltaField[]): DeltaField[] {
  const added: DeltaField[] = [];
  for (const field of wanted) {
    const existing = current.find((f) => f.name.toLowerCase() === field.name.toLowerCase());
    if (existing) {
      if (!sameType(existing.type, field.type)) {
        throw schemaError(
          `column ${field.name} is ${JSON.stringify(existing.type)} in the table, not ${JSON.stringify(field.type)}`,
        );
      }
      continue;
    }
    if (!field.nullable) throw schemaError(`an added column must be nullable: ${field.name}`);
    added.push(field);
  }
  if (added.length === 0) return current as DeltaField[];
  const merged = [...current, ...added];
  validateSchema(merged, []);
  return merged;
}

/** The Delta type a new column gets from a value when an append merges the schema. */
export function inferType(value: unknown): DeltaPrimitiveType | undefined {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "bigint") return "long";
  if (typeof value === "number") return "double";
  if (value instanceof Date) return "timestamp";
  if (value instanceof Uint8Array) return "binary";
  return undefined;
}
