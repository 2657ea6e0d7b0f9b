import { expect, test } from "bun:test";
import type { JsonSchemaNode } from "../../../messages/schema-registry/json-pointer.ts";
import { jsonSchemaDifferences } from "../../../messages/schema-registry/json-schema-difference.ts";

// Schemas that refer to themselves, each way a keyword can lead back to the root or to a sibling
// definition. Found by probing a running node: comparing `{"not":{"$ref":"#"}}` with the earlier
// `{"allOf":[{"$ref":"#"}]}` of the same subject overflowed the stack and answered 500.
const recursive: Array<[string, JsonSchemaNode]> = [
  ["allOf of the root", { allOf: [{ $ref: "#" }] }],
  ["allOf of the root beside a type", { type: "object", allOf: [{ $ref: "#" }, { required: ["a"] }] }],
  [
    "allOf through two definitions",
    {
      definitions: {
        a: { allOf: [{ $ref: "#/definitions/b" }] },
        b: { allOf: [{ $ref: "#/definitions/a" }] },
      },
      $ref: "#/definitions/a",
    },
  ],
  ["anyOf of the root", { anyOf: [{ $ref: "#" }, { type: "string" }] }],
  ["oneOf of the root", { oneOf: [{ $ref: "#" }, { type: "null" }] }],
  ["not of the root", { not: { $ref: "#" } }],
  ["items of the root", { type: "array", items: { $ref: "#" } }],
  ["a property of the root", { type: "object", properties: { x: { $ref: "#" } } }],
  [
    "a $ref loop",
    {
      definitions: { a: { $ref: "#/definitions/b" }, b: { $ref: "#/definitions/a" } },
      $ref: "#/definitions/a",
    },
  ],
];

for (const [writerName, writer] of recursive)
  test(`a recursive schema (${writerName}) compares with every other recursive schema and ends`, () => {
    for (const [, reader] of recursive) {
      expect(Array.isArray(jsonSchemaDifferences(writer, reader))).toBe(true);
      expect(Array.isArray(jsonSchemaDifferences(reader, writer))).toBe(true);
    }
  });
