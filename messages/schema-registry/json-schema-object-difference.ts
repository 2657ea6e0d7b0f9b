import { appendPointer, isSchemaObject } from "./json-pointer.ts";
import {
  type DifferenceOrder,
  isEmptySchema,
  type Node,
  type SchemaComparison,
} from "./json-schema-comparison.ts";

/**
 * Object keywords of the JSON Schema compatibility check (Confluent `ObjectSchemaDiff`):
 * `required`, `properties` under an open, partially open or closed content model,
 * `additionalProperties` itself, and property and schema dependencies.
 *
 * The content model decides what a property that only one side names may hold. It is open when
 * nothing restricts other properties (no patternProperties, additionalProperties absent or true);
 * partially open when a property name is still covered by a schema, the first patternProperties
 * entry whose pattern matches the name or else a schema in additionalProperties; closed when
 * additionalProperties is false. `unevaluatedProperties` stands in for additionalProperties when
 * the latter is absent (a 2019-09 closed model is `unevaluatedProperties: false`).
 */

function additionalOf(node: Node): unknown {
  return node.additionalProperties ?? node.unevaluatedProperties ?? true;
}

function patternsOf(node: Node): Array<[RegExp, unknown]> {
  if (!isSchemaObject(node.patternProperties)) return [];
  const out: Array<[RegExp, unknown]> = [];
  for (const [source, schema] of Object.entries(node.patternProperties)) {
    try {
      out.push([new RegExp(source, "u"), schema]);
    } catch (error) {
      // the validator refuses such a schema at registration; a stored one stays comparable
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return out;
}

function isOpenModel(node: Node): boolean {
  const additional = additionalOf(node);
  return patternsOf(node).length === 0 && (additional === true || additional === undefined);
}

/** the schema still covering `name` in a model that is not open; undefined when closed to it */
function coveringSchema(node: Node, name: string): unknown {
  for (const [pattern, schema] of patternsOf(node)) if (pattern.test(name)) return schema;
  const additional = additionalOf(node);
  return additional === false || additional === true ? undefined : additional;
}

export function objectDifferences(d: SchemaComparison, w: Node, r: Node, at: string): void {
  const wProps = (isSchemaObject(w.properties) ? w.properties : {}) as Node;
  const rProps = (isSchemaObject(r.properties) ? r.properties : {}) as Node;
  const wRequired = new Set((w.required as string[] | undefined) ?? []);
  const rRequired = new Set((r.required as string[] | undefined) ?? []);
  const wAdditional = additionalOf(w);
  const rAdditional = additionalOf(r);
  const wOpen = isOpenModel(w);
  const rOpen = isOpenModel(r);

  for (const name of rRequired) {
    if (wRequired.has(name) || !(name in wProps)) continue;
    d.found.push({
      type: "REQUIRED_ATTRIBUTE_ADDED",
      pointer: appendPointer(at, "properties", name),
      describe: (order) =>
        order === "writer-to-reader"
          ? `property '${name}' became required`
          : `property '${name}' is no longer required`,
    });
  }
  for (const [name, readerProp] of Object.entries(rProps)) {
    const pointer = appendPointer(at, "properties", name);
    if (name in wProps) {
      d.compare(wProps[name], readerProp, pointer);
      continue;
    }
    const addedOrRemoved = (reason: string) => (order: DifferenceOrder) =>
      order === "writer-to-reader"
        ? `property '${name}' was added ${reason}`
        : `property '${name}' was removed ${reason}`;
    if (wOpen) {
      if (isEmptySchema(readerProp) && !rRequired.has(name)) continue;
      d.found.push({
        type: "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        pointer,
        describe: addedOrRemoved(
          "while the other schema is open to any additional property (additionalProperties is not false)",
        ),
      });
      continue;
    }
    const covering = coveringSchema(w, name);
    if (covering !== undefined && d.quietly(covering, readerProp, pointer).length > 0) {
      d.found.push({
        type: "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        pointer,
        describe: addedOrRemoved("and is not covered by patternProperties or additionalProperties"),
      });
    }
    if (rRequired.has(name) && !(isSchemaObject(readerProp) && "default" in readerProp)) {
      d.found.push({
        type: "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        pointer,
        describe: addedOrRemoved("as required without a default"),
      });
    }
  }
  for (const [name, writerProp] of Object.entries(wProps)) {
    if (name in rProps || rOpen) continue;
    const pointer = appendPointer(at, "properties", name);
    const covering = coveringSchema(r, name);
    if (covering === undefined) {
      // a property the writer forbade (`false`) never occurs in its data: dropping it is safe
      if (writerProp === false) continue;
      d.found.push({
        type: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        pointer,
        describe: (order) =>
          order === "writer-to-reader"
            ? `property '${name}' was removed from a closed content model`
            : `property '${name}' was added to a schema that was closed`,
      });
    } else if (d.quietly(writerProp, covering, pointer).length > 0) {
      d.found.push({
        type: "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        pointer,
        describe: (order) =>
          order === "writer-to-reader"
            ? `property '${name}' was removed and is not covered by patternProperties or additionalProperties`
            : `property '${name}' was added where patternProperties or additionalProperties held other values`,
      });
    }
  }
  dependencyDifferences(d, w, r, at);
  const pointer = appendPointer(at, "additionalProperties");
  if (wAdditional === false || isEmptySchema(rAdditional)) return;
  if (isEmptySchema(wAdditional)) {
    d.changed(
      rAdditional === false ? "ADDITIONAL_PROPERTIES_REMOVED" : "ADDITIONAL_PROPERTIES_NARROWED",
      pointer,
      "additionalProperties",
      w.additionalProperties ?? w.unevaluatedProperties,
      r.additionalProperties ?? r.unevaluatedProperties,
    );
  } else {
    d.compare(wAdditional, rAdditional, pointer);
  }
}

/** draft-07 `dependencies` split as 2019-09 does: name lists (dependentRequired) and schemas */
function dependenciesOf(node: Node): { required: Map<string, string[]>; schemas: Map<string, unknown> } {
  const required = new Map<string, string[]>();
  const schemas = new Map<string, unknown>();
  const take = (source: unknown) => {
    if (!isSchemaObject(source)) return;
    for (const [name, value] of Object.entries(source)) {
      if (Array.isArray(value)) required.set(name, value as string[]);
      else schemas.set(name, value);
    }
  };
  take(node.dependencies);
  take(node.dependentRequired);
  take(node.dependentSchemas);
  return { required, schemas };
}

/**
 * A dependency the reader adds, or a name list it extends or changes, refuses writer data that
 * has the property without the others; one it drops or narrows accepts more.
 */
function dependencyDifferences(d: SchemaComparison, w: Node, r: Node, at: string): void {
  const writer = dependenciesOf(w);
  const reader = dependenciesOf(r);
  for (const [name, readerNames] of reader.required) {
    const pointer = appendPointer(at, "dependencies", name);
    const writerNames = writer.required.get(name);
    if (writerNames === undefined) {
      d.changed("DEPENDENCY_ARRAY_ADDED", pointer, `dependencies of '${name}'`, undefined, readerNames);
      continue;
    }
    const extra = readerNames.filter((n) => !writerNames.includes(n));
    if (extra.length === 0) continue;
    const narrowed = writerNames.every((n) => readerNames.includes(n));
    d.changed(
      narrowed ? "DEPENDENCY_ARRAY_EXTENDED" : "DEPENDENCY_ARRAY_CHANGED",
      pointer,
      `dependencies of '${name}'`,
      writerNames,
      readerNames,
    );
  }
  for (const [name, readerSchema] of reader.schemas) {
    const pointer = appendPointer(at, "dependencies", name);
    if (!writer.schemas.has(name)) {
      d.changed(
        "DEPENDENCY_SCHEMA_ADDED",
        pointer,
        `dependency schema of '${name}'`,
        undefined,
        readerSchema,
      );
    } else d.compare(writer.schemas.get(name), readerSchema, pointer);
  }
}
