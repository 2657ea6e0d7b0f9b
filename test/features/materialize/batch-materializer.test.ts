import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  materialize,
  materializeIncremental,
  watermarkName,
} from "../../../features/materialize/batch-materializer.ts";
import { EmbeddedOnlineStore } from "../../../features/online/embedded-online-store.ts";
import type { OnlineStore } from "../../../features/online/online-store.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { registered, testTable, testView } from "../feature-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "materialize-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.now();
const view = registered(testView({ ttlMs: 3_600_000 }));
const key = { name: view.name, version: view.version };
let seq = 0;
const fresh = () => new EmbeddedOnlineStore(join(dir, `online-${seq++}.db`));

describe("batch materialization", () => {
  test("a range writes the newest row per entity within it, and running it again changes nothing", async () => {
    const table = await testTable(join(dir, `t${seq++}`), [
      { entity: "a", ts: NOW - 3000, value: 1 },
      { entity: "a", ts: NOW - 2000, value: 2 },
      { entity: "a", ts: NOW - 1000, value: 3 },
      { entity: "b", ts: NOW - 2500, value: 10 },
    ]);
    const store = fresh();
    const result = await materialize(view, await table.snapshot(), store, {
      from: NOW - 2600,
      to: NOW - 1500,
      now: NOW,
    });
    expect(result).toMatchObject({ rows: 2, tableVersion: 1 });
    expect((await store.read(key, ["a", "b"], NOW)).map((r) => r?.values.value)).toEqual([2, 10]);
    await materialize(view, await table.snapshot(), store, { from: NOW - 2600, to: NOW - 1500, now: NOW });
    // an older range run afterwards does not take the newer values back
    await materialize(view, await table.snapshot(), store, { from: NOW - 3500, to: NOW - 2900, now: NOW });
    expect((await store.read(key, ["a", "b"], NOW)).map((r) => r?.values.value)).toEqual([2, 10]);
    await store.close();
  });

  const badRanges: [string, { from: number; to: number }][] = [
    ["from after to", { from: NOW, to: NOW - 1 }],
    ["an empty range", { from: NOW, to: NOW }],
    ["a range ending in the future", { from: NOW - 1, to: NOW + 7 * 86_400_000 }],
    ["a negative time", { from: -1, to: NOW }],
    ["a time that is not an integer", { from: 0.5, to: NOW }],
  ];
  for (const [what, range] of badRanges)
    test(`${what} is OUT_OF_RANGE`, async () => {
      const error = await materialize(view, undefined, fresh(), { ...range, now: NOW }).catch(
        (e: unknown) => e,
      );
      expect(isPlatformError(error, ErrorCodes.OUT_OF_RANGE)).toBe(true);
    });

  test("incremental runs read only the files added since the last materialized version, late rows too", async () => {
    const table = await testTable(join(dir, `t${seq++}`), [{ entity: "a", ts: NOW - 5000, value: 1 }]);
    const store = fresh();
    expect(await materializeIncremental(view, table, store, NOW)).toMatchObject({ rows: 1, tableVersion: 1 });
    expect(await materializeIncremental(view, table, store, NOW)).toMatchObject({
      rows: 0,
      fromTableVersion: 1,
    });
    await table.append([
      { entity: "b", ts: NOW - 9000, created: NOW - 9000, kind: "x", value: 7, count: null },
    ]);
    await table.append([
      { entity: "a", ts: NOW - 6000, created: NOW - 6000, kind: "x", value: 99, count: null },
    ]);
    const third = await materializeIncremental(view, table, store, NOW);
    expect(third).toMatchObject({ rows: 2, tableVersion: 3, fromTableVersion: 1 });
    // b's late row was found; a's older row did not replace the newer value
    expect((await store.read(key, ["a", "b"], NOW)).map((r) => r?.values.value)).toEqual([1, 7]);
    expect(await store.watermark(watermarkName(view))).toBe(3);
  });

  test("a run that dies before its watermark moves is run again whole: nothing lost, nothing doubled", async () => {
    const table = await testTable(
      join(dir, `t${seq++}`),
      Array.from({ length: 12_000 }, (_, i) => ({ entity: `e${i}`, ts: NOW - 1000, value: i })),
    );
    const real = fresh();
    let writes = 0;
    const dying: OnlineStore = {
      ...{ kind: real.kind, read: real.read.bind(real), watermark: real.watermark.bind(real) },
      ...{
        setWatermark: real.setWatermark.bind(real),
        dropView: real.dropView.bind(real),
        deleteEntity: real.deleteEntity.bind(real),
        close: real.close.bind(real),
      },
      write: async (v, rows, options) => {
        if (++writes === 2) throw new Error("the process died here");
        return real.write(v, rows, options);
      },
    };
    await expect(materializeIncremental(view, table, dying, NOW)).rejects.toThrow("died");
    expect(await real.watermark(watermarkName(view))).toBeUndefined();
    expect(await materializeIncremental(view, table, real, NOW)).toMatchObject({ rows: 12_000 });
    const all = await real.read(
      key,
      Array.from({ length: 12_000 }, (_, i) => `e${i}`),
      NOW,
    );
    expect(all.every((r, i) => r?.values.value === i)).toBe(true);
  });
});
