import { describe, expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { compileJsonSchema } from "../../../messages/schema-registry/json-schema-validator.ts";

const reading = {
  type: "object",
  properties: {
    sensor_id: { type: "string", minLength: 2, pattern: "^[a-z]+_\\d+$" },
    value: { type: "number", minimum: -20, maximum: 50 },
    count: { type: "integer", exclusiveMinimum: 0, multipleOf: 2 },
    kind: { enum: ["traffic", "weather"] },
    tags: { type: "array", items: { type: "string" }, maxItems: 2, uniqueItems: true },
    place: { $ref: "#/definitions/place" },
    version: { const: 1 },
    note: { anyOf: [{ type: "string" }, { type: "null" }] },
  },
  required: ["sensor_id", "value"],
  additionalProperties: false,
  definitions: {
    place: { type: "object", properties: { lat: { type: "number" } }, required: ["lat"] },
  },
};

const check = compileJsonSchema(reading);

describe("the compiled JSON Schema validator", () => {
  test.each([
    ["a minimal valid reading", { sensor_id: "t_1", value: 3 }],
    [
      "every optional field set",
      {
        sensor_id: "t_1",
        value: 3,
        count: 4,
        kind: "weather",
        tags: ["a", "b"],
        place: { lat: 1 },
        version: 1,
        note: null,
      },
    ],
  ])("accepts %s", (_name, value) => {
    expect(check(value)).toBeUndefined();
  });

  test.each([
    ["a missing required property", { value: 1 }, "#", "required"],
    ["a string where a number belongs", { sensor_id: "t_1", value: "3" }, "#/value", "type"],
    ["NaN as a number", { sensor_id: "t_1", value: Number.NaN }, "#/value", "type"],
    ["a value above maximum", { sensor_id: "t_1", value: 51 }, "#/value", "maximum"],
    ["a value below minimum", { sensor_id: "t_1", value: -21 }, "#/value", "minimum"],
    [
      "zero against exclusiveMinimum 0",
      { sensor_id: "t_1", value: 1, count: 0 },
      "#/count",
      "exclusiveMinimum",
    ],
    ["an odd count against multipleOf 2", { sensor_id: "t_1", value: 1, count: 3 }, "#/count", "multipleOf"],
    ["a float where an integer belongs", { sensor_id: "t_1", value: 1, count: 2.5 }, "#/count", "type"],
    ["a value outside the enum", { sensor_id: "t_1", value: 1, kind: "noise" }, "#/kind", "enum"],
    ["a wrong item type", { sensor_id: "t_1", value: 1, tags: ["a", 2] }, "#/tags/1", "type"],
    ["too many items", { sensor_id: "t_1", value: 1, tags: ["a", "b", "c"] }, "#/tags", "maxItems"],
    ["duplicate items", { sensor_id: "t_1", value: 1, tags: ["a", "a"] }, "#/tags", "uniqueItems"],
    ["a string not matching the pattern", { sensor_id: "t-1", value: 1 }, "#/sensor_id", "pattern"],
    ["a string too short", { sensor_id: "t", value: 1 }, "#/sensor_id", "minLength"],
    ["a failure inside a $ref", { sensor_id: "t_1", value: 1, place: {} }, "#/place", "required"],
    [
      "an unknown property in a closed model",
      { sensor_id: "t_1", value: 1, extra: true },
      "#/extra",
      "additionalProperties",
    ],
    ["a const mismatch", { sensor_id: "t_1", value: 1, version: 2 }, "#/version", "const"],
    ["no anyOf branch matching", { sensor_id: "t_1", value: 1, note: 5 }, "#/note", "anyOf"],
    ["an array at the root", [], "#", "type"],
  ])("refuses %s with the JSON pointer of the failure", (_name, value, pointer, keyword) => {
    const failure = check(value);
    expect(failure?.pointer).toBe(pointer);
    expect(failure?.keyword).toBe(keyword);
  });

  test("escapes '/' and '~' in failure pointers as RFC 6901 says", () => {
    const nested = compileJsonSchema({ properties: { "a/b~c": { type: "string" } } });
    expect(nested({ "a/b~c": 1 })?.pointer).toBe("#/a~1b~0c");
  });

  test("validates recursive schemas through $ref", () => {
    const tree = compileJsonSchema({
      $defs: {
        node: {
          type: "object",
          properties: { children: { type: "array", items: { $ref: "#/$defs/node" } } },
        },
      },
      $ref: "#/$defs/node",
    });
    expect(tree({ children: [{ children: [] }] })).toBeUndefined();
    expect(tree({ children: [{ children: [3] }] })?.pointer).toBe("#/children/0/children/0");
  });

  test.each([
    ["an unknown type name", { type: "float" }],
    ["a bad regular expression", { pattern: "(" }],
    ["a $ref that does not resolve", { $ref: "#/definitions/missing" }],
    ["a remote $ref", { $ref: "http://example.com/s.json" }],
    ["required that is not an array", { required: "a" }],
    ["a non-numeric maximum", { maximum: "10" }],
    ["a schema that is a number", 42],
  ])("refuses to compile %s with SCHEMA_INVALID", (_name, schema) => {
    let thrown: unknown;
    try {
      compileJsonSchema(schema);
    } catch (error) {
      thrown = error;
    }
    expect(isPlatformError(thrown, "SCHEMA_INVALID")).toBe(true);
  });
});
