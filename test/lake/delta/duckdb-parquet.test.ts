import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBParquet } from "../../../lake/delta/duckdb-parquet.ts";
import type { DeltaField } from "../../../lake/delta/schema.ts";
import { ErrorCodes } from "../../../messages/errors.ts";

const columns: DeltaField[] = [
  { name: "id", type: "long", nullable: false },
  { name: "name", type: "string", nullable: true },
  { name: "at", type: "timestamp", nullable: true },
  { name: "ok", type: "boolean", nullable: true },
];

let dir: string;
let parquet: DuckDBParquet;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "duckdb-parquet-"));
  parquet = new DuckDBParquet();
});
afterEach(async () => {
  await parquet.close();
  await rm(dir, { recursive: true, force: true });
});

const rowsOf = (names: (string | null)[]) =>
  names.map((name, id) => ({
    id,
    name,
    at: id % 2 ? null : new Date(Date.UTC(2026, 0, 1, 0, 0, id)),
    ok: id % 3 === 0,
  }));

describe("the DuckDB parquet adapter", () => {
  test("strings of every shape round-trip: quotes, unicode, empty, null, a NUL (no ENUM for it), a control character", async () => {
    const names = [
      "plain",
      'it\'s "quoted"',
      "é ✓ 日本",
      "",
      null,
      "with\u0000nul",
      "unit\u001fseparator",
      "plain",
    ];
    const path = join(dir, "a.parquet");
    const [written] = await parquet.writeFiles(columns, [{ path, rows: rowsOf(names) }]);
    expect(written?.stats.numRecords).toBe(names.length);
    expect(written?.stats.nullCount).toEqual({ id: 0, name: 1, at: 4, ok: 0 });
    const read = await parquet.readFiles(columns, [{ path, partitionValues: {} }]);
    expect(read.sort((a, b) => Number(a.id) - Number(b.id)).map((r) => r.name)).toEqual(names);
  });

  test("rows longer than one 2,048-row chunk keep their order, values and nulls", async () => {
    const rows = Array.from({ length: 5000 }, (_, id) => ({
      id,
      name: id % 7 === 0 ? null : `n${id % 300}`,
      at: null,
      ok: id % 2 === 0,
    }));
    const path = join(dir, "b.parquet");
    await parquet.writeFiles(columns, [{ path, rows }]);
    const read = (await parquet.readFiles(columns, [{ path, partitionValues: {} }])).sort(
      (a, b) => Number(a.id) - Number(b.id),
    );
    expect(read).toEqual(rows);
  });

  // the ENUM's codes are staged at the width DuckDB picks for its word count (1, 2 or 4 bytes)
  test.each([255, 256, 65_535, 65_536, 70_000])(
    "a write of %p distinct words (every row its own, like reading ids) reads back word for word",
    async (words) => {
      const rows = Array.from({ length: words }, (_, id) => ({
        id,
        name: `r${id}@${id * 7}`,
        at: null,
        ok: true,
      }));
      const path = join(dir, `w${words}.parquet`);
      await parquet.writeFiles(columns, [{ path, rows }]);
      const read = await parquet.readFiles(columns, [{ path, partitionValues: {} }]);
      const names = read.sort((a, b) => Number(a.id) - Number(b.id)).map((r) => r.name);
      expect(names).toEqual(rows.map((r) => r.name));
    },
  );

  test("concurrent writes of several files each get their own rows", async () => {
    const writes = Array.from({ length: 4 }, (_, w) =>
      parquet.writeFiles(
        columns,
        [0, 1].map((f) => ({
          path: join(dir, `w${w}-f${f}.parquet`),
          rows: Array.from({ length: 100 }, (_, i) => ({
            id: w * 1000 + f * 100 + i,
            name: `w${w}f${f}`,
            at: null,
            ok: null,
          })),
        })),
      ),
    );
    await Promise.all(writes);
    for (let w = 0; w < 4; w++) {
      for (const f of [0, 1]) {
        const read = await parquet.readFiles(columns, [
          { path: join(dir, `w${w}-f${f}.parquet`), partitionValues: {} },
        ]);
        expect(new Set(read.map((r) => r.name))).toEqual(new Set([`w${w}f${f}`]));
        expect(read).toHaveLength(100);
      }
    }
  });

  test("a value of the wrong type is SCHEMA_VIOLATION and writes no file", async () => {
    const path = join(dir, "bad.parquet");
    await expect(parquet.writeFiles(columns, [{ path, rows: [{ id: 1, name: 5 }] }])).rejects.toMatchObject({
      code: ErrorCodes.SCHEMA_VIOLATION,
    });
    expect(await Bun.file(path).exists()).toBe(false);
  });

  test("works again after close (a new DuckDB, its table functions registered anew)", async () => {
    await parquet.writeFiles(columns, [{ path: join(dir, "c.parquet"), rows: rowsOf(["x"]) }]);
    await parquet.close();
    await parquet.writeFiles(columns, [{ path: join(dir, "d.parquet"), rows: rowsOf(["y"]) }]);
    expect(
      (await parquet.readFiles(columns, [{ path: join(dir, "d.parquet"), partitionValues: {} }]))[0]?.name,
    ).toBe("y");
  });
});
