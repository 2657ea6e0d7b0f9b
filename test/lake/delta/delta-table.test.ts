import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdir, utimes } from "node:fs/promises";
import { join } from "node:path";
import { commitPath } from "../../../lake/delta/delta-log.ts";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { readWithDeltaRs } from "../../../testkit/delta-rs.ts";
import { byOffset, SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir());
});
afterEach(() => cleanup());

describe("a Delta table's writes", () => {
  test("create writes protocol 1/2 and the metadata as commit 0, and open reads it back", async () => {
    const created = await DeltaTable.create(dir, SILVER_SPEC);
    expect(created.version).toBe(0);
    const commit = (await Bun.file(commitPath(dir, 0)).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(commit.find((a) => a.protocol).protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    const metaData = commit.find((a) => a.metaData).metaData;
    expect(metaData.partitionColumns).toEqual(["date", "type"]);
    expect(JSON.parse(metaData.schemaString).fields.map((f: { name: string }) => f.name)).toEqual(
      SILVER_SPEC.schema.map((f) => f.name),
    );
    const opened = await DeltaTable.open(dir);
    expect(opened.schema).toEqual(SILVER_SPEC.schema.map((f) => ({ ...f, metadata: {} })));
  });

  test("create on an existing table with the same schema opens it, without a new commit", async () => {
    const first = await DeltaTable.create(dir, SILVER_SPEC);
    await first.append(silverRows(0, 10));
    const again = await DeltaTable.create(dir, SILVER_SPEC);
    expect(again.version).toBe(1);
  });

  test("create on an existing table with other partition columns or a changed type is DELTA_SCHEMA_MISMATCH", async () => {
    await DeltaTable.create(dir, SILVER_SPEC);
    await expect(
      DeltaTable.create(dir, { ...SILVER_SPEC, partitionColumns: ["date"] }),
    ).rejects.toMatchObject({
      code: ErrorCodes.DELTA_SCHEMA_MISMATCH,
    });
    const changed = SILVER_SPEC.schema.map((f) =>
      f.name === "offset" ? { ...f, type: "string" as const } : f,
    );
    await expect(DeltaTable.create(dir, { ...SILVER_SPEC, schema: changed })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_SCHEMA_MISMATCH,
    });
  });

  test("open on a directory that is not a table is DELTA_NOT_A_TABLE", async () => {
    await expect(DeltaTable.open(join(dir, "nothing"))).rejects.toMatchObject({
      code: ErrorCodes.DELTA_NOT_A_TABLE,
    });
  });

  test("append writes one file per partition under date=/type= directories and reads back every row", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    const rows = silverRows(0, 600);
    const result = await table.append(rows);
    expect(result).toEqual({ version: 1, skipped: false });
    const snapshot = await table.snapshot();
    expect(snapshot.files.length).toBe(6);
    for (const file of snapshot.files) {
      expect(file.relativePath).toMatch(
        /^date=2026-01-0[12]\/type=(traffic|environment|utility)\/part-00000-.*\.snappy\.parquet$/,
      );
      expect(file.numRecords).toBe(100);
      expect(file.stats?.minValues.event_time).toBeString();
    }
    expect(snapshot.files.reduce((n, f) => n + (f.numRecords ?? 0), 0)).toBe(600);
    expect(byOffset(await table.readRows())).toEqual(byOffset(rows));
    expect(await readdir(join(dir, "date=2026-01-01"))).toEqual(
      expect.arrayContaining(["type=traffic", "type=utility"]),
    );
  });

  test("several txns in one commit: skipped when all are held, refused when only some are", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    const txns = [
      { appId: "sink/p0", version: 9 },
      { appId: "sink/p1", version: 4 },
    ];
    expect(await table.append(silverRows(0, 10), { txns })).toEqual({ version: 1, skipped: false });
    expect(await table.txnVersions(["sink/p0", "sink/p1", "sink/p2"])).toEqual(
      new Map([
        ["sink/p0", 9],
        ["sink/p1", 4],
        ["sink/p2", undefined],
      ]),
    );
    expect(await table.append(silverRows(0, 10), { txns })).toEqual({ version: 1, skipped: true });
    // p0 is held, p1 at 6 is not: the rows cannot be told apart here, so the caller must filter first
    await expect(
      table.append(silverRows(0, 10), {
        txns: [
          { appId: "sink/p0", version: 9 },
          { appId: "sink/p1", version: 6 },
        ],
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.DELTA_COMMIT_CONFLICT });
    expect(table.version).toBe(1);
  });

  test("an append whose txn version the table already holds is skipped, also after a restart", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    expect(await table.append(silverRows(0, 50), { txn: { appId: "silver-sink", version: 7 } })).toEqual({
      version: 1,
      skipped: false,
    });
    // the sink crashed before committing its offset and replays the same batch in a new process
    const restarted = await DeltaTable.open(dir);
    expect((await restarted.snapshot()).txnVersion("silver-sink")).toBe(7);
    expect(await restarted.append(silverRows(0, 50), { txn: { appId: "silver-sink", version: 7 } })).toEqual({
      version: 1,
      skipped: true,
    });
    expect(
      await restarted.append(silverRows(0, 50), { txn: { appId: "silver-sink", version: 3 } }),
    ).toMatchObject({
      skipped: true,
    });
    expect(await restarted.append(silverRows(50, 50), { txn: { appId: "silver-sink", version: 8 } })).toEqual(
      {
        version: 2,
        skipped: false,
      },
    );
    // another application's versions are its own
    expect(
      await restarted.append(silverRows(100, 5), { txn: { appId: "gold-job", version: 1 } }),
    ).toMatchObject({
      skipped: false,
    });
    expect((await restarted.readRows()).length).toBe(105);
  });

  test("a value that does not fit its column is SCHEMA_VIOLATION and commits nothing", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    const cases: { name: string; row: Record<string, unknown> }[] = [
      { name: "text in a long", row: { offset: "12" } },
      { name: "a fraction in an integer", row: { partition: 1.5 } },
      { name: "null in a non-nullable column", row: { quality_score: null } },
      { name: "an unparseable timestamp", row: { event_time: "yesterday" } },
      { name: "a malformed date partition", row: { date: "01/02/2026" } },
      { name: "an integer beyond 32 bits", row: { partition: 2 ** 31 } },
    ];
    for (const { name, row } of cases) {
      const rows = silverRows(0, 3);
      rows[1] = { ...rows[1], ...row };
      await expect(table.append(rows), name).rejects.toMatchObject({ code: ErrorCodes.SCHEMA_VIOLATION });
    }
    expect(await table.refresh()).toBe(0);
  });

  test("regression: rows staged before a bad value do not leak into the next append's files", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    const bad = silverRows(0, 3000);
    bad[2500] = { ...bad[2500], offset: "not a number" };
    await expect(table.append(bad)).rejects.toMatchObject({ code: ErrorCodes.SCHEMA_VIOLATION });
    const good = silverRows(5000, 30);
    await table.append(good);
    expect(byOffset(await table.readRows())).toEqual(byOffset(good));
  });

  test("an unknown column is DELTA_SCHEMA_MISMATCH unless the append merges the schema", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    await table.append(silverRows(0, 10));
    const extended = silverRows(10, 10).map((r) => ({ ...r, district: "north" }));
    await expect(table.append(extended)).rejects.toMatchObject({ code: ErrorCodes.DELTA_SCHEMA_MISMATCH });
    expect(await table.append(extended, { schemaMode: "merge" })).toEqual({ version: 2, skipped: false });
    expect(table.schema.at(-1)).toEqual({ name: "district", type: "string", nullable: true, metadata: {} });
    const rows = byOffset(await table.readRows());
    expect(rows[0]?.district).toBeNull();
    expect(rows[15]?.district).toBe("north");
  });

  test("regression: a merged column whose first rows hold null is still added from a later row", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    const rows = silverRows(0, 6).map((r, k) => ({ ...r, district: k < 3 ? null : "north" }));
    await table.append(rows, { schemaMode: "merge" });
    expect(table.schema.map((f) => f.name)).toContain("district");
    expect(byOffset(await table.readRows()).map((r) => r.district)).toEqual([
      null,
      null,
      null,
      "north",
      "north",
      "north",
    ]);
  });

  test("evolveSchema adds nullable columns, refuses required ones and type changes", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    await table.append(silverRows(0, 4));
    expect((await table.evolveSchema([{ name: "zone", type: "string", nullable: true }])).version).toBe(2);
    expect((await table.evolveSchema([{ name: "zone", type: "string", nullable: true }])).skipped).toBe(true);
    await expect(
      table.evolveSchema([{ name: "required", type: "long", nullable: false }]),
    ).rejects.toMatchObject({
      code: ErrorCodes.DELTA_SCHEMA_MISMATCH,
    });
    await expect(
      table.evolveSchema([{ name: "offset", type: "double", nullable: true }]),
    ).rejects.toMatchObject({
      code: ErrorCodes.DELTA_SCHEMA_MISMATCH,
    });
    const rows = await table.readRows();
    expect(rows.every((r) => r.zone === null)).toBe(true);
    expect((await table.readRows({ version: 1 }))[0]).not.toHaveProperty("zone");
  });

  test("replacePartitions swaps the rows of the partitions the new rows fall in, and leaves the others", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    await table.append(silverRows(0, 60));
    const replacement = silverRows(0, 60).filter((r) => r.date === "2026-01-01" && r.type === "traffic");
    const bumped = replacement.slice(0, 3).map((r) => ({ ...r, quality_score: 1 }));
    await table.replacePartitions(bumped);
    const rows = await table.readRows();
    const replaced = rows.filter((r) => r.date === "2026-01-01" && r.type === "traffic");
    expect(replaced.map((r) => r.quality_score)).toEqual([1, 1, 1]);
    expect(rows.length).toBe(60 - replacement.length + 3);
    expect((await table.history(1))[0]?.operationParameters.mode).toBe("Overwrite");
  });

  test("overwrite with a partition predicate replaces only that partition; rows outside it are refused", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    await table.append(silverRows(0, 30));
    const day2 = silverRows(100, 10).filter((r) => r.date === "2026-01-02");
    await table.overwrite(day2, { date: "2026-01-02" });
    const rows = await table.readRows();
    expect(rows.filter((r) => r.date === "2026-01-02").length).toBe(day2.length);
    expect(rows.filter((r) => r.date === "2026-01-01").length).toBe(15);
    await expect(table.overwrite(silverRows(0, 4), { date: "2026-01-02" })).rejects.toMatchObject({
      code: ErrorCodes.SCHEMA_VIOLATION,
    });
    await table.overwrite([]);
    expect(await table.readRows()).toEqual([]);
  });
});

describe("a Delta table's reads", () => {
  test("time travel by version and by timestamp sees each commit's rows", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    for (let batch = 0; batch < 3; batch++) await table.append(silverRows(batch * 10, 10));
    // commit times are the commit files' modification times (PROTOCOL.md); pin them
    const base = Date.UTC(2026, 5, 1);
    for (let v = 0; v <= 3; v++)
      await utimes(commitPath(dir, v), new Date(base + v * 60_000), new Date(base + v * 60_000));
    expect((await table.readRows({ version: 2 })).length).toBe(20);
    expect((await table.snapshot({ timestamp: base + 90_000 })).version).toBe(1);
    expect((await table.snapshot({ timestamp: new Date(base + 180_000) })).version).toBe(3);
    expect((await table.readRows({ timestamp: base + 60_000 })).length).toBe(10);
    await expect(table.snapshot({ timestamp: base - 1 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_VERSION_NOT_FOUND,
    });
    await expect(table.snapshot({ version: 9 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_VERSION_NOT_FOUND,
    });
  });

  test("history lists commits newest first with operation, metrics and txn", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    await table.append(silverRows(0, 12), {
      txn: { appId: "sink", version: 1 },
      commitInfo: { batch: "b1" },
    });
    const history = await table.history();
    expect(history.map((h) => h.version)).toEqual([1, 0]);
    expect(history[0]).toMatchObject({
      operation: "WRITE",
      metrics: { numOutputRows: 12, numFiles: 6 },
      readVersion: 0,
      isBlindAppend: true,
      txn: { appId: "sink", version: 1 },
    });
    expect(history[1]?.operation).toBe("CREATE TABLE");
    expect(await table.history(1)).toHaveLength(1);
  });

  test("after a checkpoint, log files older than delta.logRetentionDuration before it are deleted; newer ones stay", async () => {
    const table = await DeltaTable.create(dir, {
      ...SILVER_SPEC,
      configuration: { "delta.logRetentionDuration": "interval 1 hours" },
    });
    for (let batch = 0; batch < 19; batch++) await table.append(silverRows(batch * 5, 5));
    // commits 0..15 and the checkpoint of version 10 are two hours old by now
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    for (let v = 0; v <= 15; v++) await utimes(commitPath(dir, v), twoHoursAgo, twoHoursAgo);
    const checkpoint10 = join(dir, "_delta_log/00000000000000000010.checkpoint.parquet");
    await utimes(checkpoint10, twoHoursAgo, twoHoursAgo);
    await table.append(silverRows(95, 5)); // version 20: a checkpoint, then the cleanup
    const log = (await readdir(join(dir, "_delta_log"))).filter((n) => /^\d{20}\./.test(n)).sort();
    expect(log).toEqual(
      [
        ...[16, 17, 18, 19, 20].map((v) => `${String(v).padStart(20, "0")}.json`),
        "00000000000000000020.checkpoint.parquet",
      ].sort(),
    );
    const reopened = await DeltaTable.open(dir);
    expect(byOffset(await reopened.readRows())).toEqual(byOffset(silverRows(0, 100)));
    expect((await reopened.readRows({ version: 20 })).length).toBe(100);
    await expect(reopened.snapshot({ version: 17 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_VERSION_NOT_FOUND,
    });
    expect((await readWithDeltaRs(dir)).rows.length).toBe(100);
  });

  test("a checkpoint is written every 10 commits with _last_checkpoint, and a table opens from it", async () => {
    const table = await DeltaTable.create(dir, SILVER_SPEC);
    for (let batch = 0; batch < 21; batch++) {
      await table.append(silverRows(batch * 5, 5), { txn: { appId: "sink", version: batch } });
    }
    const log = await readdir(join(dir, "_delta_log"));
    expect(log.filter((n) => n.includes("checkpoint.parquet")).sort()).toEqual([
      "00000000000000000010.checkpoint.parquet",
      "00000000000000000020.checkpoint.parquet",
    ]);
    expect(JSON.parse(await Bun.file(join(dir, "_delta_log/_last_checkpoint")).text())).toMatchObject({
      version: 20,
    });
    // without the commits before the checkpoint, only the checkpoint can rebuild the state
    for (let v = 0; v <= 20; v++) await Bun.file(commitPath(dir, v)).delete();
    const opened = await DeltaTable.open(dir);
    expect(opened.version).toBe(21);
    expect((await opened.snapshot()).txnVersion("sink")).toBe(20);
    expect(byOffset(await opened.readRows())).toEqual(byOffset(silverRows(0, 105)));
    await expect(opened.snapshot({ version: 5 })).rejects.toMatchObject({
      code: ErrorCodes.DELTA_VERSION_NOT_FOUND,
    });
  });
});
