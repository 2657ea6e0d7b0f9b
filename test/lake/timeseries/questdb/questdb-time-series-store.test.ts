import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { QuestDbTimeSeriesStore } from "../../../../lake/timeseries/questdb/questdb-time-series-store.ts";
import type { TableDefinition } from "../../../../lake/timeseries/time-series-store.ts";
import { questdbHttpUrl, requireQuestDb } from "../../../../testkit/questdb-server.ts";
import { timeSeriesStoreContract } from "../time-series-store.contract.ts";

await requireQuestDb();

timeSeriesStoreContract("QuestDB (real server)", {
  open: async () => new QuestDbTimeSeriesStore({ httpUrl: questdbHttpUrl }),
  settle: (store, table) => (store as QuestDbTimeSeriesStore).awaitApplied(table),
});

describe("QuestDB rows deleted by rewriting their day", () => {
  test("a rewrite that stopped after dropping the day is finished when the table is ensured again: no row lost", async () => {
    const table: TableDefinition = {
      name: `ts_erase_crash_${Date.now().toString(36)}`,
      timestamp: "ts",
      columns: [
        { name: "sensor_id", type: "symbol" },
        { name: "value", type: "double" },
      ],
      dedupKeys: ["sensor_id"],
    };
    const T0 = Date.UTC(2026, 2, 3);
    const first = new QuestDbTimeSeriesStore({ httpUrl: questdbHttpUrl });
    await first.ensureTable(table);
    await first.write(table, [
      { ts: T0 + 1, sensor_id: "gone", value: 1 },
      { ts: T0 + 2, sensor_id: "kept", value: 2 },
    ]);
    await first.awaitApplied(table.name);
    // what deleteRows does up to its insert, then the process "dies": the day is only in the stage
    const sql = new SQL({
      url: `postgres://admin:quest@${new URL(questdbHttpUrl).hostname}:8812/qdb`,
      max: 1,
    });
    const stage = `${table.name}_erase_0123abcd`;
    try {
      await sql.unsafe(
        `CREATE TABLE ${stage} AS (SELECT * FROM ${table.name} WHERE sensor_id != 'gone') TIMESTAMP(ts) PARTITION BY DAY BYPASS WAL`,
      );
      await sql.unsafe(`ALTER TABLE ${table.name} DROP PARTITION LIST '2026-03-03'`);
    } finally {
      await sql.close();
    }
    await first.close();

    const restarted = new QuestDbTimeSeriesStore({ httpUrl: questdbHttpUrl });
    try {
      await restarted.ensureTable(table);
      await restarted.awaitApplied(table.name);
      const rows = await restarted.query({ table: table.name, limit: 10 });
      expect(rows.rows).toEqual([[T0 + 2, "kept", 2]]);
      // the stage is gone, and a delete afterwards works as usual
      expect(await restarted.deleteRows(table.name, { sensor_id: "kept" })).toBe(1);
    } finally {
      await restarted.dropTable(table.name);
      await restarted.close();
    }
  });
});
