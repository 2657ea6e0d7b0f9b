import { describe, expect, test } from "bun:test";
import {
  decodeDataPath,
  encodeDataPath,
  partitionDirectory,
  serializePartitionValue,
} from "../../../lake/delta/partition-values.ts";
import type { DeltaField } from "../../../lake/delta/schema.ts";
import { ErrorCodes } from "../../../messages/errors.ts";

const field = (type: DeltaField["type"]): DeltaField => ({ name: "p", type, nullable: true });

describe("a partition value's text in the add action (PROTOCOL.md Partition Value Serialization)", () => {
  const cases: { name: string; type: DeltaField["type"]; value: unknown; text: string | null }[] = [
    { name: "a string as itself", type: "string", value: "traffic", text: "traffic" },
    { name: "an empty string as null (Spark's rule)", type: "string", value: "", text: null },
    { name: "null as null", type: "long", value: null, text: null },
    { name: "a date string", type: "date", value: "2026-01-02", text: "2026-01-02" },
    {
      name: "a Date as its UTC day",
      type: "date",
      value: new Date(Date.UTC(2026, 0, 2, 23, 59)),
      text: "2026-01-02",
    },
    {
      name: "a timestamp with microseconds, UTC",
      type: "timestamp",
      value: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      text: "2026-01-02 03:04:05.006000",
    },
    { name: "a long", type: "long", value: 42, text: "42" },
    { name: "a bigint long", type: "long", value: 42n, text: "42" },
    { name: "a boolean", type: "boolean", value: false, text: "false" },
    { name: "a double", type: "double", value: 1.25, text: "1.25" },
  ];
  for (const { name, type, value, text } of cases) {
    test(name, () => {
      expect(serializePartitionValue(field(type), value)).toBe(text);
    });
  }

  const refused: { name: string; type: DeltaField["type"]; value: unknown }[] = [
    { name: "a number in a string partition", type: "string", value: 1 },
    { name: "a malformed date", type: "date", value: "2026/01/02" },
    { name: "a fraction in a long", type: "long", value: 1.5 },
    { name: "an object", type: "long", value: {} },
    { name: "an invalid Date", type: "timestamp", value: new Date(Number.NaN) },
  ];
  for (const { name, type, value } of refused) {
    test(`${name} is SCHEMA_VIOLATION`, () => {
      expect(() => serializePartitionValue(field(type), value)).toThrow(
        expect.objectContaining({ code: ErrorCodes.SCHEMA_VIOLATION }),
      );
    });
  }
});

describe("partition directories and the add action's path", () => {
  test("columns in order, Hive's escapes for special characters, the default partition for null", () => {
    expect(partitionDirectory(["date", "type"], { date: "2026-01-02", type: "traffic" })).toBe(
      "date=2026-01-02/type=traffic",
    );
    expect(partitionDirectory(["k"], { k: "a/b:c=d%" })).toBe("k=a%2Fb%3Ac%3Dd%25");
    expect(partitionDirectory(["k"], { k: null })).toBe("k=__HIVE_DEFAULT_PARTITION__");
  });

  test("the path is URI-encoded and decodes back to the file on disk", () => {
    const relative = `${partitionDirectory(["k"], { k: "a b/ü" })}/part-0.parquet`;
    const encoded = encodeDataPath(relative);
    expect(encoded).toBe("k=a%20b%252F%C3%BC/part-0.parquet");
    expect(decodeDataPath(encoded)).toBe(relative);
  });

  test("a path that is not a valid URI is DELTA_LOG_CORRUPT", () => {
    expect(() => decodeDataPath("k=%E0%A4%A/x.parquet")).toThrow(
      expect.objectContaining({ code: ErrorCodes.DELTA_LOG_CORRUPT }),
    );
  });
});
