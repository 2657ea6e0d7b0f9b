import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type {
  Aggregation,
  TableDefinition,
  TimeSeriesRow,
  TimeSeriesStore,
} from "../../../lake/timeseries/time-series-store.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";

/**
 * The TimeSeriesStore contract: every adapter runs these cases (as `log/log.contract.ts` does
 * for the Log port). `settle` waits until every acknowledged write is visible to queries
 * (QuestDB applies its WAL asynchronously; the embedded store is visible at once).
 */
export interface StoreHarness {
  open(): Promise<TimeSeriesStore>;
  settle(store: TimeSeriesStore, table: string): Promise<void>;
}

const DAY = 86_400_000;
/** 2026-03-03T00:00:00Z: a day boundary, so bucket starts are easy to write down */
const T0 = Date.UTC(2026, 2, 3);

let tableSeq = 0;
function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}_${tableSeq++}`;
}

function readingsTable(name: string, ttlDays?: number): TableDefinition {
  return {
    name,
    timestamp: "ts",
    columns: [
      { name: "sensor_id", type: "symbol" },
      { name: "type", type: "symbol" },
      { name: "value", type: "double" },
      { name: "count", type: "long" },
      { name: "passed", type: "boolean" },
      { name: "note", type: "varchar" },
    ],
    dedupKeys: ["sensor_id"],
    ...(ttlDays === undefined ? {} : { ttlDays }),
  };
}

function row(sensor: string, at: number, value: number, extra: Partial<TimeSeriesRow> = {}): TimeSeriesRow {
  return {
    ts: at,
    sensor_id: sensor,
    type: "traffic",
    value,
    count: Math.round(value),
    passed: true,
    note: null,
    ...extra,
  };
}

/** two sensors, one reading every 10 s for 3 minutes */
function series(): TimeSeriesRow[] {
  const rows: TimeSeriesRow[] = [];
  for (let i = 0; i < 18; i++) {
    rows.push(row("s1", T0 + i * 10_000, i));
    rows.push(row("s2", T0 + i * 10_000 + 5_000, 100 + i, { passed: i % 2 === 0 }));
  }
  return rows;
}

async function expectCode(work: Promise<unknown>, code: string): Promise<void> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPlatformError(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

export function timeSeriesStoreContract(name: string, harness: StoreHarness): void {
  describe(`TimeSeriesStore contract: ${name}`, () => {
    let store: TimeSeriesStore;
    const created: string[] = [];
    const newTable = async (definition: TableDefinition) => {
      created.push(definition.name);
      await store.ensureTable(definition);
      return definition;
    };

    beforeAll(async () => {
      store = await harness.open();
    });
    afterAll(async () => {
      for (const table of created) await store.dropTable(table);
      await store.close();
    });

    test("rows come back in timestamp order with their types, a missing value as null", async () => {
      const table = await newTable(readingsTable(uniqueName("tsc_types")));
      await store.write(table, [
        row("s1", T0 + 2000, 2.5, { note: "second" }),
        row("s1", T0 + 1000, 1.5, { passed: false }),
      ]);
      await harness.settle(store, table.name);
      const result = await store.query({ table: table.name, limit: 10 });
      expect(result.columns).toEqual(["ts", "sensor_id", "type", "value", "count", "passed", "note"]);
      expect(result.rows).toEqual([
        [T0 + 1000, "s1", "traffic", 1.5, 2, false, null],
        [T0 + 2000, "s1", "traffic", 2.5, 3, true, "second"],
      ]);
    });

    test("a batch written twice leaves one row per identity, and a rewritten row takes the new values", async () => {
      const table = await newTable(readingsTable(uniqueName("tsc_dedup")));
      const rows = series();
      await store.write(table, rows);
      await store.write(table, rows);
      await store.write(table, [row("s1", T0, 42)]);
      await harness.settle(store, table.name);
      const result = await store.query({ table: table.name, limit: 1000 });
      expect(result.rows.length).toBe(rows.length);
      expect(result.rows[0]).toEqual([T0, "s1", "traffic", 42, 42, true, null]);
    });

    test("symbols and strings with spaces, commas, equals, quotes, backslashes and newlines come back as written", async () => {
      const table = await newTable(readingsTable(uniqueName("tsc_escape")));
      const awkward = ["a b,c=d", 'x"y\\z', "line\nbreak", "ünï cødé ✓"];
      await store.write(
        table,
        awkward.map((text, i) => row(text, T0 + i * 1000, i, { note: text, type: `${text}!` })),
      );
      await harness.settle(store, table.name);
      const result = await store.query({ table: table.name, limit: 10 });
      expect(result.rows.map((r) => [r[1], r[2], r[6]])).toEqual(awkward.map((t) => [t, `${t}!`, t]));
      const one = await store.query({ table: table.name, equals: { sensor_id: awkward[0]! }, limit: 10 });
      expect(one.rows.length).toBe(1);
    });

    test("two sensors with the same timestamp are two rows", async () => {
      const table = await newTable(readingsTable(uniqueName("tsc_samets")));
      await store.write(table, [row("a", T0, 1), row("b", T0, 2)]);
      await harness.settle(store, table.name);
      const result = await store.query({ table: table.name, limit: 10 });
      expect(result.rows.map((r) => r[1]).sort()).toEqual(["a", "b"]);
    });

    describe("ranges and filters", () => {
      let table: TableDefinition;
      beforeAll(async () => {
        table = await newTable(readingsTable(uniqueName("tsc_filter")));
        await store.write(table, series());
        await harness.settle(store, table.name);
      });
      const cases: {
        name: string;
        from?: number;
        to?: number;
        equals?: Record<string, string>;
        limit?: number;
        values: number[];
      }[] = [
        { name: "everything", values: [...Array(18).keys()].flatMap((i) => [i, 100 + i]) },
        { name: "one sensor", equals: { sensor_id: "s1" }, values: [...Array(18).keys()] },
        { name: "from is inclusive", from: T0 + 160_000, values: [16, 116, 17, 117] },
        { name: "to is exclusive", to: T0 + 10_000, values: [0, 100] },
        {
          name: "a range of one sensor",
          from: T0 + 20_000,
          to: T0 + 40_000,
          equals: { sensor_id: "s2" },
          values: [102, 103],
        },
        { name: "the limit bounds the rows", limit: 3, values: [0, 100, 1] },
        { name: "a sensor that does not exist", equals: { sensor_id: "nope" }, values: [] },
      ];
      for (const c of cases)
        test(`query: ${c.name}`, async () => {
          const result = await store.query({
            table: table.name,
            ...(c.from === undefined ? {} : { from: c.from }),
            ...(c.to === undefined ? {} : { to: c.to }),
            ...(c.equals ? { equals: c.equals } : {}),
            limit: c.limit ?? 1000,
          });
          expect(result.rows.map((r) => r[3])).toEqual(c.values);
        });
    });

    describe("downsampling (SAMPLE BY)", () => {
      let table: TableDefinition;
      beforeAll(async () => {
        table = await newTable(readingsTable(uniqueName("tsc_sample")));
        await store.write(table, series());
        await harness.settle(store, table.name);
      });
      // s1 minute m holds values 6m..6m+5; s2 holds 100 + the same
      const minute = (m: number) => [0, 1, 2, 3, 4, 5].map((i) => 6 * m + i);
      const cases: { agg: Aggregation; sensor?: string; expected: (values: number[]) => number }[] = [
        { agg: "avg", sensor: "s1", expected: (v) => v.reduce((a, b) => a + b, 0) / v.length },
        { agg: "sum", sensor: "s1", expected: (v) => v.reduce((a, b) => a + b, 0) },
        { agg: "min", sensor: "s2", expected: (v) => Math.min(...v) },
        { agg: "max", sensor: "s2", expected: (v) => Math.max(...v) },
        { agg: "count", sensor: "s1", expected: (v) => v.length },
        { agg: "first", sensor: "s1", expected: (v) => v[0]! },
        { agg: "last", sensor: "s2", expected: (v) => v.at(-1)! },
        { agg: "count", expected: (v) => 2 * v.length },
      ];
      for (const c of cases)
        test(`${c.agg} by 1m${c.sensor ? ` for ${c.sensor}` : " over every sensor"}`, async () => {
          const result = await store.query({
            table: table.name,
            ...(c.sensor ? { equals: { sensor_id: c.sensor } } : {}),
            downsample: { intervalMs: 60_000, aggregation: c.agg },
            limit: 100,
          });
          expect(result.columns).toEqual(["ts", "value", "count"]);
          const offset = c.sensor === "s2" ? 100 : 0;
          expect(result.rows.map((r) => r[0])).toEqual([T0, T0 + 60_000, T0 + 120_000]);
          for (const m of [0, 1, 2]) {
            const values = minute(m).map((v) => v + offset);
            expect(result.rows[m]![1]).toBeCloseTo(c.expected(values), 9);
          }
        });

      test("buckets are UTC-aligned and bounded by the limit", async () => {
        const result = await store.query({
          table: table.name,
          from: T0 + 30_000,
          downsample: { intervalMs: 3_600_000, aggregation: "count" },
          limit: 1,
        });
        expect(result.rows).toEqual([[T0, 30, 30]]);
        const minutes = await store.query({
          table: table.name,
          downsample: { intervalMs: 60_000, aggregation: "max" },
          limit: 2,
        });
        expect(minutes.rows.length).toBe(2);
      });
    });

    test("an existing table keeps its rows and gets the columns it lacks", async () => {
      const table = await newTable(readingsTable(uniqueName("tsc_evolve")));
      await store.write(table, [row("s1", T0, 1)]);
      const wider: TableDefinition = {
        ...table,
        columns: [...table.columns, { name: "extra", type: "double" }],
      };
      await store.ensureTable(wider);
      await store.write(wider, [row("s1", T0 + 1000, 2, { extra: 7.5 })]);
      await harness.settle(store, table.name);
      const result = await store.query({ table: table.name, limit: 10 });
      expect(result.columns.at(-1)).toBe("extra");
      expect(result.rows.map((r) => r.at(-1))).toEqual([null, 7.5]);
    });

    test("rows older than the TTL behind the newest row are dropped", async () => {
      const table = await newTable(readingsTable(uniqueName("tsc_ttl"), 2));
      await store.write(table, [row("s1", T0 - 10 * DAY, 1), row("s1", T0 - 9 * DAY, 2)]);
      await harness.settle(store, table.name);
      await store.write(table, [row("s1", T0, 3)]);
      await harness.settle(store, table.name);
      let values: unknown[] = [];
      const deadline = Date.now() + 20_000;
      do {
        values = (await store.query({ table: table.name, limit: 10 })).rows.map((r) => r[3]);
        if (values.length === 1) break;
        await Bun.sleep(200);
      } while (Date.now() < deadline);
      expect(values).toEqual([3]);
    });

    describe("bad requests", () => {
      let table: TableDefinition;
      beforeAll(async () => {
        table = await newTable(readingsTable(uniqueName("tsc_bad")));
      });
      const cases: { name: string; query: () => Parameters<TimeSeriesStore["query"]>[0]; code: string }[] = [
        {
          name: "an unknown table",
          query: () => ({ table: "no_such_table", limit: 1 }),
          code: ErrorCodes.NOT_FOUND,
        },
        {
          name: "a filter on a column that is not a symbol",
          query: () => ({ table: table.name, equals: { value: "1" }, limit: 1 }),
          code: ErrorCodes.BAD_REQUEST,
        },
        {
          name: "a filter on a column that does not exist",
          query: () => ({ table: table.name, equals: { "x' OR 1=1 --": "1" }, limit: 1 }),
          code: ErrorCodes.BAD_REQUEST,
        },
        {
          name: "an interval that does not divide a day",
          query: () => ({
            table: table.name,
            downsample: { intervalMs: 7_000, aggregation: "avg" },
            limit: 1,
          }),
          code: ErrorCodes.BAD_REQUEST,
        },
        {
          name: "from after to",
          query: () => ({ table: table.name, from: 2, to: 1, limit: 1 }),
          code: ErrorCodes.BAD_REQUEST,
        },
        {
          name: "a limit of zero",
          query: () => ({ table: table.name, limit: 0 }),
          code: ErrorCodes.BAD_REQUEST,
        },
      ];
      for (const c of cases) test(`${c.name} is ${c.code}`, () => expectCode(store.query(c.query()), c.code));

      test("a filter value is a value, never SQL", async () => {
        await store.write(table, [row("s1", T0, 1)]);
        await harness.settle(store, table.name);
        const result = await store.query({
          table: table.name,
          equals: { sensor_id: "s1' OR '1'='1" },
          limit: 10,
        });
        expect(result.rows).toEqual([]);
      });

      test("a row without its identity is refused", () =>
        expectCode(store.write(table, [{ ts: T0, value: 1 }]), ErrorCodes.SCHEMA_VIOLATION));

      test("a value of the wrong type is refused", () =>
        expectCode(store.write(table, [row("s1", T0, 1, { count: 1.5 })]), ErrorCodes.SCHEMA_VIOLATION));
    });

    describe("deleting an entity's rows", () => {
      test("removes its rows on every day and no other row; a value with quotes is a value", async () => {
        const table = await newTable(readingsTable(uniqueName("tsc_delete")));
        const days = [0, 1, 3].map((d) => T0 + d * DAY);
        await store.write(
          table,
          days.flatMap((day) => [
            row("s'1", day + 1000, 1),
            row("s2", day + 2000, 2),
            row("s'1", day + 3000, 3),
          ]),
        );
        await harness.settle(store, table.name);
        expect(await store.deleteRows(table.name, { sensor_id: "s'1" })).toBe(6);
        await harness.settle(store, table.name);
        const left = await store.query({ table: table.name, limit: 100 });
        expect(left.rows.map((r) => [r[0], r[1]])).toEqual(days.map((day) => [day + 2000, "s2"]));
        // again: nothing left, not an error
        expect(await store.deleteRows(table.name, { sensor_id: "s'1" })).toBe(0);
      });

      test("matches every named column, and the table takes writes as before afterwards", async () => {
        const table = await newTable(readingsTable(uniqueName("tsc_delete_and")));
        await store.write(table, [
          row("s1", T0 + 1000, 1, { type: "traffic" }),
          row("s1", T0 + 2000, 2, { type: "air" }),
        ]);
        await harness.settle(store, table.name);
        expect(await store.deleteRows(table.name, { sensor_id: "s1", type: "air" })).toBe(1);
        await store.write(table, [row("s1", T0 + 3000, 3, { type: "air" })]);
        await harness.settle(store, table.name);
        const left = await store.query({ table: table.name, limit: 100 });
        expect(left.rows.map((r) => [r[0], r[2]])).toEqual([
          [T0 + 1000, "traffic"],
          [T0 + 3000, "air"],
        ]);
      });

      test("a write issued while the rows are deleted is kept", async () => {
        const table = await newTable(readingsTable(uniqueName("tsc_delete_race")));
        await store.write(table, [row("s1", T0 + 1000, 1), row("s2", T0 + 2000, 2)]);
        await harness.settle(store, table.name);
        const deleting = store.deleteRows(table.name, { sensor_id: "s1" });
        const writing = store.write(table, [row("s2", T0 + 5000, 5)]);
        await Promise.all([deleting, writing]);
        await harness.settle(store, table.name);
        const left = await store.query({ table: table.name, limit: 100 });
        expect(left.rows.map((r) => [r[0], r[1]])).toEqual([
          [T0 + 2000, "s2"],
          [T0 + 5000, "s2"],
        ]);
      });

      test.each([
        ["an unknown table", "no_such_table", { sensor_id: "s1" }, ErrorCodes.NOT_FOUND],
        ["a column that is not a symbol", undefined, { value: "1" }, ErrorCodes.BAD_REQUEST],
        ["no column at all (that would delete everything)", undefined, {}, ErrorCodes.BAD_REQUEST],
      ] as const)("%s is refused", async (_case, name, equals, code) => {
        const table = await newTable(readingsTable(uniqueName("tsc_delete_bad")));
        await expectCode(store.deleteRows(name ?? table.name, equals), code);
      });
    });
  });
}
