import { appendPointer, isSchemaObject } from "./json-pointer.ts";
import {
  type CompileNode,
  compilePattern,
  fail,
  invalid,
  numberKeyword,
  under,
  type ValueCheck,
} from "./json-schema-checks.ts";
import { jsonEqual } from "./json-values.ts";

/**
 * Array and object keywords of the compiled validator (JSON Schema Validation 2020-12 sections
 * 6.4 and 6.5, plus draft-07's tuple `items` / `additionalItems`).
 */

export function compileArrayKeywords(
  node: Readonly<Record<string, unknown>>,
  at: string,
  checks: ValueCheck[],
  compile: CompileNode,
): void {
  const minItems = numberKeyword(node, "minItems", at);
  const maxItems = numberKeyword(node, "maxItems", at);
  const unique = node.uniqueItems === true;
  // draft-07 tuple form `items: [..]` and 2020-12 `prefixItems`; then `items`/`additionalItems` for the rest
  const tupleNode = Array.isArray(node.items)
    ? node.items
    : Array.isArray(node.prefixItems)
      ? node.prefixItems
      : undefined;
  const tupleKey = Array.isArray(node.items) ? "items" : "prefixItems";
  const prefix = tupleNode?.map((item, i) => compile(item, appendPointer(at, tupleKey, i))) ?? [];
  const restNode = Array.isArray(node.items) ? node.additionalItems : node.items;
  const restKey = Array.isArray(node.items) ? "additionalItems" : "items";
  const rest = restNode === undefined ? undefined : compile(restNode, appendPointer(at, restKey));
  if (minItems === undefined && maxItems === undefined && !unique && prefix.length === 0 && !rest) return;
  checks.push((v) => {
    if (!Array.isArray(v)) return undefined;
    if (minItems !== undefined && v.length < minItems)
      return fail("#", "minItems", `array has fewer than ${minItems} items`);
    if (maxItems !== undefined && v.length > maxItems)
      return fail("#", "maxItems", `array has more than ${maxItems} items`);
    for (let i = 0; i < v.length; i++) {
      const check = i < prefix.length ? prefix[i] : rest;
      if (!check) continue;
      const failure = check(v[i]);
      if (failure) return under(i, failure);
    }
    if (unique) {
      for (let i = 1; i < v.length; i++) {
        for (let j = 0; j < i; j++) {
          if (jsonEqual(v[i], v[j])) return fail("#", "uniqueItems", `items ${j} and ${i} are equal`);
        }
      }
    }
    return undefined;
  });
}

export function compileObjectKeywords(
  node: Readonly<Record<string, unknown>>,
  at: string,
  checks: ValueCheck[],
  compile: CompileNode,
): void {
  const properties = node.properties;
  if (properties !== undefined && !isSchemaObject(properties))
    throw invalid(appendPointer(at, "properties"), "'properties' must be an object");
  const required = node.required;
  if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== "string"))) {
    throw invalid(appendPointer(at, "required"), "'required' must be an array of strings");
  }
  const named = Object.entries(properties ?? {}).map(
    ([name, schema]) => [name, compile(schema, appendPointer(at, "properties", name))] as const,
  );
  const byName = new Map(named);
  const patterns = Object.entries(isSchemaObject(node.patternProperties) ? node.patternProperties : {}).map(
    ([source, schema]) =>
      [
        compilePattern(source, appendPointer(at, "patternProperties")),
        compile(schema, appendPointer(at, "patternProperties", source)),
      ] as const,
  );
  const additional =
    node.additionalProperties === undefined || node.additionalProperties === true
      ? undefined
      : compile(node.additionalProperties, appendPointer(at, "additionalProperties"));
  const closed = node.additionalProperties === false;
  const requiredNames = (required ?? []) as string[];
  const minProperties = numberKeyword(node, "minProperties", at);
  const maxProperties = numberKeyword(node, "maxProperties", at);
  if (
    named.length === 0 &&
    requiredNames.length === 0 &&
    patterns.length === 0 &&
    !additional &&
    minProperties === undefined &&
    maxProperties === undefined
  ) {
    return;
  }
  const scanAll = patterns.length > 0 || additional !== undefined;
  checks.push((v) => {
    if (!isSchemaObject(v)) return undefined;
    for (const name of requiredNames) {
      if (!(name in v)) return fail("#", "required", `required property '${name}' is missing`);
    }
    if (minProperties !== undefined || maxProperties !== undefined) {
      const n = Object.keys(v).length;
      if (minProperties !== undefined && n < minProperties)
        return fail("#", "minProperties", `object has fewer than ${minProperties} properties`);
      if (maxProperties !== undefined && n > maxProperties)
        return fail("#", "maxProperties", `object has more than ${maxProperties} properties`);
    }
    if (!scanAll) {
      for (const [name, check] of named) {
        const value = v[name];
        if (value === undefined) continue;
        const failure = check(value);
        if (failure) return under(name, failure);
      }
      return undefined;
    }
    for (const name in v) {
      const value = v[name];
      const check = byName.get(name);
      let matched = check !== undefined;
      if (check) {
        const failure = check(value);
        if (failure) return under(name, failure);
      }
      for (const [regex, patternCheck] of patterns) {
        if (!regex.test(name)) continue;
        matched = true;
        const failure = patternCheck(value);
        if (failure) return under(name, failure);
      }
      if (!matched && additional) {
        if (closed)
          return fail(appendPointer("#", name), "additionalProperties", `property '${name}' is not allowed`);
        const failure = additional(value);
        if (failure) return under(name, failure);
      }
    }
    return undefined;
  });
}
