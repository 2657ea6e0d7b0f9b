import { BRONZE_TABLES } from "./bronze.ts";
import { GOLD_TABLES } from "./gold.ts";
import type { LakeTable } from "./lake-table.ts";
import { MARKET_TABLES } from "./market.ts";
import { NEWS_TABLES } from "./news.ts";
import { SILVER_TABLES } from "./silver.ts";

/**
 * Every table of the lake, bronze to gold, the optional rooms' (market, news) included; a room's
 * tables are written while the room runs. A table's folder is `<lake dir>/<layer>/<name>`.
 */
export const LAKE_TABLES: readonly LakeTable[] = [
  ...BRONZE_TABLES,
  ...SILVER_TABLES,
  ...GOLD_TABLES,
  ...MARKET_TABLES,
  ...NEWS_TABLES,
];

export function lakeTable(name: string): LakeTable | undefined {
  return LAKE_TABLES.find((t) => t.name === name);
}

export function tableDir(lakeDir: string, table: LakeTable): string {
  return `${lakeDir}/${table.layer}/${table.name}`;
}
