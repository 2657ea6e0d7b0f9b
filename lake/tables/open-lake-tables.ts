import { resolve } from "node:path";
import { DeltaTable, type TableOptions } from "../delta/delta-table.ts";
import { LAKE_TABLES, tableDir } from "./catalogue.ts";
import type { LakeTable } from "./lake-table.ts";

/** The catalogue's tables opened (created when absent) under an absolute lake folder, by name. */
export async function openLakeTables(
  lakeDir: string,
  options: TableOptions = {},
  tables: readonly LakeTable[] = LAKE_TABLES,
): Promise<Map<string, DeltaTable>> {
  const root = resolve(lakeDir);
  const opened = new Map<string, DeltaTable>();
  for (const table of tables) {
    const delta = await DeltaTable.openOrCreate(
      tableDir(root, table),
      {
        name: table.name,
        description: table.description,
        schema: table.schema.map((f) => ({ ...f })),
        partitionColumns: [...table.partitionColumns],
        // sink tables are written by many small commits: a checkpoint every 50 keeps reads cheap
        // without writing one every few seconds
        configuration: { "delta.checkpointInterval": "50" },
      },
      options,
    );
    opened.set(table.name, delta);
  }
  return opened;
}
