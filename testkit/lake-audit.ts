import { join } from "node:path";
import { tableDir } from "../lake/tables/catalogue.ts";
import type { LakeTable } from "../lake/tables/lake-table.ts";
import type { Log } from "../log/log.ts";
import { readWithDeltaRs } from "./delta-rs.ts";

/**
 * What a lake table should hold, computed from the log alone: every record of the table's
 * topics mapped with the table's own row mapping, one row per row id (or per log position for
 * tables without one). The node tests compare this with what delta-rs reads from the table.
 */
export async function expectedRows(
  log: Log,
  table: LakeTable,
  decode: (bytes: Uint8Array) => unknown,
): Promise<Map<string, Record<string, unknown>>> {
  const rows = new Map<string, Record<string, unknown>>();
  const toRows = table.toRows;
  if (!toRows) throw new Error(`${table.name} is built by a job, not from topics`);
  for (const topic of table.topics) {
    const partitions = (await log.partitions(topic)) ?? 0;
    for (let partition = 0; partition < partitions; partition++) {
      for (let offset = 0; ; ) {
        const batch = await log.read({ topic, partition }, { fromOffset: offset, maxRecords: 5000 });
        if (batch.length === 0) break;
        for (const record of batch) {
          if (record.value === null) continue;
          const value = table.decode === "raw" ? record.value : decode(record.value);
          for (const row of toRows(value, record)) {
            const id = table.rowId ? String(row[table.rowId]) : `${topic}/${partition}@${record.offset}`;
            // the first one wins, as in the table: a repeat upstream carries the same id
            if (!rows.has(id)) rows.set(id, row);
          }
        }
        offset = (batch.at(-1)?.offset ?? offset) + 1;
      }
    }
  }
  return rows;
}

/** the rows delta-rs reads from a lake table, by row id (or by source position) */
export async function deltaRsRows(
  lakeDir: string,
  table: LakeTable,
): Promise<{
  rows: Record<string, unknown>[];
  byId: Map<string, Record<string, unknown>>;
  schema: string[];
}> {
  const read = await readWithDeltaRs(tableDir(lakeDir, table));
  const byId = new Map<string, Record<string, unknown>>();
  for (const row of read.rows) byId.set(rowKey(table, row), row);
  return { rows: read.rows, byId, schema: read.schema.map((f) => f.name) };
}

function rowKey(table: LakeTable, row: Record<string, unknown>): string {
  if (table.rowId) return String(row[table.rowId]);
  return `${table.topics[0]}/${row.source_partition}@${row.source_offset}`;
}

/** a row as the sink gave it, in delta-rs' plain form: instants as epoch ms, the rest as is */
export function plainRow(table: LakeTable, row: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const field of table.schema) plain[field.name] = row[field.name] ?? null;
  return plain;
}

export function lakeDirOf(dataDir: string): string {
  return join(dataDir, "lake");
}
