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
  const groups = new Map<string, RowGroup>();
  for (const row of rows) {
    let key = "";
    const values: Record<string, string | null> = {};
    for (const field of fields) {
      const value = serializePartitionValue(field, row[field.name]);
      if (value === null && !field.nullable) {
        throw new PlatformError(
          ErrorCodes.SCHEMA_VIOLATION,
          `partition column ${field.name} is not nullable`,
        );
      }
      values[field.name] = value;
      key += `${value === null ? "\u0001" : value}\u0000`;
    }
    let group = groups.get(key);
    if (!group) {
      group = { partitionValues: values, rows: [] };
      groups.set(key, group);
    }
    group.rows.push(row);
  }
  return [...groups.values()];
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
