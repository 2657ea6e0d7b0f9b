import { isSchemaObject } from "./json-pointer.ts";

/**
 * What the keyword families of the JSON Schema compatibility check share: the difference they
 * report, the comparison they report it to (and recurse through, for nested schemas), and the
 * empty schema, which accepts everything and so never narrows anything.
 *
 * The comparison itself (`Differ` in json-schema-difference.ts) drives the walk and calls the
 * object and array families (json-schema-object-difference.ts, json-schema-array-difference.ts);
 * they see it only through `SchemaComparison`, so the families depend on this file and not on the
 * walk that calls them.
 */

export interface SchemaDifference {
  /** Confluent's difference type name */
  readonly type: string;
  /** where in the schema, as a JSON pointer fragment */
  readonly pointer: string;
  /** the difference told as a change from `before` to `after`, whichever schema is older */
  describe(order: DifferenceOrder): string;
}

export type DifferenceOrder = "writer-to-reader" | "reader-to-writer";

/** a schema object, once `true` and `$ref` are resolved */
export type Node = Readonly<Record<string, unknown>>;

/** the comparison of one writer schema with one reader schema, as a keyword family sees it */
export interface SchemaComparison {
  /** the incompatible differences found so far */
  readonly found: SchemaDifference[];
  /** report that `label` changed from the writer's value to the reader's */
  changed(type: string, pointer: string, label: string, writer: unknown, reader: unknown): void;
  /** compare two nested schemas, reporting their differences here */
  compare(writer: unknown, reader: unknown, at: string): void;
  /** the differences of two nested schemas, without reporting them */
  quietly(writer: unknown, reader: unknown, at: string): SchemaDifference[];
}

/** keywords that constrain nothing: a schema of only these accepts every value */
const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "definitions",
  "$defs",
  "readOnly",
  "writeOnly",
  "deprecated",
  "format",
]);

export function isEmptySchema(node: unknown): boolean {
  return node === true || (isSchemaObject(node) && Object.keys(node).every((k) => ANNOTATIONS.has(k)));
}
