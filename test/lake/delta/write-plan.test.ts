import { describe, expect, test } from "bun:test";
import type { DeltaField } from "../../../lake/delta/schema.ts";
import { schemaForRows } from "../../../lake/delta/write-plan.ts";
import { ErrorCodes } from "../../../messages/errors.ts";

const schema: DeltaField[] = [
  { name: "a", type: "long", nullable: true, metadata: {} },
  { name: "b", type: "string", nullable: true, metadata: {} },
];

describe("the schema a batch of rows needs", () => {
  const cases: {
    name: string;
    rows: Record<string, unknown>[];
    mode: "strict" | "merge";
    result: string[] | string;
  }[] = [
    {
      name: "rows of known columns keep the schema",
      rows: [{ a: 1, b: "x" }, { a: 2 }],
      mode: "strict",
      result: ["a", "b"],
    },
    {
      name: "an unknown column is refused",
      rows: [
        { a: 1, b: "x" },
        { a: 2, c: 3 },
      ],
      mode: "strict",
      result: ErrorCodes.DELTA_SCHEMA_MISMATCH,
    },
    {
      name: "an unknown column hidden behind a known one left undefined is still found",
      rows: [{ a: undefined, c: 3 }],
      mode: "strict",
      result: ErrorCodes.DELTA_SCHEMA_MISMATCH,
    },
    {
      name: "an unknown column holding only nulls adds nothing",
      rows: [{ a: 1, c: null }],
      mode: "strict",
      result: ["a", "b"],
    },
    {
      name: "merge adds an unknown column with the type of its first value",
      rows: [
        { a: 1, c: null },
        { a: 2, c: true },
      ],
      mode: "merge",
      result: ["a", "b", "c"],
    },
    {
      name: "merge refuses a value with no Delta type",
      rows: [{ a: 1, c: { nested: 1 } }],
      mode: "merge",
      result: ErrorCodes.SCHEMA_VIOLATION,
    },
  ];
  for (const { name, rows, mode, result } of cases) {
    test(name, () => {
      if (typeof result === "string") {
        expect(() => schemaForRows(schema, rows, mode)).toThrow(expect.objectContaining({ code: result }));
      } else {
        expect(schemaForRows(schema, rows, mode).map((f) => f.name)).toEqual(result);
      }
    });
  }

  test("a merged column takes the first non-null value's type", () => {
    expect(schemaForRows(schema, [{ c: null }, { c: new Date(0) }], "merge").at(-1)).toMatchObject({
      name: "c",
      type: "timestamp",
      nullable: true,
    });
  });
});
