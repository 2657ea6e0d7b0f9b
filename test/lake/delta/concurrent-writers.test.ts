import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DeltaTable } from "../../../lake/delta/delta-table.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import { byOffset, SILVER_SPEC, silverRows, tempTableDir } from "./table-fixtures.ts";

/**
 * Two writers on one table (two instances: the same create-if-absent commit files as two
 * processes). The race is forced, not hoped for: writer B's hook lets writer A commit the very
 * version B is about to take.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempTableDir("delta-race-"));
  await DeltaTable.create(dir, SILVER_SPEC);
});
afterEach(() => cleanup());

/** Opens writer B whose first commit attempt is preceded by `winner` (writer A's commit). */
async function racingWriter(
  winner: () => Promise<unknown>,
): Promise<{ table: DeltaTable; attempts: number[] }> {
  const attempts: number[] = [];
  const table = await DeltaTable.open(dir, {
    beforeCommitAttempt: async (version) => {
      attempts.push(version);
      if (attempts.length === 1) await winner();
    },
  });
  return { table, attempts };
}

describe("two writers racing for the same version", () => {
  test("two appends: the loser reads the winner's commit and retries at the next version", async () => {
    const a = await DeltaTable.open(dir);
    const { table: b, attempts } = await racingWriter(() => a.append(silverRows(0, 10)));
    expect(await b.append(silverRows(10, 10))).toEqual({ version: 2, skipped: false });
    expect(attempts).toEqual([1, 2]);
    expect(byOffset(await b.readRows())).toEqual(byOffset(silverRows(0, 20)));
    expect((await b.history(1))[0]?.readVersion).toBe(1);
  });

  test("the same sink batch from two writers lands once: the loser sees the txn and skips", async () => {
    const a = await DeltaTable.open(dir);
    const batch = silverRows(0, 10);
    const { table: b } = await racingWriter(() => a.append(batch, { txn: { appId: "sink", version: 3 } }));
    expect(await b.append(batch, { txn: { appId: "sink", version: 3 } })).toEqual({
      version: 1,
      skipped: true,
    });
    expect((await b.readRows()).length).toBe(10);
  });

  test("a partition replace loses to an append into that partition with DELTA_COMMIT_CONFLICT", async () => {
    const a = await DeltaTable.open(dir);
    const day1Traffic = silverRows(0, 30).filter((r) => r.date === "2026-01-01" && r.type === "traffic");
    const { table: b } = await racingWriter(() => a.append(day1Traffic.slice(0, 1)));
    await expect(b.replacePartitions(day1Traffic)).rejects.toMatchObject({
      code: ErrorCodes.DELTA_COMMIT_CONFLICT,
    });
    expect((await b.readRows()).length).toBe(1);
  });

  test("a partition replace after an append into another partition commits", async () => {
    const a = await DeltaTable.open(dir);
    const rows = silverRows(0, 30);
    const day1 = rows.filter((r) => r.date === "2026-01-01");
    const day2 = rows.filter((r) => r.date === "2026-01-02" && r.type === "traffic");
    const { table: b } = await racingWriter(() => a.append(day2));
    expect(await b.replacePartitions(day1)).toMatchObject({ version: 2, skipped: false });
    expect((await b.readRows()).length).toBe(day1.length + day2.length);
  });

  test("twenty concurrent appends from two writers take twenty distinct versions and lose no row", async () => {
    const a = await DeltaTable.open(dir);
    const b = await DeltaTable.open(dir);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? a : b).append(silverRows(k * 7, 7))),
    );
    expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, k) => k + 1),
    );
    expect(byOffset(await a.readRows())).toEqual(byOffset(silverRows(0, 140)));
  });

  test("a writer that never finds a free version gives up with DELTA_COMMIT_CONFLICT", async () => {
    const a = await DeltaTable.open(dir);
    let offset = 1000;
    const b = await DeltaTable.open(dir, {
      maxCommitAttempts: 3,
      // every attempt is beaten by another commit of writer A
      beforeCommitAttempt: async () => {
        await a.append(silverRows(offset++, 1));
      },
    });
    await expect(b.append(silverRows(0, 5))).rejects.toMatchObject({
      code: ErrorCodes.DELTA_COMMIT_CONFLICT,
    });
    expect((await a.readRows()).length).toBe(3);
  });
});
