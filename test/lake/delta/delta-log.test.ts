import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { commitPath } from "../../../lake/delta/delta-log.ts";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { sharedParquet } from "../../../lake/delta/duckdb-parquet.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { byOffset, SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir("delta-log-"));
});
afterEach(() => cleanup());

async function tableWithCommits(count: number): Promise<DeltaTable> {
  const table = await DeltaTable.create(dir, SILVER_SPEC);
  for (let batch = 0; batch < count; batch++) await table.append(silverRows(batch * 6, 6));
  return table;
}

describe("a hostile or damaged log answers a clear error code", () => {
  const corruptions: { name: string; line: string; code: string }[] = [
    { name: "a line that is not JSON", line: "{not json", code: ErrorCodes.DELTA_LOG_CORRUPT },
    {
      name: "an add without a path",
      line: JSON.stringify({ add: { size: 1 } }),
      code: ErrorCodes.DELTA_LOG_CORRUPT,
    },
    {
      name: "a txn whose version is text",
      line: JSON.stringify({ txn: { appId: "a", version: "7" } }),
      code: ErrorCodes.DELTA_LOG_CORRUPT,
    },
    { name: "a JSON array instead of an action", line: "[1,2]", code: ErrorCodes.DELTA_LOG_CORRUPT },
  ];
  for (const { name, line, code } of corruptions) {
    test(`a commit with ${name} is ${code}, naming the commit`, async () => {
      await tableWithCommits(2);
      await appendFile(commitPath(dir, 2), `${line}\n`);
      const error = await DeltaTable.open(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code });
      expect((error as Error).message).toContain("commit 2");
    });
  }

  test("actions this reader does not know (cdc, domainMetadata) are skipped as the protocol asks", async () => {
    await tableWithCommits(1);
    await appendFile(
      commitPath(dir, 1),
      `${JSON.stringify({ domainMetadata: { domain: "x", configuration: "{}", removed: false } })}\n${JSON.stringify({ cdc: { path: "c.parquet" } })}\n`,
    );
    expect((await (await DeltaTable.open(dir)).readRows()).length).toBe(6);
  });

  test("a data file missing from disk is DELTA_FILE_MISSING when the rows are read", async () => {
    const table = await tableWithCommits(1);
    const file = (await table.snapshot()).files[0];
    await rm(file?.path as string);
    await expect(table.readRows()).rejects.toMatchObject({ code: ErrorCodes.DELTA_FILE_MISSING });
  });

  test("a _last_checkpoint pointing at a checkpoint that does not exist falls back to the log, as the protocol allows", async () => {
    await tableWithCommits(12);
    await writeFile(join(dir, "_delta_log/_last_checkpoint"), JSON.stringify({ version: 99, size: 3 }));
    expect(byOffset(await (await DeltaTable.open(dir)).readRows())).toEqual(byOffset(silverRows(0, 72)));
    await writeFile(join(dir, "_delta_log/_last_checkpoint"), "garbage");
    expect((await DeltaTable.open(dir)).version).toBe(12);
  });

  test("a _last_checkpoint pointing nowhere after the commits it covered were cleaned up is DELTA_VERSION_NOT_FOUND", async () => {
    await tableWithCommits(12);
    await rm(join(dir, "_delta_log/00000000000000000010.checkpoint.parquet"));
    for (let v = 0; v < 5; v++) await rm(commitPath(dir, v));
    const error = await DeltaTable.open(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCodes.DELTA_VERSION_NOT_FOUND });
    expect((error as Error).message).toContain("commit 0 is missing");
  });

  test("a multi-part checkpoint is read whole; one missing a part is never used (here no commits remain to replay instead)", async () => {
    await tableWithCommits(12);
    const log = join(dir, "_delta_log");
    const parquet = sharedParquet();
    // split the single-file checkpoint of version 10 into two parts, as Spark writes large ones
    const rows = (await parquet.readCheckpoint([
      join(log, "00000000000000000010.checkpoint.parquet"),
    ])) as Record<string, unknown>[];
    const actions = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)));
    const half = Math.ceil(actions.length / 2);
    await parquet.writeCheckpoint(
      join(log, "00000000000000000010.checkpoint.0000000001.0000000002.parquet"),
      actions.slice(0, half),
    );
    await parquet.writeCheckpoint(
      join(log, "00000000000000000010.checkpoint.0000000002.0000000002.parquet"),
      actions.slice(half),
    );
    await rm(join(log, "00000000000000000010.checkpoint.parquet"));
    for (let v = 0; v <= 10; v++) await rm(commitPath(dir, v));
    expect(byOffset(await (await DeltaTable.open(dir)).readRows())).toEqual(byOffset(silverRows(0, 72)));
    await rm(join(log, "00000000000000000010.checkpoint.0000000002.0000000002.parquet"));
    await expect(DeltaTable.open(dir)).rejects.toMatchObject({ code: ErrorCodes.DELTA_VERSION_NOT_FOUND });
  });

  test("a checkpoint that is not parquet is DELTA_LOG_CORRUPT", async () => {
    await tableWithCommits(10);
    await writeFile(join(dir, "_delta_log/00000000000000000010.checkpoint.parquet"), "not parquet at all");
    await expect(DeltaTable.open(dir)).rejects.toMatchObject({ code: ErrorCodes.DELTA_LOG_CORRUPT });
  });

  test("a gap in the commits is DELTA_VERSION_NOT_FOUND", async () => {
    await tableWithCommits(3);
    await rm(commitPath(dir, 2));
    await expect(DeltaTable.open(dir)).rejects.toMatchObject({ code: ErrorCodes.DELTA_VERSION_NOT_FOUND });
  });

  test("an empty _delta_log is DELTA_NOT_A_TABLE", async () => {
    await mkdir(join(dir, "_delta_log"), { recursive: true });
    await expect(DeltaTable.open(dir)).rejects.toMatchObject({ code: ErrorCodes.DELTA_NOT_A_TABLE });
  });

  test("a metaData whose schemaString is not a struct is DELTA_LOG_CORRUPT", async () => {
    await tableWithCommits(0);
    const text = (await Bun.file(commitPath(dir, 0)).text()).replace(
      /"schemaString":"(?:[^"\\]|\\.)*"/,
      '"schemaString":"[1]"',
    );
    await writeFile(commitPath(dir, 0), text);
    await expect(DeltaTable.open(dir)).rejects.toMatchObject({ code: ErrorCodes.DELTA_LOG_CORRUPT });
  });

  const protocols: { name: string; protocol: Record<string, unknown>; read: boolean; write: boolean }[] = [
    {
      name: "reader 1 / writer 2",
      protocol: { minReaderVersion: 1, minWriterVersion: 2 },
      read: true,
      write: true,
    },
    {
      name: "reader 1 / writer 4 (CDF, generated columns)",
      protocol: { minReaderVersion: 1, minWriterVersion: 4 },
      read: true,
      write: false,
    },
    {
      name: "reader 2 (column mapping)",
      protocol: { minReaderVersion: 2, minWriterVersion: 5 },
      read: false,
      write: false,
    },
    {
      name: "reader 3 with deletion vectors",
      protocol: {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ["deletionVectors"],
        writerFeatures: ["deletionVectors"],
      },
      read: false,
      write: false,
    },
    {
      name: "reader 3 / writer 7 with timestampNtz and appendOnly",
      protocol: {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ["timestampNtz"],
        writerFeatures: ["timestampNtz", "appendOnly"],
      },
      read: true,
      write: true,
    },
  ];
  for (const { name, protocol, read, write } of protocols) {
    test(`a table with protocol ${name}: read ${read ? "allowed" : "refused"}, append ${write ? "allowed" : "refused"}`, async () => {
      await tableWithCommits(1);
      await writeFile(commitPath(dir, 2), `${JSON.stringify({ protocol })}\n`);
      const opened = DeltaTable.open(dir);
      if (!read) {
        await expect(opened).rejects.toMatchObject({ code: ErrorCodes.DELTA_PROTOCOL_UNSUPPORTED });
        return;
      }
      const table = await opened;
      const append = table.append(silverRows(100, 2));
      if (write) expect((await append).version).toBe(3);
      else await expect(append).rejects.toMatchObject({ code: ErrorCodes.DELTA_PROTOCOL_UNSUPPORTED });
    });
  }

  test("a crash between writing data files and the commit leaves files no snapshot references", async () => {
    const table = await tableWithCommits(1);
    // what a kill -9 after the parquet write leaves: a data file and no commit
    const orphan = join(dir, "date=2026-01-01/type=traffic/part-00000-orphan-c000.snappy.parquet");
    const live = (await table.snapshot()).files[0]?.path as string;
    await Bun.write(orphan, Bun.file(live));
    const reopened = await DeltaTable.open(dir);
    expect((await reopened.readRows()).length).toBe(6);
    expect(await readdir(join(dir, "date=2026-01-01/type=traffic"))).toContain(
      "part-00000-orphan-c000.snappy.parquet",
    );
  });
});
