import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeltaTable } from "../../lake/delta/delta-table.ts";
import { LAKE_TABLES } from "../../lake/tables/catalogue.ts";
import { openEmbeddedLog } from "../../log/embedded/index.ts";
import { lakeTableSink } from "../../sinks/lake-table-sink.ts";

/**
 * Every writer of a lake table is built by one function, so a node's sink and a catch-up beside
 * it share the consumer group (and the txns): a record lands once whichever writes it.
 */
const dir = mkdtempSync(join(tmpdir(), "lake-table-sink-"));
const log = openEmbeddedLog({ path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
afterAll(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});
const options = {
  log,
  applicationId: "app",
  decode: (bytes: Uint8Array) => bytes,
  onDeadLetter: () => {},
  onError: () => {},
};

test("each table fed from the log has its sink on the group <app>-sink-lake-<table>", () => {
  const fed = LAKE_TABLES.filter((t) => t.topics.length > 0 && t.toRows);
  expect(fed.length).toBeGreaterThan(0);
  for (const table of fed) {
    const { sink } = lakeTableSink(table, {} as DeltaTable, options);
    expect(sink.groupId).toBe(`app-sink-lake-${table.name}`);
  }
});

test("a table not fed from the log has no sink", () => {
  const gold = LAKE_TABLES.find((t) => t.topics.length === 0);
  expect(gold).toBeDefined();
  expect(() => lakeTableSink(gold!, {} as DeltaTable, options)).toThrow(RangeError);
});
