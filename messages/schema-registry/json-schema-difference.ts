import { ErrorCodes, PlatformError } from "../errors.ts";
import { appendPointer, isSchemaObject, type JsonSchemaNode, resolveLocalRef } from "./json-pointer.ts";
import { arrayDifferences } from "./json-schema-array-difference.ts";
import {
  isEmptySchema,
  type Node,
  type SchemaComparison,
  type SchemaDifference,
} from "./json-schema-comparison.ts";
import { objectDifferences } from "./json-schema-object-difference.ts";
import { jsonEqual } from "./json-values.ts";

/**
 * The JSON Schema compatibility checker: finds every change between a writer schema and a reader
 * schema that lets the writer produce a value the reader refuses.
 *
 * It follows Confluent Schema Registry's JSON Schema diff (`io.confluent.kafka.schemaregistry.
 * json.diff.SchemaDiff`): a BACKWARD check is `differences(writer = old, reader = new)`, FORWARD
 * is `differences(writer = new, reader = old)`, and only the difference types Confluent counts as
 * incompatible are reported, under Confluent's names (TYPE_NARROWED, REQUIRED_ATTRIBUTE_ADDED,
 * PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, ENUM_ARRAY_NARROWED, MAXIMUM_DECREASED, ...). In short:
 * - type: the reader must accept every writer type; integer -> number is a widening;
 * - objects: a property that becomes required breaks; a property added to an open content model
 *   (additionalProperties absent or true) breaks unless its schema is empty, because old data may
 *   hold anything under that name; a property removed from a closed model breaks; closing an
 *   open model breaks; a required property added to a closed model breaks unless it has a default;
 * - enum/const/pattern/multipleOf/uniqueItems added or narrowed breaks; removed or widened is fine;
 * - min* raised or added and max* lowered or added break;
 * - nested objects, array `items`, local `$ref`s, anyOf/oneOf/allOf are compared recursively.
 */

function fmt(value: unknown): string {
  return value === undefined ? "none" : JSON.stringify(value);
}

function typesOf(node: Node): Set<string> | undefined {
  if (node.type === undefined) return undefined;
  return new Set(Array.isArray(node.type) ? (node.type as string[]) : [node.type as string]);
}

function accepts(readerTypes: Set<string>, writerType: string): boolean {
  return readerTypes.has(writerType) || (writerType === "integer" && readerTypes.has("number"));
}

const LOWER_BOUNDS = [
  "minimum",
  "exclusiveMinimum",
  "minLength",
  "minItems",
  "minProperties",
  "minContains",
] as const;
const UPPER_BOUNDS = [
  "maximum",
  "exclusiveMaximum",
  "maxLength",
  "maxItems",
  "maxProperties",
  "maxContains",
] as const;

function confluentName(keyword: string, change: "ADDED" | "INCREASED" | "DECREASED" | "CHANGED"): string {
  return `${keyword.replace(/([A-Z])/g, "_$1").toUpperCase()}_${change}`;
}

interface PairsInProgress {
  readonly pairs: Map<unknown, Set<unknown>>;
  depth: number;
}

/** deeper than any schema within MAX_SCHEMA_DEPTH gets without a cycle of references */
const MAX_COMPARISON_DEPTH = 1_000;

class Differ implements SchemaComparison {
  readonly found: SchemaDifference[] = [];
  private readonly seen = new Map<unknown, Set<unknown>>();

  constructor(
    private readonly writerRoot: JsonSchemaNode,
    private readonly readerRoot: JsonSchemaNode,
    /**
     * The pairs being compared right now, shared with the probes (`quietly`) this comparison
     * starts: a probe that comes back to a pair on the way to it met a cycle of `$ref`s, and a
     * cycle adds no difference of its own (`seen` alone is per probe, so the cycle would go on
     * through probes until the stack overflowed).
     */
    private readonly comparing: PairsInProgress = { pairs: new Map(), depth: 0 },
  ) {}

  add(
    type: string,
    pointer: string,
    writer: unknown,
    reader: unknown,
    phrase: (before: unknown, after: unknown) => string,
  ): void {
    this.found.push({
      type,
      pointer,
      describe: (order) => (order === "writer-to-reader" ? phrase(writer, reader) : phrase(reader, writer)),
    });
  }

  changed(type: string, pointer: string, label: string, writer: unknown, reader: unknown): void {
    this.add(type, pointer, writer, reader, (b, a) => `${label} changed from ${fmt(b)} to ${fmt(a)}`);
  }

  private deref(node: unknown, root: JsonSchemaNode): unknown {
    let current = node;
    for (let hops = 0; hops < 32 && isSchemaObject(current) && typeof current.$ref === "string"; hops++) {
      const target = resolveLocalRef(root, current.$ref);
      const { $ref: _, ...siblings } = current;
      current = isEmptySchema(siblings)
        ? target
        : isSchemaObject(target)
          ? { ...target, ...siblings }
          : target;
    }
    return current;
  }

  /**
   * allOf in the writer is an intersection: fold its branches into one schema for comparison. A
   * branch that leads back to a schema being folded (`{"allOf":[{"$ref":"#"}]}`) is that schema
   * intersected with itself again, which adds nothing: it is skipped, or the fold never ends.
   */
  private flattenAllOf(node: Node, root: JsonSchemaNode, folding = new Set<unknown>()): Node {
    if (!Array.isArray(node.allOf)) return node;
    folding.add(node);
    const { allOf, ...rest } = node;
    let merged: Record<string, unknown> = { ...rest };
    for (const raw of allOf as unknown[]) {
      const branch = this.deref(raw, root);
      if (!isSchemaObject(branch) || folding.has(branch)) continue;
      const flat = this.flattenAllOf(branch, root, folding);
      merged = {
        ...flat,
        ...merged,
        properties: { ...(flat.properties as object), ...(merged.properties as object) },
        required: [
          ...new Set([...((flat.required as string[]) ?? []), ...((merged.required as string[]) ?? [])]),
        ],
      };
    }
    return merged;
  }

  compare(writerIn: unknown, readerIn: unknown, at: string): void {
    const writer = this.deref(writerIn, this.writerRoot);
    const reader = this.deref(readerIn, this.readerRoot);
    if (isEmptySchema(reader) || writer === false) return;
    if (reader === false) {
      this.add("SCHEMA_REMOVED", at, writer, reader, (_b, a) =>
        a === false ? "schema became false (accepts nothing)" : "schema stopped being false",
      );
      return;
    }
    const w: Node = writer === true ? {} : (writer as Node);
    const r = reader as Node;
    const pairs = this.seen.get(w) ?? new Set();
    if (pairs.has(r)) return; // recursive schemas: this pair is already being compared
    pairs.add(r);
    this.seen.set(w, pairs);
    const inProgress = this.comparing.pairs.get(w) ?? new Set();
    if (inProgress.has(r)) return;
    // a bound for what identity cannot catch (allOf folded into a new object at every turn)
    if (this.comparing.depth >= MAX_COMPARISON_DEPTH)
      throw new PlatformError(
        ErrorCodes.SCHEMA_INVALID,
        `Invalid schema: comparing it nests more than ${MAX_COMPARISON_DEPTH} levels deep through its references`,
        { details: { registryErrorCode: 42201, maximum: MAX_COMPARISON_DEPTH } },
      );
    inProgress.add(r);
    this.comparing.pairs.set(w, inProgress);
    this.comparing.depth++;
    try {
      this.comparePair(w, r, at);
    } finally {
      this.comparing.depth--;
      inProgress.delete(r);
    }
  }

  private comparePair(w: Node, r: Node, at: string): void {
    if (this.combined(w, r, at)) return;
    this.types(w, r, at);
    this.values(w, r, at);
    this.bounds(w, r, at);
    objectDifferences(this, w, r, at);
    arrayDifferences(this, w, r, at);
    if (r.not !== undefined) {
      const pointer = appendPointer(at, "not");
      if (w.not === undefined) this.changed("NOT_TYPE_ADDED", pointer, "not", w.not, r.not);
      // what the reader excludes must already be excluded by the writer: the exclusions compare
      // reversed (reader's `not` as the writer), so a narrower `not` is compatible (NOT_TYPE_NARROWED)
      else if (!jsonEqual(w.not, r.not) && this.quietly(r.not, w.not, pointer).length > 0)
        this.changed("NOT_TYPE_EXTENDED", pointer, "not", w.not, r.not);
    }
  }

  quietly(writer: unknown, reader: unknown, at: string): SchemaDifference[] {
    const probe = new Differ(this.writerRoot, this.readerRoot, this.comparing);
    probe.compare(writer, reader, at);
    return probe.found;
  }

  /** anyOf / oneOf / allOf; returns true when it fully handled the pair */
  private combined(w: Node, r: Node, at: string): boolean {
    if (Array.isArray(r.allOf)) {
      const { allOf, ...rest } = r;
      for (const [i, branch] of (allOf as unknown[]).entries())
        this.compare(w, branch, appendPointer(at, "allOf", i));
      if (!isEmptySchema(rest)) this.compare(w, rest, at);
      return true;
    }
    if (Array.isArray(w.allOf)) {
      if (Array.isArray(r.anyOf) || Array.isArray(r.oneOf)) this.allOfToAlternatives(w, r, at);
      else this.compare(this.flattenAllOf(w, this.writerRoot), r, at);
      return true;
    }
    const readerKey = Array.isArray(r.anyOf) ? "anyOf" : Array.isArray(r.oneOf) ? "oneOf" : undefined;
    const writerBranches = (
      Array.isArray(w.anyOf) ? w.anyOf : Array.isArray(w.oneOf) ? w.oneOf : undefined
    ) as unknown[] | undefined;
    if (!readerKey && !writerBranches) return false;
    const readerBranches = readerKey ? (r[readerKey] as unknown[]) : [r];
    (writerBranches ?? [w]).forEach((writerBranch, i) => {
      const fits = readerBranches.some(
        (readerBranch) => this.quietly(writerBranch, readerBranch, at).length === 0,
      );
      if (fits) return;
      const pointer = writerBranches ? appendPointer(at, Array.isArray(w.anyOf) ? "anyOf" : "oneOf", i) : at;
      this.add(
        "COMBINED_TYPE_CHANGED",
        pointer,
        writerBranch,
        readerKey ? r[readerKey] : r,
        (b, a) => `alternatives changed from ${fmt(b)} to ${fmt(a)}`,
      );
    });
    return true;
  }

  /**
   * allOf turned into anyOf/oneOf, judged as Confluent's CombinedSchemaDiff does: allOf -> oneOf
   * over several subschemas changes the combination (a value matching two branches stops being
   * valid); fewer subschemas narrows the sum type; otherwise every subschema of the smaller side
   * must pair off with a compatible one of the other (a maximum bipartite matching).
   */
  private allOfToAlternatives(w: Node, r: Node, at: string): void {
    const writerBranches = uniqueBranches(w.allOf as unknown[]);
    const readerKey = Array.isArray(r.anyOf) ? "anyOf" : "oneOf";
    const readerBranches = uniqueBranches(r[readerKey] as unknown[]);
    const describe = (b: unknown, a: unknown) => `alternatives changed from ${fmt(b)} to ${fmt(a)}`;
    if (readerKey === "oneOf" && writerBranches.length !== 1) {
      this.add("COMBINED_TYPE_CHANGED", at, w.allOf, r.oneOf, describe);
      return;
    }
    if (writerBranches.length > readerBranches.length) {
      this.add("SUM_TYPE_NARROWED", at, w.allOf, r[readerKey], describe);
      return;
    }
    const fits = writerBranches.map((writerBranch, i) =>
      readerBranches.map(
        (readerBranch) =>
          this.quietly(writerBranch, readerBranch, appendPointer(at, "allOf", i)).length === 0,
      ),
    );
    if (maximumMatching(fits) < writerBranches.length)
      this.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED", at, w.allOf, r[readerKey], describe);
  }

  private types(w: Node, r: Node, at: string): void {
    const readerTypes = typesOf(r);
    if (!readerTypes) return;
    const writerTypes = typesOf(w);
    const pointer = appendPointer(at, "type");
    if (!writerTypes) {
      this.changed("TYPE_NARROWED", pointer, "type", undefined, r.type);
      return;
    }
    const lost = [...writerTypes].filter((t) => !accepts(readerTypes, t));
    if (lost.length === 0) return;
    const narrowed = [...readerTypes].every(
      (t) => writerTypes.has(t) || (t === "integer" && writerTypes.has("number")),
    );
    this.changed(narrowed ? "TYPE_NARROWED" : "TYPE_CHANGED", pointer, "type", w.type, r.type);
  }

  private values(w: Node, r: Node, at: string): void {
    if (Array.isArray(r.enum)) {
      const pointer = appendPointer(at, "enum");
      if (!Array.isArray(w.enum)) {
        this.changed("ENUM_ARRAY_ADDED", pointer, "enum", w.enum, r.enum);
      } else {
        const readerEnum = r.enum as unknown[];
        const writerEnum = w.enum as unknown[];
        const missing = writerEnum.filter((v) => !readerEnum.some((x) => jsonEqual(x, v)));
        if (missing.length > 0) {
          const narrowed = readerEnum.every((v) => writerEnum.some((x) => jsonEqual(x, v)));
          this.add(
            narrowed ? "ENUM_ARRAY_NARROWED" : "ENUM_ARRAY_CHANGED",
            pointer,
            writerEnum,
            readerEnum,
            (b, a) => {
              const after = a as unknown[];
              const dropped = (b as unknown[]).filter((v) => !after.some((x) => jsonEqual(x, v)));
              return dropped.length > 0
                ? `enum lost ${fmt(dropped)} (now ${fmt(after)})`
                : `enum gained values (now ${fmt(after)})`;
            },
          );
        }
      }
    }
    if ("const" in r && !jsonEqual(w.const, r.const)) {
      this.changed(
        "const" in w ? "CONST_CHANGED" : "CONST_ADDED",
        appendPointer(at, "const"),
        "const",
        w.const,
        r.const,
      );
    }
    if (r.pattern !== undefined && r.pattern !== w.pattern) {
      this.changed(
        w.pattern === undefined ? "PATTERN_ADDED" : "PATTERN_CHANGED",
        appendPointer(at, "pattern"),
        "pattern",
        w.pattern,
        r.pattern,
      );
    }
    if (r.uniqueItems === true && w.uniqueItems !== true) {
      this.changed(
        "UNIQUE_ITEMS_ADDED",
        appendPointer(at, "uniqueItems"),
        "uniqueItems",
        w.uniqueItems,
        r.uniqueItems,
      );
    }
    if (typeof r.multipleOf === "number") {
      const wm = w.multipleOf;
      if (typeof wm !== "number" || Math.abs(wm / r.multipleOf - Math.round(wm / r.multipleOf)) > 1e-9) {
        this.changed(
          typeof wm === "number" ? "MULTIPLE_OF_CHANGED" : "MULTIPLE_OF_ADDED",
          appendPointer(at, "multipleOf"),
          "multipleOf",
          wm,
          r.multipleOf,
        );
      }
    }
  }

  private bounds(w: Node, r: Node, at: string): void {
    for (const key of LOWER_BOUNDS) {
      const rb = r[key];
      if (typeof rb !== "number") continue;
      const wb = w[key];
      if (typeof wb !== "number")
        this.changed(confluentName(key, "ADDED"), appendPointer(at, key), key, wb, rb);
      else if (rb > wb) this.changed(confluentName(key, "INCREASED"), appendPointer(at, key), key, wb, rb);
    }
    for (const key of UPPER_BOUNDS) {
      const rb = r[key];
      if (typeof rb !== "number") continue;
      const wb = w[key];
      if (typeof wb !== "number")
        this.changed(confluentName(key, "ADDED"), appendPointer(at, key), key, wb, rb);
      else if (rb < wb) this.changed(confluentName(key, "DECREASED"), appendPointer(at, key), key, wb, rb);
    }
  }
}

/** subschemas with duplicates collapsed, as Confluent collects them into a set */
function uniqueBranches(branches: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const branch of branches) if (!out.some((seen) => jsonEqual(seen, branch))) out.push(branch);
  return out;
}

/** size of a maximum matching in a bipartite graph given as fits[left][right] (Kuhn's algorithm) */
function maximumMatching(fits: readonly (readonly boolean[])[]): number {
  const owner: number[] = [];
  const tryAssign = (left: number, visited: Set<number>): boolean => {
    for (const [right, fit] of (fits[left] ?? []).entries()) {
      if (!fit || visited.has(right)) continue;
      visited.add(right);
      const current = owner[right];
      if (current === undefined || tryAssign(current, visited)) {
        owner[right] = left;
        return true;
      }
    }
    return false;
  };
  let size = 0;
  for (let left = 0; left < fits.length; left++) if (tryAssign(left, new Set())) size++;
  return size;
}

/** every incompatible difference for a reader reading data a writer produced; empty = compatible */
export function jsonSchemaDifferences(writer: JsonSchemaNode, reader: JsonSchemaNode): SchemaDifference[] {
  const differ = new Differ(writer, reader);
  differ.compare(writer, reader, "#");
  return differ.found;
}
