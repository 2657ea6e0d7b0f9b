import { describe, expect, test } from "bun:test";
import {
  type CompatibilityLevel,
  compatibilityMessages,
} from "../../../messages/schema-registry/compatibility.ts";
import type { JsonSchemaNode } from "../../../messages/schema-registry/json-pointer.ts";

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  ...extra,
});
const closed = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  obj(properties, { additionalProperties: false, ...extra });
const num = { type: "number" };
const int = { type: "integer" };
const str = { type: "string" };

interface Case {
  readonly change: string;
  readonly before: JsonSchemaNode;
  readonly after: JsonSchemaNode;
  /** the Confluent difference type BACKWARD reports, or null when BACKWARD accepts the change */
  readonly backward: string | null;
  /** the Confluent difference type FORWARD reports, or null when FORWARD accepts the change */
  readonly forward: string | null;
}

// table of single changes from `before` (version 1) to `after` (the candidate)
const cases: Case[] = [
  { change: "nothing", before: obj({ a: str }), after: obj({ a: str }), backward: null, forward: null },
  {
    change: "integer widened to number",
    before: obj({ a: int }),
    after: obj({ a: num }),
    backward: null,
    forward: "TYPE_NARROWED",
  },
  {
    change: "number narrowed to integer",
    before: obj({ a: num }),
    after: obj({ a: int }),
    backward: "TYPE_NARROWED",
    forward: null,
  },
  {
    change: "string changed to number",
    before: obj({ a: str }),
    after: obj({ a: num }),
    backward: "TYPE_CHANGED",
    forward: "TYPE_CHANGED",
  },
  {
    change: "a type list extended",
    before: obj({ a: str }),
    after: obj({ a: { type: ["string", "null"] } }),
    backward: null,
    forward: "TYPE_NARROWED",
  },
  {
    change: "an existing property became required",
    before: obj({ a: str }),
    after: obj({ a: str }, { required: ["a"] }),
    backward: "REQUIRED_ATTRIBUTE_ADDED",
    forward: null,
  },
  {
    change: "a required property became optional",
    before: obj({ a: str }, { required: ["a"] }),
    after: obj({ a: str }),
    backward: null,
    forward: "REQUIRED_ATTRIBUTE_ADDED",
  },
  {
    change: "a typed property added to an open model",
    before: obj({ a: str }),
    after: obj({ a: str, b: num }),
    backward: "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    forward: null,
  },
  {
    change: "a property with an empty schema added to an open model",
    before: obj({ a: str }),
    after: obj({ a: str, b: {} }),
    backward: null,
    forward: null,
  },
  {
    change: "a property removed from an open model",
    before: obj({ a: str, b: num }),
    after: obj({ a: str }),
    backward: null,
    forward: "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
  },
  {
    change: "an optional property added to a closed model",
    before: closed({ a: str }),
    after: closed({ a: str, b: num }),
    backward: null,
    forward: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
  },
  {
    change: "a required property added to a closed model",
    before: closed({ a: str }),
    after: closed({ a: str, b: num }, { required: ["b"] }),
    backward: "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    forward: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
  },
  {
    change: "a required property with a default added to a closed model",
    before: closed({ a: str }),
    after: closed({ a: str, b: { type: "number", default: 0 } }, { required: ["b"] }),
    backward: null,
    forward: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
  },
  {
    change: "a property removed from a closed model",
    before: closed({ a: str, b: num }),
    after: closed({ a: str }),
    backward: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    forward: null,
  },
  {
    change: "an open model closed",
    before: obj({ a: str }),
    after: closed({ a: str }),
    backward: "ADDITIONAL_PROPERTIES_REMOVED",
    forward: null,
  },
  {
    change: "a closed model opened",
    before: closed({ a: str }),
    after: obj({ a: str }),
    backward: null,
    forward: "ADDITIONAL_PROPERTIES_REMOVED",
  },
  {
    change: "an enum widened",
    before: obj({ k: { enum: ["a", "b"] } }),
    after: obj({ k: { enum: ["a", "b", "c"] } }),
    backward: null,
    forward: "ENUM_ARRAY_NARROWED",
  },
  {
    change: "an enum narrowed",
    before: obj({ k: { enum: ["a", "b"] } }),
    after: obj({ k: { enum: ["a"] } }),
    backward: "ENUM_ARRAY_NARROWED",
    forward: null,
  },
  {
    change: "an enum replaced",
    before: obj({ k: { enum: ["a", "b"] } }),
    after: obj({ k: { enum: ["a", "c"] } }),
    backward: "ENUM_ARRAY_CHANGED",
    forward: "ENUM_ARRAY_CHANGED",
  },
  {
    change: "an enum added",
    before: obj({ k: str }),
    after: obj({ k: { type: "string", enum: ["a"] } }),
    backward: "ENUM_ARRAY_ADDED",
    forward: null,
  },
  {
    change: "a maximum lowered",
    before: obj({ v: { type: "number", maximum: 100 } }),
    after: obj({ v: { type: "number", maximum: 50 } }),
    backward: "MAXIMUM_DECREASED",
    forward: null,
  },
  {
    change: "a maximum raised",
    before: obj({ v: { type: "number", maximum: 50 } }),
    after: obj({ v: { type: "number", maximum: 100 } }),
    backward: null,
    forward: "MAXIMUM_DECREASED",
  },
  {
    change: "a minimum added",
    before: obj({ v: num }),
    after: obj({ v: { type: "number", minimum: 0 } }),
    backward: "MINIMUM_ADDED",
    forward: null,
  },
  {
    change: "a maxLength lowered",
    before: obj({ s: { type: "string", maxLength: 9 } }),
    after: obj({ s: { type: "string", maxLength: 3 } }),
    backward: "MAX_LENGTH_DECREASED",
    forward: null,
  },
  {
    change: "a minItems raised",
    before: obj({ l: { type: "array", minItems: 1 } }),
    after: obj({ l: { type: "array", minItems: 2 } }),
    backward: "MIN_ITEMS_INCREASED",
    forward: null,
  },
  {
    change: "a pattern added",
    before: obj({ s: str }),
    after: obj({ s: { type: "string", pattern: "^a" } }),
    backward: "PATTERN_ADDED",
    forward: null,
  },
  {
    change: "a nested property became required",
    before: obj({ p: obj({ lat: num }) }),
    after: obj({ p: obj({ lat: num }, { required: ["lat"] }) }),
    backward: "REQUIRED_ATTRIBUTE_ADDED",
    forward: null,
  },
  {
    change: "an array item type changed",
    before: obj({ l: { type: "array", items: str } }),
    after: obj({ l: { type: "array", items: num } }),
    backward: "TYPE_CHANGED",
    forward: "TYPE_CHANGED",
  },
  {
    change: "an array item type widened",
    before: obj({ l: { type: "array", items: int } }),
    after: obj({ l: { type: "array", items: num } }),
    backward: null,
    forward: "TYPE_NARROWED",
  },
  {
    change: "a $ref target narrowed",
    before: { ...obj({ p: { $ref: "#/$defs/p" } }), $defs: { p: num } },
    after: { ...obj({ p: { $ref: "#/$defs/p" } }), $defs: { p: int } },
    backward: "TYPE_NARROWED",
    forward: null,
  },
  {
    change: "a type moved into a oneOf with null",
    before: obj({ a: str }),
    after: obj({ a: { oneOf: [str, { type: "null" }] } }),
    backward: null,
    forward: "COMBINED_TYPE_CHANGED",
  },
  {
    change: "anything changed to the empty schema",
    before: obj({ a: str }, { required: ["a"] }),
    after: {},
    backward: null,
    forward: "TYPE_NARROWED",
  },
];

function typesFrom(messages: string[]): string[] {
  return messages.map((m) => /\(([A-Z_]+)\)$/.exec(m)?.[1] ?? m);
}

describe("JSON Schema compatibility, one change at a time", () => {
  test.each(cases)("BACKWARD judges '$change' as Confluent does", ({ before, after, backward }) => {
    const types = typesFrom(compatibilityMessages("BACKWARD", after, [{ version: 1, schema: before }]));
    if (backward === null) expect(types).toEqual([]);
    else expect(types).toContain(backward);
  });

  test.each(cases)("FORWARD judges '$change' as Confluent does", ({ before, after, forward }) => {
    const types = typesFrom(compatibilityMessages("FORWARD", after, [{ version: 1, schema: before }]));
    if (forward === null) expect(types).toEqual([]);
    else expect(types).toContain(forward);
  });

  test.each(cases)(
    "FULL refuses '$change' when either direction does",
    ({ before, after, backward, forward }) => {
      const messages = compatibilityMessages("FULL", after, [{ version: 1, schema: before }]);
      expect(messages.length > 0).toBe(backward !== null || forward !== null);
    },
  );

  test.each(cases)("NONE accepts '$change'", ({ before, after }) => {
    expect(compatibilityMessages("NONE", after, [{ version: 1, schema: before }])).toEqual([]);
  });
});

describe("compatibility messages and transitivity", () => {
  test("a message names the mode, the change, the pointer, who cannot read what, and the rule", () => {
    const v2 = obj({ id: str, avg_speed: num });
    const v3 = obj({ id: str, avg_speed: num }, { required: ["avg_speed"] });
    expect(compatibilityMessages("BACKWARD", v3, [{ version: 2, schema: v2 }])).toEqual([
      "BACKWARD: property 'avg_speed' became required at #/properties/avg_speed; a reader using the new schema cannot read data written with version 2 (REQUIRED_ATTRIBUTE_ADDED)",
    ]);
  });

  test("a FORWARD message tells the change in history order", () => {
    const v1 = obj({ a: str }, { required: ["a"] });
    const v2 = obj({ a: str });
    expect(compatibilityMessages("FORWARD", v2, [{ version: 1, schema: v1 }])).toEqual([
      "FORWARD: property 'a' is no longer required at #/properties/a; a reader using version 1 cannot read data written with the new schema (REQUIRED_ATTRIBUTE_ADDED)",
    ]);
  });

  // v1 has a maximum of 10; v2 drops it (backward compatible); v3 sets 20 (compatible with v2 only)
  const v1 = obj({ v: { type: "number", maximum: 10 } });
  const v2 = obj({ v: num });
  const v3 = obj({ v: { type: "number", maximum: 20 } });
  const history = [
    { version: 1, schema: v1 },
    { version: 2, schema: v2 },
  ];
  const transitivity: [CompatibilityLevel, CompatibilityLevel, JsonSchemaNode][] = [
    ["FORWARD", "FORWARD_TRANSITIVE", v3],
    ["FULL", "FULL_TRANSITIVE", v3],
  ];
  test.each(transitivity)(
    "%s checks only the latest version while %s checks them all",
    (plain, transitive, candidate) => {
      const latestOnly = compatibilityMessages(plain, candidate, history);
      const all = compatibilityMessages(transitive, candidate, history);
      expect(all.length).toBeGreaterThan(latestOnly.length);
      expect(all.some((m) => m.includes("version 1"))).toBe(true);
      expect(latestOnly.some((m) => m.includes("version 1"))).toBe(false);
    },
  );

  test("BACKWARD_TRANSITIVE refuses a change the latest version allows but an older one does not", () => {
    // v2 added a maximum while the subject was at NONE; a candidate equal to v2 passes BACKWARD
    const priors = [
      { version: 1, schema: obj({ v: num }) },
      { version: 2, schema: obj({ v: { type: "number", maximum: 10 } }) },
    ];
    const candidate = obj({ v: { type: "number", maximum: 10, description: "speed" } });
    expect(compatibilityMessages("BACKWARD", candidate, priors)).toEqual([]);
    expect(typesFrom(compatibilityMessages("BACKWARD_TRANSITIVE", candidate, priors))).toEqual([
      "MAXIMUM_ADDED",
    ]);
  });
});
