import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { deleteRows } from "../../../lake/delta/delete-rows.ts";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { sharedParquet } from "../../../lake/delta/duckdb-parquet.ts";
import { vacuum } from "../../../lake/delta/maintenance.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { readWithDeltaRs } from "../../../testkit/delta-rs.ts";
import { byOffset, SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir("delta-delete-"));
});
afterEach(() => cleanup());

/** 6 appends of 30 rows: sensors sensor-0..16 spread over 2 days x 3 types, many small files */
async function table(): Promise<DeltaTable> {
  const t = await DeltaTable.create(dir, SILVER_SPEC);
  for (let b = 0; b < 6; b++) await t.append(silverRows(b * 30, 30));
  return t;
}

describe("DELETE", () => {
  test("removes every row of the entity in one DELETE commit, and delta-rs reads the table without them", async () => {
    const t = await table();
    const before = await t.readRows();
    const doomed = before.filter((r) => r.sensor_id === "sensor-3").length;
    expect(doomed).toBeGreaterThan(0);
    const result = await deleteRows(t, { sensor_id: "sensor-3" });
    expect(result.numDeletedRows).toBe(doomed);
    expect(result.version).toBe(7);

    const rs = await readWithDeltaRs(dir);
    expect(rs.version).toBe(7);
    expect(rs.rows.filter((r) => r.sensor_id === "sensor-3")).toEqual([]);
    expect(byOffset(rs.rows).map((r) => r.offset)).toEqual(
      byOffset(before)
        .filter((r) => r.sensor_id !== "sensor-3")
        .map((r) => r.offset),
    );
    const [last] = await t.history(1);
    expect(last?.operation).toBe("DELETE");
    expect(last?.operationParameters).toEqual({ predicate: "sensor_id = 'sensor-3'" });
  });

  test("time travel still shows the rows until VACUUM removes the old files", async () => {
    const t = await table();
    const { version } = await deleteRows(t, { sensor_id: "sensor-5" });
    const old = await readWithDeltaRs(dir, (version ?? 0) - 1);
    expect(old.rows.some((r) => r.sensor_id === "sensor-5")).toBe(true);
    // a retention below the table's is refused unless explicitly overridden
    const refused = await vacuum(t, { retentionHours: 0 }).catch((e: unknown) => e);
    expect(isPlatformError(refused) && refused.code).toBe(ErrorCodes.CONFIG_INVALID);
    const swept = await vacuum(t, { retentionHours: 0, enforceRetention: false });
    expect(swept.files.length).toBeGreaterThan(0);
    await expect(t.readRows({ version: (version ?? 0) - 1 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_FILE_MISSING,
    });
    const now = await readWithDeltaRs(dir);
    expect(now.rows.some((r) => r.sensor_id === "sensor-5")).toBe(false);
  });

  test.each([
    ["a value on a partition column removes whole files", { type: "utility" }],
    ["partition and data columns together", { type: "traffic", sensor_id: "sensor-1" }],
    ["a value with a quote is a value", { sensor_id: "it's" }],
  ] as const)("%s", async (_case, match) => {
    const t = await table();
    await t.append([{ ...silverRows(999, 1)[0], sensor_id: "it's" }]);
    const before = await t.readRows();
    const matches = (r: Record<string, unknown>) =>
      Object.entries(match).every(([column, value]) => r[column] === value);
    const result = await deleteRows(t, match);
    expect(result.numDeletedRows).toBe(before.filter(matches).length);
    const after = await t.readRows();
    expect(after.filter(matches)).toEqual([]);
    expect(after.length).toBe(before.length - result.numDeletedRows);
  });

  test("no matching row commits nothing; a file the statistics cannot rule out is not rewritten", async () => {
    const t = await table();
    const version = t.version;
    // sensor-10 sorts between sensor-1 and sensor-9 in every file's bounds, but no row has this id
    expect(await deleteRows(t, { sensor_id: "sensor-10x" })).toEqual({
      version: undefined,
      numDeletedRows: 0,
      numRemovedFiles: 0,
      numAddedFiles: 0,
    });
    expect(await t.refresh()).toBe(version);
  });

  test.each([
    ["no column", {}],
    ["an unknown column", { nope: "x" }],
  ] as const)("%s is refused with BAD_REQUEST", async (_case, match) => {
    const t = await table();
    await expect(deleteRows(t, match)).rejects.toMatchObject({ code: ErrorCodes.BAD_REQUEST });
  });

  test("a sink's appends during the delete are kept, and their rows of the entity go in the next pass", async () => {
    const t = await table();
    const other = await DeltaTable.open(dir);
    let appended = 0;
    // another writer commits between the delete's rewrite and its commit, twice (a busy sink)
    const racing = await DeltaTable.open(dir, {
      parquet: sharedParquet(),
      beforeCommitAttempt: async () => {
        if (appended >= 2) return;
        appended++;
        await other.append([
          { ...silverRows(0, 1)[0], offset: 5000 + appended },
          { ...silverRows(1, 1)[0], offset: 6000 + appended },
        ]);
      },
    });
    const before = await t.readRows();
    const result = await deleteRows(racing, { sensor_id: "sensor-0" });
    expect(appended).toBe(2);
    const rows = await t.readRows();
    expect(rows.filter((r) => r.sensor_id === "sensor-0")).toEqual([]);
    // every other row is there, the other writer's included
    expect(rows.length).toBe(before.filter((r) => r.sensor_id !== "sensor-0").length + 2);
    expect(rows.filter((r) => Number(r.offset) > 6000).length).toBe(2);
    expect(result.numDeletedRows).toBe(before.filter((r) => r.sensor_id === "sensor-0").length + 2);
  });

  test("a delete that keeps finding new rows of the entity gives up after its passes, with a conflict", async () => {
    await table();
    const other = await DeltaTable.open(dir);
    let n = 0;
    const flooded = await DeltaTable.open(dir, {
      parquet: sharedParquet(),
      beforeCommitAttempt: async () => {
        await other.append([{ ...silverRows(0, 1)[0], offset: 7000 + n++ }]);
      },
    });
    await expect(deleteRows(flooded, { sensor_id: "sensor-0" }, { attempts: 3 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_COMMIT_CONFLICT,
    });
  });
});
