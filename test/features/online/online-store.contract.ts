import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { OnlineRow, OnlineStore, ViewKey } from "../../../features/online/online-store.ts";

/**
 * The OnlineStore contract: the embedded store and Redis run these same cases (as the Log and
 * the time-series store ports do). `reopen` gives a new store over the same data, as a restarted
 * node would open it.
 */
export interface OnlineStoreHarness {
  open(): Promise<OnlineStore>;
  reopen(): Promise<OnlineStore>;
}

const T0 = Date.UTC(2026, 5, 1);
const row = (
  entity: string,
  eventTime: number,
  createdTime: number,
  values: OnlineRow["values"],
): OnlineRow => ({
  entity,
  eventTime,
  createdTime,
  values,
});

let viewSeq = 0;
const freshView = (): ViewKey => ({ name: `view_${viewSeq++}`, version: 1 });

export function onlineStoreContract(name: string, harness: OnlineStoreHarness): void {
  describe(`OnlineStore contract: ${name}`, () => {
    let store: OnlineStore;
    beforeAll(async () => {
      store = await harness.open();
    });
    afterAll(async () => {
      await store.close();
    });

    test("entities it never saw read as undefined, in the asked order", async () => {
      const view = freshView();
      await store.write(view, [row("b", T0, T0, { x: 1 })]);
      const got = await store.read(view, ["a", "b", "c"]);
      expect(got.map((g) => g?.values.x)).toEqual([undefined, 1, undefined]);
    });

    test("a read of many entities answers each one, past any internal chunk size", async () => {
      const view = freshView();
      const rows = Array.from({ length: 1234 }, (_, i) => row(`e${i}`, T0 + i, T0 + i, { i, half: i / 2 }));
      await store.write(view, rows);
      const asked = rows.map((r) => r.entity).reverse();
      const got = await store.read(view, asked);
      expect(got.map((g) => g?.values.i)).toEqual(rows.map((_, i) => i).reverse());
      expect(got[0]?.eventTime).toBe(T0 + 1233);
    });

    // stored (event, created) then incoming (event, created): which values remain
    const lastWriterWins: [string, [number, number], [number, number], "stored" | "incoming"][] = [
      ["a newer event time replaces", [10, 10], [11, 0], "incoming"],
      ["an older event time changes nothing", [10, 10], [9, 99], "stored"],
      [
        "the same event time with a later created time replaces (Feast's tie-break)",
        [10, 10],
        [10, 11],
        "incoming",
      ],
      ["the same event time with an earlier created time changes nothing", [10, 10], [10, 9], "stored"],
      ["the same event and created time: the later write wins", [10, 10], [10, 10], "incoming"],
    ];
    for (const [rule, [se, sc], [ie, ic], winner] of lastWriterWins) {
      test(`last writer wins: ${rule}`, async () => {
        const view = freshView();
        await store.write(view, [row("k", T0 + se, T0 + sc, { v: "stored" })]);
        await store.write(view, [row("k", T0 + ie, T0 + ic, { v: "incoming" })]);
        const [got] = await store.read(view, ["k"]);
        expect(got?.values.v).toBe(winner);
        expect(got?.eventTime).toBe(T0 + (winner === "stored" ? se : ie));
      });
    }

    test("the newest row of one batch wins whatever its place in the batch", async () => {
      const view = freshView();
      await store.write(view, [
        row("k", T0 + 5, T0, { v: 5 }),
        row("k", T0 + 9, T0, { v: 9 }),
        row("k", T0 + 7, T0, { v: 7 }),
      ]);
      expect((await store.read(view, ["k"]))[0]?.values.v).toBe(9);
    });

    test("a batch written twice, or replayed after newer data, leaves the newest values", async () => {
      const view = freshView();
      const first = [row("a", T0 + 1, T0 + 1, { v: 1 }), row("b", T0 + 1, T0 + 1, { v: 1 })];
      const second = [row("a", T0 + 2, T0 + 2, { v: 2 })];
      await store.write(view, first);
      await store.write(view, second);
      await store.write(view, first);
      const got = await store.read(view, ["a", "b"]);
      expect(got.map((g) => g?.values.v)).toEqual([2, 1]);
    });

    test("versions of a view are apart: the same entity holds other values in v1 and v2", async () => {
      const { name } = freshView();
      await store.write({ name, version: 1 }, [row("k", T0, T0, { v: "one" })]);
      await store.write({ name, version: 2 }, [row("k", T0, T0, { v: "two" })]);
      expect((await store.read({ name, version: 1 }, ["k"]))[0]?.values.v).toBe("one");
      expect((await store.read({ name, version: 2 }, ["k"]))[0]?.values.v).toBe("two");
    });

    test("values keep their types: doubles, integers, booleans, strings with separators, nulls", async () => {
      const view = freshView();
      const values = {
        d: 0.1 + 0.2,
        n: -42,
        big: 2 ** 53 - 1,
        yes: true,
        no: false,
        s: 'a|b:c"d\n',
        nil: null,
      };
      await store.write(view, [row("k", T0, T0, values)]);
      expect((await store.read(view, ["k"]))[0]?.values).toEqual(values);
    });

    test("awkward entity keys round-trip: separators, unicode, long ones, near-duplicates", async () => {
      const view = freshView();
      const keys = ["a|b", "a:b", "a@1:b", "ключ-名前-🚦", "x".repeat(1000), "k", "k ", " k", "*", "?[]"];
      await store.write(
        view,
        keys.map((k, i) => row(k, T0, T0, { i })),
      );
      const got = await store.read(view, keys);
      expect(got.map((g) => g?.values.i)).toEqual(keys.map((_, i) => i));
    });

    test("with a TTL an entry is served until event time + TTL and not after", async () => {
      const view = freshView();
      const now = Date.now();
      await store.write(
        view,
        [row("fresh", now - 1000, now, { v: 1 }), row("stale", now - 60_000, now, { v: 2 })],
        {
          ttlMs: 30_000,
          now,
        },
      );
      const got = await store.read(view, ["fresh", "stale"], now);
      expect(got.map((g) => g?.values.v)).toEqual([1, undefined]);
      const later = await store.read(view, ["fresh"], now + 30_000);
      expect(later).toEqual([undefined]);
    });

    test("watermarks are kept by name and are undefined until set", async () => {
      const name = `wm_${viewSeq++}`;
      expect(await store.watermark(name)).toBeUndefined();
      await store.setWatermark(name, 17);
      await store.setWatermark(name, 42);
      expect(await store.watermark(name)).toBe(42);
    });

    test("dropping a view version removes its entries and no other version's", async () => {
      const { name } = freshView();
      await store.write({ name, version: 1 }, [row("k", T0, T0, { v: 1 })]);
      await store.write({ name, version: 2 }, [row("k", T0, T0, { v: 2 })]);
      await store.dropView({ name, version: 1 });
      expect(await store.read({ name, version: 1 }, ["k"])).toEqual([undefined]);
      expect((await store.read({ name, version: 2 }, ["k"]))[0]?.values.v).toBe(2);
    });

    test("deleting an entity removes it from every version of the view and from nothing else", async () => {
      const name = `erase_${viewSeq++}`;
      // a look-alike view name and entity keys that glob or prefix matching would confuse
      const others = [`${name}x`, `${name}@1`];
      for (const version of [1, 2]) {
        await store.write({ name, version }, [
          row("s*1", T0, T0, { v: version }),
          row("s?1", T0, T0, { v: version }),
          row("s[1]", T0, T0, { v: version }),
          row("x:s*1", T0, T0, { v: version }),
        ]);
      }
      for (const other of others)
        await store.write({ name: other, version: 1 }, [row("s*1", T0, T0, { v: 0 })]);
      expect(await store.deleteEntity(name, "s*1")).toBe(2);
      for (const version of [1, 2]) {
        const got = await store.read({ name, version }, ["s*1", "s?1", "s[1]", "x:s*1"]);
        expect(got.map((g) => g?.values.v)).toEqual([undefined, version, version, version]);
      }
      for (const other of others)
        expect((await store.read({ name: other, version: 1 }, ["s*1"]))[0]?.values.v).toBe(0);
      // again: nothing left to delete, and that is not an error
      expect(await store.deleteEntity(name, "s*1")).toBe(0);
    });

    test("what was written is there after the store is opened again", async () => {
      const view = freshView();
      await store.write(view, [row("k", T0, T0, { v: "kept" })]);
      await store.setWatermark(`${view.name}-wm`, 7);
      const again = await harness.reopen();
      try {
        expect((await again.read(view, ["k"]))[0]?.values.v).toBe("kept");
        expect(await again.watermark(`${view.name}-wm`)).toBe(7);
      } finally {
        await again.close();
      }
    });
  });
}
