import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { optimize } from "../../../lake/delta/maintenance.ts";
import { DistrictHourlyJob } from "../../../lake/tables/district-hourly-job.ts";
import { openLakeTables } from "../../../lake/tables/open-lake-tables.ts";
import { silverRow } from "./lake-rows.ts";

const T0 = Date.UTC(2026, 11, 1, 22);

let dir: string;
let silver: DeltaTable;
let gold: DeltaTable;
let job: DistrictHourlyJob;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gold-job-"));
  const tables = await openLakeTables(dir);
  silver = tables.get("silver_sensor_readings") as DeltaTable;
  gold = tables.get("gold_district_hourly") as DeltaTable;
  job = new DistrictHourlyJob({ applicationId: "app", silver, gold });
});
afterEach(async () => {
  await job.close();
  await rm(dir, { recursive: true, force: true });
});

/** readings i in [from, to): one every 6 minutes from T0, traffic, vehicle_count = i */
const readings = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) =>
    silverRow(from + k, "traffic", T0 + (from + k) * 6 * 60_000, "north"),
  );

async function summary(): Promise<Record<string, number>> {
  const rows = await gold.readRows();
  return Object.fromEntries(
    rows.map((r) => [new Date(r.hour_start as Date).toISOString().slice(11, 13), Number(r.readings)]),
  );
}

describe("the district-hourly gold job", () => {
  test("summarises silver per district, type and UTC hour, across a day boundary", async () => {
    await silver.append(readings(0, 30)); // 22:00 .. 00:54 next day: three hours of 10
    const run = await job.runOnce();
    expect(run).toMatchObject({ hours: 3, rows: 3 });
    expect(await summary()).toEqual({ "22": 10, "23": 10, "00": 10 });
    const rows = await gold.readRows();
    const first = rows.find((r) => r.hour === 22) as Record<string, unknown>;
    expect(first).toMatchObject({ district: "north", type: "traffic", sensors: 5, date: "2026-12-01" });
    expect(first.avg_vehicle_count).toBe(4.5);
    expect(rows.find((r) => r.hour === 0)?.date).toBe("2026-12-02");
  });

  test("a later run recomputes only the hours new silver rows touch, in full", async () => {
    await silver.append(readings(0, 20)); // hours 22 and 23
    await job.runOnce();
    const before = (await gold.readRows()).find((r) => r.hour === 22);
    await silver.append(readings(20, 25)); // five more in hour 00
    await silver.append([silverRow(99, "traffic", T0 + 30 * 60_000, "north")]); // one late reading in hour 22
    const run = await job.runOnce();
    expect(run.hours).toBe(2);
    expect(await summary()).toEqual({ "22": 11, "23": 10, "00": 5 });
    const after = (await gold.readRows()).find((r) => r.hour === 22);
    expect(Number(after?.readings)).toBe(Number(before?.readings) + 1);
  });

  test("a run with nothing new does nothing, and a rerun after a crash before the commit gives the same table", async () => {
    await silver.append(readings(0, 30));
    await job.runOnce();
    const version = gold.version;
    expect(await job.runOnce()).toMatchObject({ silverVersion: undefined, rows: 0 });
    expect(gold.version).toBe(version);
    // a fresh job (another process) over the same tables finds the recorded silver version
    const again = new DistrictHourlyJob({ applicationId: "app", silver, gold });
    expect((await again.runOnce()).silverVersion).toBeUndefined();
    await again.close();
  });

  test("files rewritten by OPTIMIZE are summarised again to the same result", async () => {
    for (let i = 0; i < 30; i += 5) await silver.append(readings(i, i + 5));
    await job.runOnce();
    const before = await summary();
    const compacted = await optimize(silver);
    expect(compacted.numFilesRemoved).toBeGreaterThan(0);
    await job.runOnce();
    expect(await summary()).toEqual(before);
  });
});
