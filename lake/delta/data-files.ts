import { join } from "node:path";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AddAction } from "./actions.ts";
import type { ParquetPort } from "./parquet.ts";
import { encodeDataPath, partitionDirectory, serializePartitionValue } from "./partition-values.ts";
import type { DeltaField } from "./schema.ts";

/**
 * Rows -> parquet data files -> add actions. Rows are grouped by their partition values; each
 * group becomes one file under its Hive-style directory, named as Spark and delta-rs name theirs
 * (`part-00000-<uuid>-c000.snappy.parquet`), with the partition columns left out of the file.
 */

export interface RowGroup {
  partitionValues: Record<string, string | null>;
  rows: Record<string, unknown>[];
}

export function groupByPartition(
  rows: readonly Record<string, unknown>[],
  schema: readonly DeltaField[],
  partitionColumns: readonly string[],
): RowGroup[] {
  if (partitionColumns.length === 0)
    return [{ partitionValues: {}, rows: rows as Record<string, unknown>[] }];
  const fields = partitionColumns.map((c) => schema.find((f) => f.name === c) as DeltaField);
  const serializers = fields.map(partitionSerializer);
  // one map level per partition column, keyed by the raw value: a micro-batch has a handful of
  // partitions, so the serialization (and its checks) runs once per distinct value, not per row
  const root = new Map<unknown, unknown>();
  const groups: RowGroup[] = [];
  const last = fields.length - 1;
  for (const row of rows) {
    let level = root;
    for (let i = 0; i < last; i++) {
      const value = mapKey(row[(fields[i] as DeltaField).name]);
      let next = level.get(value) as Map<unknown, unknown> | undefined;
      if (!next) {
        (serializers[i] as (v: unknown) => string | null)(row[(fields[i] as DeltaField).name]);
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = mapKey(row[(fields[last] as DeltaField).name]);
    let group = level.get(value) as RowGroup | undefined;
    if (!group) {
      group = { partitionValues: partitionValuesOf(row, fields, serializers), rows: [] };
      level.set(value, group);
      groups.push(group);
    }
    group.rows.push(row);
  }
  return mergeEqualGroups(groups);
}

/** Dates by their time, so one day's rows share a map entry however many Date objects carry it. */
function mapKey(value: unknown): unknown {
  return value instanceof Date ? value.getTime() : value;
}

function partitionSerializer(field: DeltaField): (value: unknown) => string | null {
  return (value) => {
    const text = serializePartitionValue(field, value);
    if (text === null && !field.nullable) {
      throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `partition column ${field.name} is not nullable`);
    }
    return text;
  };
}

function partitionValuesOf(
  row: Record<string, unknown>,
  fields: readonly DeltaField[],
  serializers: readonly ((v: unknown) => string | null)[],
): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  fields.forEach((field, i) => {
    values[field.name] = (serializers[i] as (v: unknown) => string | null)(row[field.name]);
  });
  return values;
}

/**
 * Distinct raw values can serialize to the same partition (a Date and its ISO day, 1 and 1n):
 * their rows belong in one file.
 */
function mergeEqualGroups(groups: RowGroup[]): RowGroup[] {
  if (groups.length < 2) return groups;
  const byKey = new Map<string, RowGroup>();
  for (const group of groups) {
    const key = JSON.stringify(group.partitionValues);
    const existing = byKey.get(key);
    if (existing) for (const row of group.rows) existing.rows.push(row);
    else byKey.set(key, group);
  }
  return [...byKey.values()];
}

export function dataFileName(): string {
  return `part-00000-${crypto.randomUUID()}-c000.snappy.parquet`;
}

/** Writes the groups' files and returns their add actions (dataChange as given). */
export async function writeDataFiles(
  parquet: ParquetPort,
  dir: string,
  schema: readonly DeltaField[],
  partitionColumns: readonly string[],
  groups: readonly RowGroup[],
  dataChange = true,
): Promise<AddAction[]> {
  const dataColumns = schema.filter((f) => !partitionColumns.includes(f.name));
  const relatives = groups.map((g) => {
    const directory = partitionDirectory(partitionColumns, g.partitionValues);
    return directory ? `${directory}/${dataFileName()}` : dataFileName();
  });
  const written = await parquet.writeFiles(
    dataColumns,
    groups.map((g, i) => ({ path: join(dir, relatives[i] as string), rows: g.rows })),
  );
  const now = Date.now();
  return groups.map((g, i) => {
    const file = written[i] as (typeof written)[number];
    return {
      path: encodeDataPath(relatives[i] as string),
      partitionValues: g.partitionValues,
      size: file.size,
      modificationTime: now,
      dataChange,
      stats: JSON.stringify(file.stats),
    };
  });
}
