import { describe, expect, test } from "bun:test";
import { UpdateCache } from "../../../stream/window/update-cache.ts";
import { hopping, session, sliding, tumbling } from "../../../stream/window/window-assigner.ts";
import type { WindowOperator } from "../../../stream/window/window-operator.ts";
import {
  clearWindowOutput,
  createWindowOutput,
  type WindowResult,
} from "../../../stream/window/window-output.ts";
import { operatorFor, type Row, testClock, windows } from "./operator-harness.ts";

describe("the update cache alone", () => {
  const emitted = (cache: UpdateCache, generations: Record<number, number>) => {
    const slots: number[] = [];
    cache.drain(
      (slot) => generations[slot] ?? 0,
      (slot) => slots.push(slot),
    );
    return slots;
  };

  test("a slot held many times is emitted once, in the order first held", () => {
    const cache = new UpdateCache();
    for (const slot of [3, 1, 3, 3, 1, 7]) cache.hold(slot, 0);
    expect(emitted(cache, {})).toEqual([3, 1, 7]);
    expect(emitted(cache, {})).toEqual([]);
  });

  test("a slot released since it was held is skipped, and held again after reuse it is emitted once", () => {
    const cache = new UpdateCache();
    cache.hold(2, 5);
    cache.hold(4, 0);
    expect(emitted(cache, { 2: 6 })).toEqual([4]); // slot 2 was released: generation 6
    cache.hold(2, 6);
    cache.hold(2, 7); // released and reused between the two holds
    expect(emitted(cache, { 2: 7 })).toEqual([2]);
  });

  test("clear forgets every held slot", () => {
    const cache = new UpdateCache();
    cache.hold(0, 0);
    cache.hold(1000, 0);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(emitted(cache, {})).toEqual([]);
  });
});

const cached = (assigner = tumbling(10_000), grace = 0) =>
  operatorFor({ assigner, emit: "on-update", cacheUpdates: true, graceMs: grace });

const process = (operator: WindowOperator, rows: readonly Row[], out = createWindowOutput()) => {
  for (const [partition, key, eventTime, v] of rows) operator.process(partition, key, eventTime, { v }, out);
  return out;
};

describe("on-update emission through the record cache", () => {
  test("an update superseded within a batch is not emitted: one update per window at the flush", () => {
    const operator = cached();
    const out = process(operator, [
      [0, "a", 1_000, 1],
      [0, "a", 2_000, 2],
      [0, "b", 3_000, 4],
      [0, "a", 4_000, 8],
    ]);
    expect(windows(out)).toEqual([]);
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([
      ["a", 0, 10_000, 3, 11, false],
      ["b", 0, 10_000, 1, 4, false],
    ]);
    clearWindowOutput(out);
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([]); // nothing changed since
  });

  test("a window that closes before the flush emits only its final result", () => {
    const operator = cached();
    const out = process(operator, [
      [0, "a", 1_000, 1],
      [0, "b", 2_000, 2],
      [0, "a", 10_000, 4], // closes [0, 10 s) of both keys
    ]);
    expect(windows(out)).toEqual([
      ["a", 0, 10_000, 1, 1, true],
      ["b", 0, 10_000, 1, 2, true],
    ]);
    clearWindowOutput(out);
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([["a", 10_000, 20_000, 1, 4, false]]);
  });

  test("a hopping record updates each of its windows once per flush", () => {
    const operator = cached(hopping(60_000, 10_000));
    const out = process(operator, [
      [0, "a", 65_000, 1],
      [0, "a", 66_000, 2],
      [0, "a", 67_000, 3],
    ]);
    operator.flushUpdates(out);
    expect(out.emitted.map((w) => [w.windowStart, w.count, w.final])).toEqual(
      [60_000, 50_000, 40_000, 30_000, 20_000, 10_000].map((start) => [start, 3, false]),
    );
  });

  test("session windows merged away before the flush are not emitted; the merged one is, once", () => {
    const operator = cached(session(1_000), 5_000);
    const out = process(operator, [
      [0, "a", 1_000, 1],
      [0, "a", 3_000, 2],
      [0, "a", 2_000, 4], // bridges both sessions
    ]);
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([["a", 1_000, 4_000, 3, 7, false]]);
  });

  test("a restore drops the updates held for the state it replaces", () => {
    const source = cached();
    process(source, [[0, "a", 1_000, 1]]);
    const snapshot = source.snapshot();
    const operator = cached();
    process(operator, [[0, "z", 2_000, 9]]);
    operator.restore(snapshot);
    const out = createWindowOutput();
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([]);
    process(operator, [[0, "a", 3_000, 2]], out);
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([["a", 0, 10_000, 2, 3, false]]);
  });

  test("without the option on-update emission is unchanged: every record emits its windows", () => {
    const operator = operatorFor({ assigner: tumbling(10_000), emit: "on-update" });
    const out = process(operator, [
      [0, "a", 1_000, 1],
      [0, "a", 2_000, 2],
    ]);
    expect(windows(out)).toEqual([
      ["a", 0, 10_000, 1, 1, false],
      ["a", 0, 10_000, 2, 3, false],
    ]);
  });
});

describe("final results equal those without the cache", () => {
  /** a seeded stream: several keys, out-of-order times, some records late */
  const rowsOf = (seed: number, count: number): Row[] => {
    let state = seed;
    const next = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    const rows: Row[] = [];
    for (let i = 0; i < count; i++) {
      const key = `k${Math.floor(next() * 7)}`;
      rows.push([
        Math.floor(next() * 3),
        key,
        Math.floor(i * 400 + (next() - 0.5) * 6_000),
        Math.floor(next() * 100),
      ]);
    }
    return rows;
  };
  const cases = [
    { name: "tumbling", assigner: tumbling(10_000), exact: true },
    { name: "hopping", assigner: hopping(10_000, 2_500), exact: true },
    { name: "session", assigner: session(1_500), exact: false },
    // sliding: a record that joins no window but opens a right window for earlier records counts
    // as late and emits nothing without the cache; the cache emits that window at the flush
    { name: "sliding", assigner: sliding(3_000), exact: false },
  ];
  const key = (w: WindowResult) => `${w.key}@${w.windowStart}-${w.windowEnd}`;
  const summary = (w: WindowResult) => [key(w), w.count, w.aggregates.v?.sum];

  for (const { name, assigner, exact } of cases) {
    for (const seed of [1, 7, 42]) {
      test(`${name}, seed ${seed}: same finals, and each flush emits every window's last update of its batch`, () => {
        const rows = rowsOf(seed, 400);
        const clockA = testClock();
        const clockB = testClock();
        const plain = operatorFor({ assigner, emit: "on-update", graceMs: 1_000 }, clockA);
        const withCache = operatorFor(
          { assigner, emit: "on-update", cacheUpdates: true, graceMs: 1_000 },
          clockB,
        );
        const plainOut = createWindowOutput();
        const cacheOut = createWindowOutput();
        const plainFinals: unknown[] = [];
        const cacheFinals: unknown[] = [];
        let cachedUpdates = 0;
        let plainUpdates = 0;
        // batches of 1 to 30 records, as a log's polls would cut them
        for (let at = 0, batch = 1; at < rows.length; at += batch, batch = 1 + ((batch * 7 + seed) % 30)) {
          const slice = rows.slice(at, at + batch);
          process(plain, slice, plainOut);
          process(withCache, slice, cacheOut);
          withCache.flushUpdates(cacheOut);
          // the plain operator's last update of each window still open, in the batch
          const lastUpdate = new Map<string, unknown>();
          const closed = new Set(plainOut.emitted.filter((w) => w.final).map(key));
          for (const w of plainOut.emitted)
            if (!w.final && !closed.has(key(w))) lastUpdate.set(key(w), summary(w));
          const cacheUpdates = cacheOut.emitted.filter((w) => !w.final).map(summary);
          const asText = (updates: Iterable<unknown>) => new Set([...updates].map((u) => JSON.stringify(u)));
          if (exact) {
            expect(asText(cacheUpdates)).toEqual(asText(lastUpdate.values()));
            expect(cacheUpdates.length).toBe(lastUpdate.size);
          } else if (name === "session") {
            // sessions grow and merge, so a window's bounds change within a batch: each update the
            // cache emits is one the plain operator emitted in the same batch
            const plainText = asText(plainOut.emitted.filter((w) => !w.final).map(summary));
            for (const update of asText(cacheUpdates)) expect(plainText.has(update)).toBe(true);
          }
          plainUpdates += plainOut.emitted.filter((w) => !w.final).length;
          cachedUpdates += cacheUpdates.length;
          plainFinals.push(...plainOut.emitted.filter((w) => w.final).map(summary));
          cacheFinals.push(...cacheOut.emitted.filter((w) => w.final).map(summary));
          clearWindowOutput(plainOut);
          clearWindowOutput(cacheOut);
        }
        plain.flush(plainOut);
        withCache.flush(cacheOut);
        plainFinals.push(...plainOut.emitted.map(summary));
        cacheFinals.push(...cacheOut.emitted.map(summary));
        expect(cacheFinals).toEqual(plainFinals);
        expect(cacheFinals.length).toBeGreaterThan(10);
        expect(cachedUpdates).toBeLessThan(plainUpdates);
      });
    }
  }
});

describe("the update cache's bound (held to the checkpoint, Kafka Streams' eviction)", () => {
  const collect = () => {
    const slots: number[] = [];
    return { slots, emit: (slot: number) => slots.push(slot) };
  };
  const same = () => 0;

  // table: [holds in order, bound, evicted at the bound, left for the drain]
  const cases: {
    name: string;
    holds: number[];
    released?: number[];
    max: number;
    evicted: number[];
    drained: number[];
  }[] = [
    {
      name: "within the bound nothing goes early",
      holds: [1, 2, 3],
      max: 3,
      evicted: [],
      drained: [1, 2, 3],
    },
    { name: "past it the oldest first", holds: [1, 2, 3, 4, 5], max: 2, evicted: [1, 2, 3], drained: [4, 5] },
    {
      name: "a window held again keeps its place (first held)",
      holds: [1, 2, 1, 3],
      max: 2,
      evicted: [1],
      drained: [2, 3],
    },
    {
      name: "a closed window (released) is not counted and not emitted",
      holds: [1, 2, 3],
      released: [1],
      max: 2,
      evicted: [],
      drained: [2, 3],
    },
    { name: "a bound of one keeps the newest", holds: [5, 6, 7], max: 1, evicted: [5, 6], drained: [7] },
  ];
  for (const { name, holds, released = [], max, evicted, drained } of cases)
    test(`${name}; every held window goes out once, evicted or drained`, () => {
      const cache = new UpdateCache();
      const early = collect();
      for (const slot of holds) cache.hold(slot, 0);
      for (const slot of released) cache.release(slot);
      cache.evictOldest(max, same, early.emit);
      expect(early.slots).toEqual(evicted);
      expect(cache.held).toBe(drained.length);
      const rest = collect();
      cache.drain(same, rest.emit);
      expect(rest.slots).toEqual(drained);
      expect(cache.held).toBe(0);
    });

  test("evictions interleaved with holds lose nothing and repeat nothing (the list's front reused)", () => {
    const cache = new UpdateCache();
    const out = collect();
    for (let slot = 0; slot < 1_000; slot++) {
      cache.hold(slot, 0);
      cache.evictOldest(16, same, out.emit);
    }
    expect(out.slots).toEqual(Array.from({ length: 1_000 - 16 }, (_, i) => i));
    cache.drain(same, out.emit);
    expect(out.slots).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });
});

describe("the operator's cache bound (cacheMaxEntries)", () => {
  test("past the bound the oldest held windows are emitted as records arrive, each once; the rest at the flush", () => {
    const operator = operatorFor({
      assigner: tumbling(10_000),
      emit: "on-update",
      cacheUpdates: true,
      cacheMaxEntries: 2,
    });
    const out = process(operator, [
      [0, "a", 1_000, 1],
      [0, "b", 1_000, 2],
      [0, "a", 2_000, 4], // a is held already: still 2 windows
      [0, "c", 1_000, 8], // 3 held: a, the oldest, goes out with its latest state
      [0, "d", 1_000, 16], // then b
    ]);
    expect(windows(out)).toEqual([
      ["a", 0, 10_000, 2, 5, false],
      ["b", 0, 10_000, 1, 2, false],
    ]);
    clearWindowOutput(out);
    operator.flushUpdates(out);
    expect(windows(out)).toEqual([
      ["c", 0, 10_000, 1, 8, false],
      ["d", 0, 10_000, 1, 16, false],
    ]);
  });

  test("closed windows free their place: a window's final result leaves the cache", () => {
    const operator = operatorFor({
      assigner: tumbling(10_000),
      emit: "on-update",
      cacheUpdates: true,
      cacheMaxEntries: 1,
    });
    const out = process(operator, [
      [0, "a", 1_000, 1],
      [0, "a", 11_000, 2], // closes a's first window (final), holds its second: one held
    ]);
    expect(windows(out)).toEqual([["a", 0, 10_000, 1, 1, true]]);
  });

  test("a bound below one window is refused", () => {
    expect(() =>
      operatorFor({ assigner: tumbling(10_000), emit: "on-update", cacheUpdates: true, cacheMaxEntries: 0 }),
    ).toThrow("cacheMaxEntries");
  });
});

describe("the update cache's memory between two flushes", () => {
  test("windows held and closed one after another leave no trail: the list stays within a few times the windows held", () => {
    const cache = new UpdateCache();
    cache.hold(0, 0); // one window held the whole time
    for (let slot = 1; slot < 100_000; slot++) {
      cache.hold(slot, 0);
      cache.release(slot); // closed: its final result went out
    }
    expect(cache.held).toBe(1);
    expect(cache.size).toBeLessThan(64);
    const out: number[] = [];
    cache.drain(
      () => 0,
      (slot) => out.push(slot),
    );
    expect(out).toEqual([0]);
  });

  test("a slot released and held again while its first entry waits is emitted once, at its first place", () => {
    const cache = new UpdateCache();
    for (let slot = 0; slot < 8; slot++) cache.hold(slot, 0);
    cache.release(3);
    cache.hold(3, 1); // reused for another window
    for (let slot = 8; slot < 40; slot++) {
      cache.hold(slot, 0);
      cache.release(slot);
    }
    const out: number[] = [];
    cache.drain(
      (slot) => (slot === 3 ? 1 : 0),
      (slot) => out.push(slot),
    );
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
