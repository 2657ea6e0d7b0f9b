import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DeltaTable, type TimeTravel } from "../../lake/delta/delta-table.ts";
import type { DeltaField } from "../../lake/delta/schema.ts";
import type { DeltaSnapshot } from "../../lake/delta/table-state.ts";
import { LAKE_TABLES, tableDir } from "../../lake/tables/catalogue.ts";
import type { LakeTable } from "../../lake/tables/lake-table.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { SourceCatalog } from "../registry/feature-registry.ts";

/**
 * The lake's tables as the feature store sees them: the offline store (snapshots to join), and
 * the registry's source catalog (a table's schema and version). A table that has not been
 * written yet has the catalogue's schema and no version, so the node's views register on a fresh
 * lake and their lineage says "not written yet".
 */
export class LakeSources implements SourceCatalog {
  private readonly opened = new Map<string, DeltaTable>();
  private readonly root: string;

  constructor(
    lakeDir: string,
    private readonly tables: readonly LakeTable[] = LAKE_TABLES,
  ) {
    this.root = resolve(lakeDir);
  }

  definition(name: string): LakeTable | undefined {
    return this.tables.find((t) => t.name === name);
  }

  /** the Delta table when it exists on disk */
  async table(name: string): Promise<DeltaTable | undefined> {
    const cached = this.opened.get(name);
    if (cached) return cached;
    const definition = this.definition(name);
    if (!definition) return undefined;
    const dir = tableDir(this.root, definition);
    const exists = await stat(join(dir, "_delta_log")).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return false;
        throw error;
      },
    );
    if (!exists) return undefined;
    const table = await DeltaTable.open(dir);
    this.opened.set(name, table);
    return table;
  }

  /** the table's snapshot (newest, or time travel); LAKE_TABLE_UNKNOWN for a name the lake lacks */
  async snapshot(name: string, at?: TimeTravel): Promise<DeltaSnapshot | undefined> {
    if (!this.definition(name))
      throw new PlatformError(ErrorCodes.LAKE_TABLE_UNKNOWN, `the lake has no table '${name.slice(0, 64)}'`);
    const table = await this.table(name);
    return table?.snapshot(at);
  }

  async schema(name: string): Promise<readonly DeltaField[] | undefined> {
    const definition = this.definition(name);
    if (!definition) return undefined;
    const table = await this.table(name);
    return table ? (await table.snapshot()).schema : definition.schema;
  }

  async version(name: string): Promise<number | undefined> {
    const table = await this.table(name);
    return table ? (await table.snapshot()).version : undefined;
  }
}
