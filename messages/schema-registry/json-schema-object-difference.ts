import { appendPointer, isSchemaObject } from "./json-pointer.ts";
import { type Differ, isEmptySchema, type Node, type SchemaDifference } from "./json-schema-difference.ts";

/**
 * Object keywords of the JSON Schema compatibility check (Confluent `ObjectSchemaDiff`):
 * `required`, `properties` under an open, partially open (additionalProperties is a schema) or
 * closed (additionalProperties: false) content model, and `additionalProperties` itself.
 */
type Order = Parameters<SchemaDifference["describe"]>[0];

export function objectDifferences(d: Differ, w: Node, r: Node, at: string): void {
  const wProps = (isSchemaObject(w.properties) ? w.properties : {}) as Node;
  const rProps = (isSchemaObject(r.properties) ? r.properties : {}) as Node;
  const wRequired = new Set((w.required as string[] | undefined) ?? []);
  const rRequired = new Set((r.required as string[] | undefined) ?? []);
  const wAdditional = w.additionalProperties ?? true;
  const rAdditional = r.additionalProperties ?? true;
  const wOpen = isEmptySchema(wAdditional);

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
    const addedOrRemoved = (reason: string) => (order: Order) =>
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
    } else if (wAdditional !== false) {
      if (d.quietly(wAdditional, readerProp, pointer).length === 0 && !rRequired.has(name)) continue;
      d.found.push({
        type: "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        pointer,
        describe: addedOrRemoved("and is not covered by additionalProperties"),
      });
    } else if (rRequired.has(name) && !(isSchemaObject(readerProp) && "default" in readerProp)) {
      d.found.push({
        type: "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        pointer,
        describe: addedOrRemoved("as required without a default"),
      });
    }
  }
  for (const [name, writerProp] of Object.entries(wProps)) {
    if (name in rProps) continue;
    const pointer = appendPointer(at, "properties", name);
    const describe = (order: Order) =>
      order === "writer-to-reader"
        ? `property '${name}' was removed from a closed content model`
        : `property '${name}' was added to a schema that was closed`;
    if (rAdditional === false) {
      d.found.push({ type: "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", pointer, describe });
    } else if (!isEmptySchema(rAdditional) && d.quietly(writerProp, rAdditional, pointer).length > 0) {
      d.found.push({
        type: "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        pointer,
        describe,
      });
    }
  }
  const pointer = appendPointer(at, "additionalProperties");
  if (wAdditional === false || isEmptySchema(rAdditional)) return;
  if (wOpen) {
    d.changed(
      rAdditional === false ? "ADDITIONAL_PROPERTIES_REMOVED" : "ADDITIONAL_PROPERTIES_NARROWED",
      pointer,
      "additionalProperties",
      w.additionalProperties,
      r.additionalProperties,
    );
  } else {
    d.compare(wAdditional, rAdditional, pointer);
  }
}
