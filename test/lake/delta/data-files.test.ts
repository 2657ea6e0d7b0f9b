import { describe, expect, test } from "bun:test";
import { groupByPartition } from "../../../lake/delta/data-files.ts";
import type { DeltaField } from "../../../lake/delta/schema.ts";
import { ErrorCodes } from "../../../messages/errors.ts";

const schema: DeltaField[] = [
  { name: "date", type: "date", nullable: false },
  { name: "type", type: "string", nullable: true },
  { name: "v", type: "double", nullable: true },
];

describe("rows grouped by their partition values", () => {
  test("one group per distinct (date, type), rows in input order", () => {
    const rows = [
      { date: "2026-01-01", type: "a", v: 1 },
      { date: "2026-01-02", type: "a", v: 2 },
      { date: "2026-01-01", type: "a", v: 3 },
      { date: "2026-01-01", type: "b", v: 4 },
    ];
    const groups = groupByPartition(rows, schema, ["date", "type"]);
    expect(groups.map((g) => [g.partitionValues, g.rows.map((r) => r.v)])).toEqual([
      [{ date: "2026-01-01", type: "a" }, [1, 3]],
      [{ date: "2026-01-02", type: "a" }, [2]],
      [{ date: "2026-01-01", type: "b" }, [4]],
    ]);
  });

  test("a Date and its ISO day are one partition; null and an empty string are the null partition", () => {
    const rows = [
      { date: new Date(Date.UTC(2026, 0, 1, 10)), type: null, v: 1 },
      { date: "2026-01-01", type: "", v: 2 },
      { date: new Date(Date.UTC(2026, 0, 1, 23)), type: undefined, v: 3 },
    ];
    const groups = groupByPartition(rows, schema, ["date", "type"]);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.partitionValues).toEqual({ date: "2026-01-01", type: null });
    expect(groups[0]?.rows.map((r) => r.v)).toEqual([1, 2, 3]);
  });

  test("a null in a non-nullable partition column is SCHEMA_VIOLATION", () => {
    expect(() => groupByPartition([{ date: null, type: "a", v: 1 }], schema, ["date"])).toThrow(
      expect.objectContaining({ code: ErrorCodes.SCHEMA_VIOLATION }),
    );
  });

  test("an unpartitioned table is one group of every row", () => {
    const rows = [{ date: "2026-01-01", type: "a", v: 1 }];
    expect(groupByPartition(rows, schema, [])).toEqual([{ partitionValues: {}, rows }]);
  });
});
