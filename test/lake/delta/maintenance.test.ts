import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdir, utimes } from "node:fs/promises";
import { join } from "node:path";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { sharedParquet } from "../../../lake/delta/duckdb-parquet.ts";
import {
  type MaintenanceEvent,
  MaintenanceScheduler,
  optimize,
  vacuum,
} from "../../../lake/delta/maintenance.ts";
import type { ParquetPort } from "../../../lake/delta/parquet.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { readWithDeltaRs } from "../../../testkit/delta-rs.ts";
import { byOffset, SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir("delta-maint-"));
});
afterEach(() => cleanup());

const ONE_MIB = 1024 * 1024;

async function smallFilesTable(batches: number): Promise<DeltaTable> {
  const table = await DeltaTable.create(dir, SILVER_SPEC);
  for (let b = 0; b < batches; b++) await table.append(silverRows(b * 30, 30));
  return table;
}

/** The real parquet port whose rewrites wait until the test opens the gate. */
function gatedParquet(): { port: ParquetPort; reached: Promise<void>; open: () => void } {
  const real = sharedParquet();
  let open!: () => void;
  let signal!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const reached = new Promise<void>((resolve) => {
    signal = resolve;
  });
  const port: ParquetPort = {
    writeFiles: (c, f) => real.writeFiles(c, f),
    readFiles: (c, f) => real.readFiles(c, f),
    writeCheckpoint: (p, a) => real.writeCheckpoint(p, a),
    readCheckpoint: (p) => real.readCheckpoint(p),
    close: () => Promise.resolve(),
    rewriteFiles: async (c, s, t) => {
      signal();
      await gate;
      return real.rewriteFiles(c, s, t);
    },
  };
  return { port, reached, open };
}

describe("OPTIMIZE", () => {
  test("compacts each partition's small files into one, keeps every row, and delta-rs reads the result", async () => {
    const table = await smallFilesTable(8);
    const before = await table.snapshot();
    expect(before.files.length).toBe(48);
    const result = await optimize(table, { targetFileSize: ONE_MIB });
    expect(result).toMatchObject({
      version: 9,
      numFilesRemoved: 48,
      numFilesAdded: 6,
      partitionsOptimized: 6,
    });
    const after = await table.snapshot();
    expect(after.files.length).toBe(6);
    expect(after.files.every((f) => f.numRecords === 40 && f.stats?.minValues.event_time !== undefined)).toBe(
      true,
    );
    expect(byOffset(await table.readRows())).toEqual(byOffset(silverRows(0, 240)));
    expect(byOffset((await readWithDeltaRs(dir)).rows)).toEqual(byOffset(await table.readRows()));
    // the old files are still there for time travel until VACUUM
    expect((await table.readRows({ version: 8 })).length).toBe(240);
    const [entry] = await table.history(1);
    expect(entry).toMatchObject({
      operation: "OPTIMIZE",
      metrics: { numFilesRemoved: 48, numFilesAdded: 6 },
    });
    expect(await optimize(table, { targetFileSize: ONE_MIB })).toMatchObject({
      version: undefined,
      numFilesRemoved: 0,
    });
  });

  test("compacts files written before and after an added column into one, the old rows null there", async () => {
    const table = await smallFilesTable(2);
    await table.append(
      silverRows(60, 30).map((r) => ({ ...r, district: "north" })),
      { schemaMode: "merge" },
    );
    const before = byOffset(await table.readRows());
    await optimize(table, { targetFileSize: ONE_MIB });
    expect((await table.snapshot()).files.length).toBe(6);
    expect(byOffset(await table.readRows())).toEqual(before);
    expect(byOffset((await readWithDeltaRs(dir)).rows)).toEqual(before);
  });

  test("a partition filter compacts only that partition; files at or above the target are left alone", async () => {
    const table = await smallFilesTable(3);
    const filtered = await optimize(table, {
      targetFileSize: ONE_MIB,
      partitionFilter: { date: "2026-01-01", type: "traffic" },
    });
    expect(filtered).toMatchObject({ numFilesRemoved: 3, numFilesAdded: 1, partitionsOptimized: 1 });
    expect(await optimize(table, { targetFileSize: 10 })).toMatchObject({
      version: undefined,
      numFilesRemoved: 0,
    });
  });

  test("appends go on while a compaction rewrites, and the compaction commits after them", async () => {
    const table = await smallFilesTable(3);
    const gated = gatedParquet();
    const compaction = optimize(table, { targetFileSize: ONE_MIB, parquet: gated.port });
    await gated.reached;
    expect(await table.append(silverRows(1000, 30))).toEqual({ version: 4, skipped: false });
    gated.open();
    expect((await compaction).version).toBe(5);
    expect(byOffset(await table.readRows())).toEqual(
      byOffset([...silverRows(0, 90), ...silverRows(1000, 30)]),
    );
  });

  test("a compaction whose files another writer removed first gives up with DELTA_COMMIT_CONFLICT and deletes what it wrote", async () => {
    const table = await smallFilesTable(2);
    const gated = gatedParquet();
    const compaction = optimize(table, { targetFileSize: ONE_MIB, parquet: gated.port });
    await gated.reached;
    const other = await DeltaTable.open(dir);
    await other.overwrite(silverRows(500, 6));
    gated.open();
    await expect(compaction).rejects.toMatchObject({ code: ErrorCodes.DELTA_COMMIT_CONFLICT });
    const live = new Set((await table.snapshot()).files.map((f) => f.path));
    const onDisk = (await readdir(dir, { recursive: true })).filter(
      (p) => p.endsWith(".parquet") && !p.startsWith("_"),
    );
    // 12 files of the two appends (removed by the overwrite, kept for time travel) + 6 live; none from the compaction
    expect(onDisk.length).toBe(12 + live.size);
    expect(byOffset(await table.readRows())).toEqual(byOffset(silverRows(500, 6)));
  });
});

describe("VACUUM", () => {
  test("deletes removed files past the retention; time travel to before them then fails clearly", async () => {
    const table = await smallFilesTable(4);
    await optimize(table, { targetFileSize: ONE_MIB });
    expect((await vacuum(table)).files).toEqual([]);
    await expect(vacuum(table, { retentionHours: 0 })).rejects.toMatchObject({
      code: ErrorCodes.CONFIG_INVALID,
    });
    const dry = await vacuum(table, { retentionHours: 0, enforceRetention: false, dryRun: true });
    expect(dry.files.length).toBe(24);
    expect((await table.readRows({ version: 2 })).length).toBe(60);
    const done = await vacuum(table, { retentionHours: 0, enforceRetention: false });
    expect(done.files.sort()).toEqual(dry.files.sort());
    expect(byOffset(await table.readRows())).toEqual(byOffset(silverRows(0, 120)));
    expect((await readWithDeltaRs(dir)).rows.length).toBe(120);
    await expect(table.readRows({ version: 2 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_FILE_MISSING,
    });
    expect((await table.history(1))[0]).toMatchObject({
      operation: "VACUUM END",
      metrics: { numDeletedFiles: 24 },
    });
    expect((await readdir(join(dir, "_delta_log"))).length).toBeGreaterThan(6);
  });

  test("a file no commit added is deleted once older than the retention, a fresh one is kept", async () => {
    const table = await smallFilesTable(1);
    const live = (await table.snapshot()).files[0]?.path as string;
    const old = join(dir, "date=2026-01-01/part-00000-crashed-old-c000.snappy.parquet");
    const fresh = join(dir, "date=2026-01-01/part-00000-crashed-new-c000.snappy.parquet");
    await Bun.write(old, Bun.file(live));
    await Bun.write(fresh, Bun.file(live));
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    await utimes(old, eightDaysAgo, eightDaysAgo);
    const result = await vacuum(table);
    expect(result.files).toEqual(["date=2026-01-01/part-00000-crashed-old-c000.snappy.parquet"]);
    expect(await Bun.file(fresh).exists()).toBe(true);
    expect((await table.readRows()).length).toBe(30);
  });
});

describe("the maintenance scheduler", () => {
  test("runs OPTIMIZE on its period and reports the result; stop waits for the task in progress", async () => {
    const table = await smallFilesTable(3);
    const events: MaintenanceEvent[] = [];
    let first!: () => void;
    const ran = new Promise<void>((resolve) => {
      first = resolve;
    });
    const scheduler = new MaintenanceScheduler(table, {
      optimizeEveryMs: 5,
      optimize: { targetFileSize: ONE_MIB },
      onResult: (event) => {
        events.push(event);
        first();
      },
      onError: (error) => {
        throw error;
      },
    });
    scheduler.start();
    await ran;
    await scheduler.stop();
    expect(events[0]).toMatchObject({ task: "optimize", result: { numFilesRemoved: 18, numFilesAdded: 6 } });
    expect((await table.snapshot()).files.length).toBe(6);
  });

  test("a task never overlaps another, and a failure goes to onError instead of the caller", async () => {
    const table = await smallFilesTable(2);
    const gated = gatedParquet();
    const errors: [unknown, string][] = [];
    const scheduler = new MaintenanceScheduler(table, {
      optimize: { targetFileSize: ONE_MIB, parquet: gated.port },
      vacuum: { retentionHours: 0 },
      onError: (error, task) => errors.push([error, task]),
    });
    const first = scheduler.runNow("optimize");
    await gated.reached;
    expect(await scheduler.runNow("vacuum")).toBe(false);
    gated.open();
    expect(await first).toBe(true);
    expect(await scheduler.runNow("vacuum")).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toMatchObject({ code: ErrorCodes.CONFIG_INVALID });
    expect(errors[0]?.[1]).toBe("vacuum");
  });
});
