import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeltaTable } from "../../lake/delta/delta-table.ts";
import { lakeTable, tableDir } from "../../lake/tables/catalogue.ts";
import { openLakeTables } from "../../lake/tables/open-lake-tables.ts";
import type { ErasureRequest } from "../../security/entity-eraser.ts";
import { createLakeEntityEraser } from "../../security/lake-entity-eraser.ts";
import { lakeErasureTargets } from "../../security/platform-erasure-targets.ts";
import { readWithDeltaRs } from "../../testkit/delta-rs.ts";

const T0 = Date.UTC(2026, 2, 3, 10);
const request = (id: string, extra: Partial<ErasureRequest> = {}): ErasureRequest => ({
  requestId: `r-${id}`,
  entity: { kind: "sensor", id },
  requestedBy: "dpo@example",
  requestedAt: T0,
  ...extra,
});

function silverRow(sensor: string, offset: number): Record<string, unknown> {
  return {
    reading_id: `0@${offset}`,
    sensor_id: sensor,
    event_time: T0 + offset,
    vehicle_count: offset,
    quality_score: 1,
    anomaly_score: 0,
    district: "north",
    zone: "z1",
    source_partition: 0,
    source_offset: offset,
    date: "2026-03-03",
    type: "traffic",
  };
}

function windowRow(scope: string, key: string, start: number): Record<string, unknown> {
  return {
    window_id: `${scope}/${key}/${start}`,
    scope,
    key,
    window_start: start,
    window_end: start + 60_000,
    count: 3,
    emitted_at: start + 61_000,
    date: "2026-03-03",
    type: "traffic",
  };
}

let root: string;
let tables: Map<string, DeltaTable>;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "lake-eraser-"));
  const names = ["silver_sensor_readings", "gold_sensor_windows", "bronze_sensor_readings"];
  tables = await openLakeTables(
    root,
    {},
    names.map((n) => lakeTable(n)!),
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("the lake's eraser", () => {
  test("a Delta DELETE in every table holding the sensor: delta-rs sees none of its rows, and every other row", async () => {
    const silver = tables.get("silver_sensor_readings")!;
    const gold = tables.get("gold_sensor_windows")!;
    for (let batch = 0; batch < 3; batch++)
      await silver.append([silverRow("traffic_7", batch * 2), silverRow("traffic_8", batch * 2 + 1)]);
    await gold.append([
      windowRow("sensor", "traffic_7", T0),
      windowRow("sensor", "traffic_8", T0),
      windowRow("type", "traffic", T0),
    ]);

    const eraser = createLakeEntityEraser(() => tables, lakeErasureTargets());
    const outcomes = await eraser.erase(request("traffic_7"));
    const byTable = outcomes.map((o) => [o.detail?.split(":")[0], o.status, o.items]);
    expect(byTable).toEqual([
      ["bronze_sensor_readings", "not-found", 0],
      ["bronze_sensor_readings", "not-found", 0],
      ["silver_sensor_readings", "erased", 3],
      ["silver_quarantine is not open here", "not-found", 0],
      ["gold_sensor_windows", "erased", 1],
      ["gold_predictions is not open here", "not-found", 0],
    ]);
    // the report says time travel still holds the rows until VACUUM
    expect(outcomes[2]!.detail).toContain("until VACUUM after 168 h");

    const silverRs = await readWithDeltaRs(tableDir(root, lakeTable("silver_sensor_readings")!));
    expect(silverRs.rows.map((r) => r.sensor_id)).toEqual(["traffic_8", "traffic_8", "traffic_8"]);
    const goldRs = await readWithDeltaRs(tableDir(root, lakeTable("gold_sensor_windows")!));
    expect(goldRs.rows.map((r) => `${r.scope}/${r.key}`).sort()).toEqual([
      "sensor/traffic_8",
      "type/traffic",
    ]);
    const [last] = await silver.history(1);
    expect(last?.operation).toBe("DELETE");

    // an older version still has them: that is time travel, until VACUUM
    const before = await readWithDeltaRs(
      tableDir(root, lakeTable("silver_sensor_readings")!),
      silverRs.version - 1,
    );
    expect(before.rows.some((r) => r.sensor_id === "traffic_7")).toBe(true);
  });

  test("with VACUUM asked and the retention explicitly overridden, the old files that held the rows are deleted", async () => {
    const silver = tables.get("silver_sensor_readings")!;
    const { version: appended } = await silver.append([
      silverRow("traffic_9", 100),
      silverRow("traffic_8", 101),
    ]);
    const eraser = createLakeEntityEraser(() => tables, lakeErasureTargets());
    const outcomes = await eraser.erase(
      request("traffic_9", { vacuum: { retentionHours: 0, enforceRetention: false } }),
    );
    const silverOutcome = outcomes.find((o) => o.detail?.startsWith("silver_sensor_readings"))!;
    expect(silverOutcome.status).toBe("erased");
    expect(silverOutcome.detail).toMatch(/VACUUM \(retention 0 h\) deleted [1-9][0-9]* files/);
    const now = await silver.readRows();
    expect(now.some((r) => r.sensor_id === "traffic_9")).toBe(false);
    // time travel to before the delete now fails: the files are gone
    await expect(silver.readRows({ version: appended })).rejects.toMatchObject({
      code: "DELTA_FILE_MISSING",
    });
  });

  test("a VACUUM below the table's retention without the override is refused, and the store reports it failed", async () => {
    const silver = tables.get("silver_sensor_readings")!;
    await silver.append([silverRow("traffic_10", 200)]);
    const outcomes = await createLakeEntityEraser(() => tables, lakeErasureTargets()).erase(
      request("traffic_10", { vacuum: { retentionHours: 1 } }),
    );
    const silverOutcome = outcomes.find((o) => o.detail?.includes("silver_sensor_readings"))!;
    expect(silverOutcome.status).toBe("failed");
    expect(silverOutcome.detail).toContain("enforceRetention");
    // the rows themselves were deleted before the VACUUM was refused
    expect((await silver.readRows()).some((r) => r.sensor_id === "traffic_10")).toBe(false);
  });
});
