import { expect, test } from "bun:test";
import type { JsonSchemaNode } from "../../../messages/schema-registry/json-pointer.ts";
import { jsonSchemaDifferences } from "../../../messages/schema-registry/json-schema-difference.ts";

/**
 * BACKWARD verdicts of Confluent's JSON Schema provider (SchemaDiff.compare(original, update);
 * compatible when every difference is in its COMPATIBLE_CHANGES): cases from its
 * diff-schema-examples.json test resource, plus one per keyword it judges that this checker did
 * not (dependencies, tuples, minContains, unevaluatedProperties, patternProperties, `false`
 * properties, `not`, allOf turned into anyOf/oneOf). Here the original is the writer and the
 * update the reader. The type is the Confluent difference that makes it incompatible.
 */
const str = { type: "string" };
const num = { type: "number" };
const int = { type: "integer" };
const cases: Array<[string, JsonSchemaNode, JsonSchemaNode, string | null]> = [
  // dependencies (draft-07) and dependentRequired / dependentSchemas (2019-09)
  [
    "a dependency array moved to another property",
    { properties: { foo: num, bar: str }, dependencies: { foo: ["bar"] } },
    { properties: { foo: num, bar: str }, dependencies: { bar: ["foo"] } },
    "DEPENDENCY_ARRAY_ADDED",
  ],
  ["a dependency array removed", { dependencies: { foo: ["bar"] } }, {}, null],
  [
    "a dependency array narrowed",
    { dependencies: { foo: ["bar", "baz"] } },
    { dependencies: { foo: ["bar"] } },
    null,
  ],
  [
    "a dependency array extended",
    { dependencies: { foo: ["bar"] } },
    { dependencies: { foo: ["bar", "baz"] } },
    "DEPENDENCY_ARRAY_EXTENDED",
  ],
  [
    "a dependency array changed",
    { dependencies: { foo: ["bar"] } },
    { dependencies: { foo: ["baz"] } },
    "DEPENDENCY_ARRAY_CHANGED",
  ],
  [
    "dependentRequired added",
    { properties: { a: str } },
    { properties: { a: str }, dependentRequired: { a: ["b"] } },
    "DEPENDENCY_ARRAY_ADDED",
  ],
  [
    "a dependency schema removed",
    { dependencies: { foo: str, bar: str } },
    { dependencies: { foo: str } },
    null,
  ],
  [
    "a dependency schema changed type",
    { dependencies: { foo: str } },
    { dependencies: { foo: num } },
    "TYPE_CHANGED",
  ],
  [
    "a dependency schema moved",
    { dependencies: { foo: str } },
    { dependencies: { bar: str } },
    "DEPENDENCY_SCHEMA_ADDED",
  ],
  ["dependentSchemas added", {}, { dependentSchemas: { a: { required: ["b"] } } }, "DEPENDENCY_SCHEMA_ADDED"],
  // tuples: draft-07 items array + additionalItems, 2020-12 prefixItems + items
  ["tuple items removed into an open array", { type: "array", items: [str, num] }, { type: "array" }, null],
  [
    "a tuple item added, covered by additionalItems",
    { type: "array", items: [str, num], additionalItems: str },
    { type: "array", items: [str, num, str], additionalItems: str },
    null,
  ],
  [
    "a tuple item added, not covered by additionalItems",
    { type: "array", items: [str, num], additionalItems: str },
    { type: "array", items: [str, num, num], additionalItems: str },
    "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
  ],
  [
    "a tuple item removed, covered by additionalItems",
    { type: "array", items: [str, num, str], additionalItems: str },
    { type: "array", items: [str, num], additionalItems: str },
    null,
  ],
  [
    "a tuple item removed, not covered by additionalItems",
    { type: "array", items: [str, num, num], additionalItems: str },
    { type: "array", items: [str, num], additionalItems: str },
    "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
  ],
  [
    "a tuple item changed type",
    { type: "array", items: [str] },
    { type: "array", items: [num] },
    "TYPE_CHANGED",
  ],
  [
    "a tuple item added to a closed tuple",
    { type: "array", items: [str], additionalItems: false },
    { type: "array", items: [str, num], additionalItems: false },
    null,
  ],
  [
    "a tuple item removed from a closed tuple",
    { type: "array", items: [str, num], additionalItems: false },
    { type: "array", items: [str], additionalItems: false },
    "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
  ],
  [
    "a tuple item added to an open tuple",
    { type: "array", items: [str] },
    { type: "array", items: [str, num] },
    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
  ],
  [
    "additionalItems closed",
    { type: "array", items: [str] },
    { type: "array", items: [str], additionalItems: false },
    "ADDITIONAL_ITEMS_REMOVED",
  ],
  [
    "additionalItems opened",
    { type: "array", items: [str], additionalItems: false },
    { type: "array", items: [str] },
    null,
  ],
  [
    "a prefixItems position changed type",
    { type: "array", prefixItems: [str] },
    { type: "array", prefixItems: [num] },
    "TYPE_CHANGED",
  ],
  [
    "a prefixItems position added, covered by items",
    { type: "array", prefixItems: [str], items: num },
    { type: "array", prefixItems: [str, int], items: num },
    "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
  ],
  [
    "a prefixItems position added, covered by a wider items",
    { type: "array", prefixItems: [str], items: int },
    { type: "array", prefixItems: [str, num], items: int },
    null,
  ],
  [
    "prefixItems closed by items: false",
    { type: "array", prefixItems: [str] },
    { type: "array", prefixItems: [str], items: false },
    "ADDITIONAL_ITEMS_REMOVED",
  ],
  // minContains / maxContains
  [
    "minContains added",
    { type: "array", contains: str },
    { type: "array", contains: str, minContains: 2 },
    "MIN_CONTAINS_ADDED",
  ],
  [
    "minContains increased",
    { type: "array", contains: str, minContains: 1 },
    { type: "array", contains: str, minContains: 2 },
    "MIN_CONTAINS_INCREASED",
  ],
  [
    "minContains decreased",
    { type: "array", contains: str, minContains: 2 },
    { type: "array", contains: str, minContains: 1 },
    null,
  ],
  [
    "maxContains decreased",
    { type: "array", contains: str, maxContains: 3 },
    { type: "array", contains: str, maxContains: 2 },
    "MAX_CONTAINS_DECREASED",
  ],
  // unevaluatedProperties closes a model like additionalProperties: false
  [
    "a property removed from a model closed by unevaluatedProperties",
    { properties: { a: str, b: str }, unevaluatedProperties: false },
    { properties: { a: str }, unevaluatedProperties: false },
    "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
  ],
  [
    "an optional property added to a model closed by unevaluatedProperties",
    { properties: { a: str }, unevaluatedProperties: false },
    { properties: { a: str, b: num }, unevaluatedProperties: false },
    null,
  ],
  [
    "a model closed by unevaluatedProperties",
    { properties: { a: str } },
    { properties: { a: str }, unevaluatedProperties: false },
    "ADDITIONAL_PROPERTIES_REMOVED",
  ],
  // patternProperties: a partially open content model
  [
    "a property added, covered by patternProperties",
    { properties: { foo: str }, additionalProperties: false, patternProperties: { "^S_": str, "^I_": int } },
    {
      properties: { foo: str, I_123: num },
      additionalProperties: false,
      patternProperties: { "^S_": str, "^I_": int },
    },
    null,
  ],
  [
    "a property added, not covered by patternProperties",
    { properties: { foo: str }, additionalProperties: false, patternProperties: { "^I_": num } },
    { properties: { foo: str, I_1: str }, additionalProperties: false, patternProperties: { "^I_": num } },
    "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
  ],
  [
    "a property removed, covered by patternProperties",
    { properties: { foo: str, I_123: int }, additionalProperties: false },
    { properties: { foo: str }, additionalProperties: false, patternProperties: { "^S_": str, "^I_": num } },
    null,
  ],
  [
    "a property removed, not covered by patternProperties",
    { properties: { foo: str, I_123: str }, additionalProperties: false },
    { properties: { foo: str }, additionalProperties: false, patternProperties: { "^I_": num } },
    "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
  ],
  [
    "a property removed, covered by additionalProperties",
    { properties: { foo: str, bar: str }, additionalProperties: false },
    { properties: { foo: str }, additionalProperties: { oneOf: [{ type: "null" }, str] } },
    null,
  ],
  [
    "a property removed, not covered by additionalProperties",
    { properties: { foo: str, bar: num }, additionalProperties: false },
    { properties: { foo: str }, additionalProperties: str },
    "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
  ],
  // a `false` property removed from a closed model
  [
    "a false property removed from a closed model",
    { properties: { foo: str, gone: false }, additionalProperties: false },
    { properties: { foo: str }, additionalProperties: false },
    null,
  ],
  // not: the exclusions compare reversed
  ["not narrowed (number to integer)", { not: num }, { not: int }, null],
  ["not extended (integer to number)", { not: int }, { not: num }, "NOT_TYPE_EXTENDED"],
  // combined types
  [
    "allOf to anyOf with fewer subschemas",
    { allOf: [str, { maxLength: 3 }] },
    { anyOf: [str] },
    "SUM_TYPE_NARROWED",
  ],
  [
    "allOf to a several-branch oneOf",
    { allOf: [str, { maxLength: 3 }] },
    { oneOf: [str, { maxLength: 3 }] },
    "COMBINED_TYPE_CHANGED",
  ],
  [
    "allOf to anyOf with the same subschemas",
    { allOf: [str, { maxLength: 3 }] },
    { anyOf: [str, { maxLength: 3 }] },
    null,
  ],
  [
    "allOf to anyOf whose subschemas do not pair off",
    { allOf: [str, num] },
    { anyOf: [int, { type: "boolean" }] },
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
  ],
  ["a singleton allOf to a singleton oneOf", { allOf: [str] }, { oneOf: [str] }, null],
  ["a sum type extended", { oneOf: [str] }, { oneOf: [num, str] }, null],
  ["a sum type changed", { oneOf: [str] }, { oneOf: [num] }, "COMBINED_TYPE_CHANGED"],
];

for (const [what, original, update, incompatibility] of cases) {
  test(`${what} is ${incompatibility === null ? "compatible" : `incompatible (${incompatibility})`} as in Confluent`, () => {
    const found = jsonSchemaDifferences(original, update);
    if (incompatibility === null) expect(found.map((f) => `${f.type} ${f.pointer}`)).toEqual([]);
    else expect(found.map((f) => f.type)).toContain(incompatibility);
  });
}
