import { describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { LakeMaintenance, parseSchedules } from "../../../lake/maintenance/lake-maintenance.ts";
import { lakeTable } from "../../../lake/tables/catalogue.ts";
import type { LakeTable } from "../../../lake/tables/lake-table.ts";
import { openLakeTables } from "../../../lake/tables/open-lake-tables.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { silverRow } from "../tables/lake-rows.ts";

const TABLES = ["bronze_sensor_readings", "silver_sensor_readings"];
const DEFAULTS = { optimizeEveryMs: 600_000, vacuumEveryMs: 86_400_000 };

describe("lake maintenance schedules from configuration", () => {
  test.each([
    ["nothing: every table gets the defaults", undefined, { silver_sensor_readings: DEFAULTS }],
    [
      "one table's optimize off",
      "silver_sensor_readings:optimize=off",
      { silver_sensor_readings: { optimizeEveryMs: undefined, vacuumEveryMs: 86_400_000 } },
    ],
    [
      "two tables, both tasks",
      "silver_sensor_readings:optimize=5000,vacuum=off;bronze_sensor_readings:vacuum=3600000",
      {
        silver_sensor_readings: { optimizeEveryMs: 5000, vacuumEveryMs: undefined },
        bronze_sensor_readings: { optimizeEveryMs: 600_000, vacuumEveryMs: 3_600_000 },
      },
    ],
  ])("%s", (_name, text, expected) => {
    const schedules = parseSchedules(text, TABLES, DEFAULTS);
    for (const [table, schedule] of Object.entries(expected)) expect(schedules.get(table)).toEqual(schedule);
  });

  test.each([
    ["an unknown table", "nope:optimize=5000"],
    ["an unknown task", "silver_sensor_readings:compact=5000"],
    ["a period under a second", "silver_sensor_readings:optimize=10"],
    ["no settings", "silver_sensor_readings"],
  ])("%s is CONFIG_INVALID", (_name, text) => {
    let error: unknown;
    try {
      parseSchedules(text, TABLES, DEFAULTS);
    } catch (caught) {
      error = caught;
    }
    expect(isPlatformError(error, ErrorCodes.CONFIG_INVALID)).toBe(true);
  });
});

describe("lake maintenance as a command", () => {
  test("optimize runs now and answers its result; an unknown table is LAKE_TABLE_UNKNOWN", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lake-maintenance-"));
    try {
      const silver = lakeTable("silver_sensor_readings") as LakeTable;
      const tables = await openLakeTables(dir, {}, [silver]);
      const delta = tables.get(silver.name) as DeltaTable;
      for (let i = 0; i < 3; i++) await delta.append([silverRow(i, "traffic", Date.UTC(2026, 11, 1))]);
      const maintenance = new LakeMaintenance({
        tables,
        defaults: { optimizeEveryMs: undefined, vacuumEveryMs: undefined },
        vacuumRetentionHours: 168,
        onError: () => undefined,
      });
      const event = await maintenance.run(silver.name, "optimize");
      expect(event).toMatchObject({ task: "optimize", result: { numFilesRemoved: 3, numFilesAdded: 1 } });
      expect((await delta.readRows()).length).toBe(3);
      await expect(maintenance.run("nope", "optimize")).rejects.toMatchObject({
        code: ErrorCodes.LAKE_TABLE_UNKNOWN,
      });
      await maintenance.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
