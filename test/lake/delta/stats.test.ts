import { describe, expect, test } from "bun:test";
import type { FileStats } from "../../../lake/delta/actions.ts";
import type { DeltaField } from "../../../lake/delta/schema.ts";
import { ColumnStats, emptyStats, parseStats } from "../../../lake/delta/stats.ts";

function statsOf(type: DeltaField["type"], feed: (s: ColumnStats) => void): FileStats {
  const column = new ColumnStats({ name: "c", type, nullable: true });
  feed(column);
  const stats = emptyStats(0);
  column.into(stats);
  return stats;
}

describe("a data file's statistics (readers skip files by them, so a bound must never be inside the data)", () => {
  const cases: {
    name: string;
    type: DeltaField["type"];
    feed: (s: ColumnStats) => void;
    expected: Partial<FileStats>;
  }[] = [
    {
      name: "numbers: min, max and nulls",
      type: "double",
      feed: (s) => s.addNumbers(-2, 7.5, 3, false),
      expected: { minValues: { c: -2 }, maxValues: { c: 7.5 }, nullCount: { c: 3 } },
    },
    {
      name: "a NaN leaves the bounds out",
      type: "double",
      feed: (s) => s.addNumbers(1, 2, 0, true),
      expected: { minValues: {}, maxValues: {}, nullCount: { c: 0 } },
    },
    {
      name: "only nulls: a null count and no bounds",
      type: "long",
      feed: (s) => s.addNumbers(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 4, false),
      expected: { minValues: {}, maxValues: {}, nullCount: { c: 4 } },
    },
    {
      name: "timestamps as ISO text with milliseconds",
      type: "timestamp",
      feed: (s) => s.addNumbers(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2, 3, 4, 5, 6), 0, false),
      expected: {
        minValues: { c: "2026-01-01T00:00:00.000Z" },
        maxValues: { c: "2026-01-02T03:04:05.006Z" },
      },
    },
    {
      name: "a string longer than 32 characters: its 32-character prefix as the minimum, no maximum",
      type: "string",
      feed: (s) => {
        s.add("b".repeat(40));
        s.add("c".repeat(40));
      },
      expected: { minValues: { c: "b".repeat(32) }, maxValues: {} },
    },
    {
      name: "decimals compared as numbers, not text",
      type: "decimal(10,2)",
      feed: (s) => {
        s.add("9.5");
        s.add("10.25");
      },
      expected: { minValues: { c: 9.5 }, maxValues: { c: 10.25 } },
    },
    {
      name: "booleans carry no bounds",
      type: "boolean",
      feed: (s) => s.add(true),
      expected: { minValues: {}, maxValues: {} },
    },
  ];
  for (const { name, type, feed, expected } of cases) {
    test(name, () => {
      expect(statsOf(type, feed)).toMatchObject(expected);
    });
  }

  test("stats text that is absent or not JSON reads as no stats; a parsed one keeps numRecords", () => {
    expect(parseStats(undefined)).toBeUndefined();
    expect(parseStats("{oops")).toBeUndefined();
    expect(parseStats('{"numRecords": 3}')).toEqual({
      numRecords: 3,
      minValues: {},
      maxValues: {},
      nullCount: {},
    });
  });
});
