import { describe, expect, test } from "bun:test";
import {
  type DeltaField,
  duckdbType,
  mergeSchema,
  parseSchemaString,
  toSchemaString,
  validateSchema,
} from "../../../lake/delta/schema.ts";
import { ErrorCodes } from "../../../messages/errors.ts";

const f = (name: string, type: DeltaField["type"], nullable = true): DeltaField => ({
  name,
  type,
  nullable,
  metadata: {},
});

describe("Delta types as DuckDB (and so parquet) types", () => {
  const cases: [DeltaField["type"], string][] = [
    ["string", "VARCHAR"],
    ["long", "BIGINT"],
    ["integer", "INTEGER"],
    ["short", "SMALLINT"],
    ["byte", "TINYINT"],
    ["float", "FLOAT"],
    ["double", "DOUBLE"],
    ["boolean", "BOOLEAN"],
    ["binary", "BLOB"],
    ["date", "DATE"],
    ["timestamp", "TIMESTAMPTZ"],
    ["timestamp_ntz", "TIMESTAMP"],
    ["decimal(10,2)", "DECIMAL(10,2)"],
    [{ type: "array", elementType: "long", containsNull: true }, "BIGINT[]"],
    [
      { type: "map", keyType: "string", valueType: "double", valueContainsNull: true },
      "MAP(VARCHAR, DOUBLE)",
    ],
    [{ type: "struct", fields: [f("a", "string")] }, 'STRUCT("a" VARCHAR)'],
  ];
  for (const [type, duck] of cases) {
    test(`${JSON.stringify(type)} is ${duck}`, () => expect(duckdbType(type)).toBe(duck));
  }
  test("an unknown type is DELTA_SCHEMA_MISMATCH", () => {
    expect(() => duckdbType("uuid" as DeltaField["type"])).toThrow(
      expect.objectContaining({ code: ErrorCodes.DELTA_SCHEMA_MISMATCH }),
    );
  });
});

describe("a table's schema rules", () => {
  const invalid: { name: string; fields: DeltaField[]; partitions: string[] }[] = [
    { name: "no columns", fields: [], partitions: [] },
    {
      name: "a duplicate column (case-insensitive)",
      fields: [f("a", "long"), f("A", "long")],
      partitions: [],
    },
    { name: "a column name with a comma", fields: [f("a,b", "long")], partitions: [] },
    { name: "a partition column not in the schema", fields: [f("a", "long")], partitions: ["b"] },
    { name: "a binary partition column", fields: [f("a", "long"), f("b", "binary")], partitions: ["b"] },
    { name: "only partition columns", fields: [f("a", "long")], partitions: ["a"] },
  ];
  for (const { name, fields, partitions } of invalid) {
    test(`${name} is DELTA_SCHEMA_MISMATCH`, () => {
      expect(() => validateSchema(fields, partitions)).toThrow(
        expect.objectContaining({ code: ErrorCodes.DELTA_SCHEMA_MISMATCH }),
      );
    });
  }

  test("the schemaString round-trips", () => {
    const fields = [f("a", "long", false), f("b", "decimal(5,1)")];
    expect(parseSchemaString(toSchemaString(fields))).toEqual(fields);
  });

  const evolutions: { name: string; wanted: DeltaField[]; result: string[] | "refused" }[] = [
    { name: "nothing new keeps the schema", wanted: [f("a", "long")], result: ["a"] },
    { name: "an added nullable column is appended", wanted: [f("z", "string")], result: ["a", "z"] },
    { name: "an added required column is refused", wanted: [f("z", "string", false)], result: "refused" },
    { name: "a changed type is refused", wanted: [f("a", "double")], result: "refused" },
  ];
  for (const { name, wanted, result } of evolutions) {
    test(name, () => {
      const current = [f("a", "long")];
      if (result === "refused") {
        expect(() => mergeSchema(current, wanted)).toThrow(
          expect.objectContaining({ code: ErrorCodes.DELTA_SCHEMA_MISMATCH }),
        );
      } else {
        expect(mergeSchema(current, wanted).map((x) => x.name)).toEqual(result);
      }
    });
  }
});
