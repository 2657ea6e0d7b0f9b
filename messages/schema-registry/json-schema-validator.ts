import { appendPointer, isSchemaObject, type JsonSchemaNode, resolveLocalRef } from "./json-pointer.ts";
import {
  type CompileNode,
  compilePattern,
  fail,
  invalid,
  numberKeyword,
  type ValueCheck,
} from "./json-schema-checks.ts";
import { compileArrayKeywords, compileObjectKeywords } from "./json-schema-structure-keywords.ts";
import { describeJsonType, hasType, jsonEqual } from "./json-values.ts";

/**
 * A compiled JSON Schema validator for the subset the registry supports (draft-07 and 2020-12
 * keywords listed in `SUPPORTED_KEYWORDS`; unknown keywords are annotations and are ignored, as
 * the spec says). The schema is walked once into a tree of closures, so validating a value does
 * no keyword lookups; the JSON pointer of a failure is built only when a value fails.
 *
 * Source: JSON Schema Validation, draft 2020-12, sections 6.1-6.5 (type, enum, const, numeric,
 * string, array and object keywords) and JSON Schema Core section 10.2 (allOf/anyOf/oneOf/not).
 * `format` is not asserted (it is an annotation by default in 2020-12).
 */

const TYPE_NAMES = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);

export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

class Compiler {
  private readonly compiled = new Map<JsonSchemaNode, ValueCheck>();
  constructor(private readonly root: JsonSchemaNode) {}

  compile(node: unknown, at: string): ValueCheck {
    if (node === true) return () => undefined;
    if (node === false) return () => fail("#", "false", "no value is allowed here");
    if (!isSchemaObject(node)) throw invalid(at, "a schema must be an object or a boolean");
    const known = this.compiled.get(node);
    if (known) return known;
    // a recursive $ref reaches this node again while it is being built: route it through a thunk
    let built: ValueCheck | undefined;
    this.compiled.set(node, (value) => built!(value));
    built = this.build(node, at);
    this.compiled.set(node, built);
    return built;
  }

  private build(node: Readonly<Record<string, unknown>>, at: string): ValueCheck {
    const checks: ValueCheck[] = [];
    const compile: CompileNode = (child, childAt) => this.compile(child, childAt);
    if (node.$ref !== undefined) {
      if (typeof node.$ref !== "string") throw invalid(at, "'$ref' must be a string");
      checks.push(this.compile(resolveLocalRef(this.root, node.$ref), node.$ref));
    }
    this.typeAndValues(node, at, checks);
    this.numeric(node, at, checks);
    this.strings(node, at, checks);
    compileArrayKeywords(node, at, checks, compile);
    compileObjectKeywords(node, at, checks, compile);
    this.combinators(node, at, checks);
    // validate nested schema containers that only hold definitions, so a bad one is still refused
    for (const key of ["definitions", "$defs"]) {
      const defs = node[key];
      if (defs === undefined) continue;
      if (!isSchemaObject(defs)) throw invalid(appendPointer(at, key), `'${key}' must be an object`);
      for (const [name, def] of Object.entries(defs)) this.compile(def, appendPointer(at, key, name));
    }
    if (checks.length === 0) return () => undefined;
    if (checks.length === 1) return checks[0]!;
    return (value) => {
      for (const check of checks) {
        const failure = check(value);
        if (failure) return failure;
      }
      return undefined;
    };
  }

  private typeAndValues(node: Readonly<Record<string, unknown>>, at: string, checks: ValueCheck[]): void {
    if (node.type !== undefined) {
      const types = Array.isArray(node.type) ? node.type : [node.type];
      for (const t of types) {
        if (typeof t !== "string" || !TYPE_NAMES.has(t))
          throw invalid(appendPointer(at, "type"), `unknown type ${JSON.stringify(t)}`);
      }
      const names = types as string[];
      const expected = names.join(" or ");
      if (names.length === 1) {
        const only = names[0]!;
        checks.push((v) =>
          hasType(v, only)
            ? undefined
            : fail("#", "type", `expected ${expected}, got ${describeJsonType(v)}`),
        );
      } else {
        checks.push((v) =>
          names.some((t) => hasType(v, t))
            ? undefined
            : fail("#", "type", `expected ${expected}, got ${describeJsonType(v)}`),
        );
      }
    }
    if (node.enum !== undefined) {
      if (!Array.isArray(node.enum)) throw invalid(appendPointer(at, "enum"), "'enum' must be an array");
      const allowed = node.enum as unknown[];
      const primitives = allowed.every((a) => a === null || typeof a !== "object")
        ? new Set(allowed)
        : undefined;
      checks.push((v) =>
        (primitives ? primitives.has(v) : allowed.some((a) => jsonEqual(a, v)))
          ? undefined
          : fail("#", "enum", `${JSON.stringify(v)} is not one of ${JSON.stringify(allowed)}`),
      );
    }
    if ("const" in node) {
      const expected = node.const;
      checks.push((v) =>
        jsonEqual(v, expected) ? undefined : fail("#", "const", `expected ${JSON.stringify(expected)}`),
      );
    }
  }

  private numeric(node: Readonly<Record<string, unknown>>, at: string, checks: ValueCheck[]): void {
    const min = numberKeyword(node, "minimum", at);
    const max = numberKeyword(node, "maximum", at);
    // draft-04 wrote exclusiveMinimum as a boolean modifier of minimum
    const exMin =
      typeof node.exclusiveMinimum === "boolean"
        ? node.exclusiveMinimum
          ? min
          : undefined
        : numberKeyword(node, "exclusiveMinimum", at);
    const exMax =
      typeof node.exclusiveMaximum === "boolean"
        ? node.exclusiveMaximum
          ? max
          : undefined
        : numberKeyword(node, "exclusiveMaximum", at);
    const multipleOf = numberKeyword(node, "multipleOf", at);
    if (multipleOf !== undefined && multipleOf <= 0)
      throw invalid(appendPointer(at, "multipleOf"), "'multipleOf' must be > 0");
    if (
      min === undefined &&
      max === undefined &&
      exMin === undefined &&
      exMax === undefined &&
      multipleOf === undefined
    )
      return;
    checks.push((v) => {
      if (typeof v !== "number") return undefined;
      if (min !== undefined && v < min) return fail("#", "minimum", `${v} is less than the minimum ${min}`);
      if (max !== undefined && v > max)
        return fail("#", "maximum", `${v} is greater than the maximum ${max}`);
      if (exMin !== undefined && v <= exMin)
        return fail("#", "exclusiveMinimum", `${v} is not greater than ${exMin}`);
      if (exMax !== undefined && v >= exMax)
        return fail("#", "exclusiveMaximum", `${v} is not less than ${exMax}`);
      if (multipleOf !== undefined) {
        const q = v / multipleOf;
        if (Math.abs(q - Math.round(q)) > 1e-9)
          return fail("#", "multipleOf", `${v} is not a multiple of ${multipleOf}`);
      }
      return undefined;
    });
  }

  private strings(node: Readonly<Record<string, unknown>>, at: string, checks: ValueCheck[]): void {
    const minLength = numberKeyword(node, "minLength", at);
    const maxLength = numberKeyword(node, "maxLength", at);
    let pattern: RegExp | undefined;
    if (node.pattern !== undefined) {
      if (typeof node.pattern !== "string")
        throw invalid(appendPointer(at, "pattern"), "'pattern' must be a string");
      pattern = compilePattern(node.pattern, appendPointer(at, "pattern"));
    }
    if (minLength === undefined && maxLength === undefined && pattern === undefined) return;
    checks.push((v) => {
      if (typeof v !== "string") return undefined;
      if (minLength !== undefined && (v.length < minLength || codePoints(v) < minLength)) {
        return fail("#", "minLength", `string is shorter than ${minLength} characters`);
      }
      if (maxLength !== undefined && v.length > maxLength && codePoints(v) > maxLength) {
        return fail("#", "maxLength", `string is longer than ${maxLength} characters`);
      }
      if (pattern && !pattern.test(v))
        return fail("#", "pattern", `string does not match /${pattern.source}/`);
      return undefined;
    });
  }

  private combinators(node: Readonly<Record<string, unknown>>, at: string, checks: ValueCheck[]): void {
    for (const key of ["allOf", "anyOf", "oneOf"] as const) {
      const list = node[key];
      if (list === undefined) continue;
      if (!Array.isArray(list) || list.length === 0)
        throw invalid(appendPointer(at, key), `'${key}' must be a non-empty array`);
      const branches = list.map((branch, i) => this.compile(branch, appendPointer(at, key, i)));
      if (key === "allOf") {
        checks.push((v) => {
          for (const branch of branches) {
            const failure = branch(v);
            if (failure) return failure;
          }
          return undefined;
        });
      } else if (key === "anyOf") {
        checks.push((v) =>
          branches.some((b) => b(v) === undefined)
            ? undefined
            : fail("#", "anyOf", "value matches none of the anyOf schemas"),
        );
      } else {
        checks.push((v) => {
          const matches = branches.filter((b) => b(v) === undefined).length;
          return matches === 1
            ? undefined
            : fail("#", "oneOf", `value matches ${matches} of the oneOf schemas, expected exactly 1`);
        });
      }
    }
    if (node.not !== undefined) {
      const negated = this.compile(node.not, appendPointer(at, "not"));
      checks.push((v) =>
        negated(v) === undefined ? fail("#", "not", "value matches the 'not' schema") : undefined,
      );
    }
  }
}

/**
 * Compile a parsed JSON Schema into a check. Throws SCHEMA_INVALID (the registry's 42201) when
 * the schema itself is malformed: unknown type names, bad regexes, unresolved `$ref`s, etc.
 */
export function compileJsonSchema(schema: unknown): ValueCheck {
  if (typeof schema !== "boolean" && !isSchemaObject(schema))
    throw invalid("#", "a schema must be an object or a boolean");
  return new Compiler(schema).compile(schema, "#");
}
