import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteTimeSeriesStore } from "../../lake/timeseries/embedded/sqlite-time-series-store.ts";
import { QuestDbTimeSeriesStore } from "../../lake/timeseries/questdb/questdb-time-series-store.ts";
import type { TableDefinition, TimeSeriesStore } from "../../lake/timeseries/time-series-store.ts";
import type { ErasureRequest } from "../../security/entity-eraser.ts";
import {
  createTimeSeriesEntityEraser,
  type TimeSeriesErasureTarget,
} from "../../security/time-series-entity-eraser.ts";
import { questdbHttpUrl, requireQuestDb } from "../../testkit/questdb-server.ts";

/**
 * The time-series eraser against both adapters of the port (one suite, as the store's contract):
 * a sensor's readings and its own windows go, other sensors' rows and the per-type windows stay.
 */
interface Harness {
  open(): Promise<TimeSeriesStore>;
  settle(store: TimeSeriesStore, table: string): Promise<void>;
}

const T0 = Date.UTC(2026, 2, 3);
const DAY = 86_400_000;
let seq = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${seq++}`;

const request = (id: string): ErasureRequest => ({
  requestId: `r-${id}`,
  entity: { kind: "sensor", id },
  requestedBy: "dpo@example",
  requestedAt: T0,
});

function eraserSuite(name: string, harness: Harness): void {
  describe(`time-series eraser: ${name}`, () => {
    const readings: TableDefinition = {
      name: unique("er_readings"),
      timestamp: "ts",
      columns: [
        { name: "sensor_id", type: "symbol" },
        { name: "value", type: "double" },
      ],
      dedupKeys: ["sensor_id"],
    };
    const windows: TableDefinition = {
      name: unique("er_windows"),
      timestamp: "ts",
      columns: [
        { name: "scope", type: "symbol" },
        { name: "key", type: "symbol" },
        { name: "count", type: "long" },
      ],
      dedupKeys: ["scope", "key"],
    };
    const targets: TimeSeriesErasureTarget[] = [
      { table: readings.name, kind: "sensor", equals: (e) => ({ sensor_id: e.id }) },
      { table: windows.name, kind: "sensor", equals: (e) => ({ scope: "sensor", key: e.id }) },
      { table: unique("never_opened"), kind: "sensor", equals: (e) => ({ sensor_id: e.id }) },
    ];
    let store: TimeSeriesStore;
    beforeAll(async () => {
      store = await harness.open();
    });
    afterAll(async () => {
      for (const t of [readings, windows]) await store.dropTable(t.name);
      await store.close();
    });

    test("deletes the sensor's rows in every table, keeps every other row, and says what it did", async () => {
      await store.ensureTable(readings);
      await store.ensureTable(windows);
      await store.write(
        readings,
        [0, 1].flatMap((d) => [
          { ts: T0 + d * DAY, sensor_id: "traffic_7", value: 1 },
          { ts: T0 + d * DAY + 1, sensor_id: "traffic_8", value: 2 },
        ]),
      );
      await store.write(windows, [
        { ts: T0, scope: "sensor", key: "traffic_7", count: 3 },
        // the per-type window is keyed by its type, never by a sensor
        { ts: T0, scope: "type", key: "traffic", count: 9 },
        { ts: T0, scope: "sensor", key: "traffic_8", count: 4 },
      ]);
      for (const t of [readings, windows]) await harness.settle(store, t.name);

      const eraser = createTimeSeriesEntityEraser(store, targets);
      const outcomes = await eraser.erase(request("traffic_7"));
      expect(outcomes.map((o) => [o.status, o.items])).toEqual([
        ["erased", 2],
        ["erased", 1],
        ["not-found", 0],
      ]);
      expect(outcomes.every((o) => o.store === `timeseries:${store.kind}`)).toBe(true);
      for (const t of [readings, windows]) await harness.settle(store, t.name);
      const left = await store.query({ table: readings.name, limit: 100 });
      expect(left.rows.map((r) => r[1])).toEqual(["traffic_8", "traffic_8"]);
      const windowsLeft = await store.query({ table: windows.name, limit: 100 });
      expect(windowsLeft.rows.map((r) => r[2]).sort()).toEqual(["traffic", "traffic_8"]);

      // run again (a partial request retried): nothing left, every table says so
      const again = await eraser.erase(request("traffic_7"));
      expect(again.map((o) => o.status)).toEqual(["not-found", "not-found", "not-found"]);
    });

    test("a user has no rows here: the store says it does not apply", async () => {
      const outcomes = await createTimeSeriesEntityEraser(store, targets).erase({
        ...request("u1"),
        entity: { kind: "user", id: "u1" },
      });
      expect(outcomes.map((o) => o.status)).toEqual(["not-applicable"]);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "ts-eraser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

eraserSuite("embedded (bun:sqlite)", {
  open: async () => new SqliteTimeSeriesStore({ path: join(dir, "timeseries.db") }),
  settle: async () => {},
});

await requireQuestDb();
eraserSuite("QuestDB (real server)", {
  open: async () => new QuestDbTimeSeriesStore({ httpUrl: questdbHttpUrl }),
  settle: (store, table) => (store as QuestDbTimeSeriesStore).awaitApplied(table),
});
