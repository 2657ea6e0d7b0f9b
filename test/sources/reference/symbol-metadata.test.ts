import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapTable } from "../../../engine/reference-table-feed.ts";
import { openLog } from "../../../log/index.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { SymbolMetadataRecord, symbolMetadataKind } from "../../../messages/reference-data.ts";
import { Topics } from "../../../messages/topics.ts";
import {
  publishSymbolMetadata,
  symbolMetadataRows,
  updateSymbol,
} from "../../../sources/reference/symbol-metadata.ts";
import { ReferenceTable } from "../../../stream/enrichment/reference-table.ts";

test("the built-in table holds twenty distinct valid US symbols", () => {
  const rows = symbolMetadataRows(Date.UTC(2024, 0, 2));
  expect(rows.length).toBe(20);
  expect(new Set(rows.map((r) => r.symbol)).size).toBe(20);
  for (const row of rows) {
    expect(SymbolMetadataRecord.safeParse(row).success).toBe(true);
    expect(row.currency).toBe("USD");
  }
});

test("symbol metadata is published to its compacted topic, updates flow, bad rows are refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "symbol-metadata-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
  try {
    const rows = await publishSymbolMetadata(log, { updatedAt: Date.UTC(2024, 0, 2) });
    const aapl = rows.find((r) => r.symbol === "AAPL")!;
    await updateSymbol(log, {
      ...aapl,
      industry: "Consumer Electronics",
      updated_at: "2024-01-03T00:00:00Z",
    });
    await expect(updateSymbol(log, { ...aapl, currency: "usd" })).rejects.toThrow(
      ErrorCodes.SCHEMA_VIOLATION,
    );
    const table = new ReferenceTable({ kind: symbolMetadataKind });
    await bootstrapTable(table, log, Topics.symbolMetadata);
    expect(table.size).toBe(20);
    expect(table.get("AAPL")?.industry).toBe("Consumer Electronics");
    expect(table.get("KO")?.sector).toBe("Consumer Staples");
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
