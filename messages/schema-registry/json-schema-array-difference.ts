import { appendPointer } from "./json-pointer.ts";
import { isEmptySchema, type Node, type SchemaComparison } from "./json-schema-comparison.ts";

/**
 * Array keywords of the JSON Schema compatibility check (Confluent `ArraySchemaDiff`): the schema
 * of every item, and tuples, positional item schemas (`prefixItems`, or draft-07 `items` as an
 * array) with the schema of the items past them (`items` after prefixItems, or `additionalItems`).
 *
 * A tuple position only one side names is judged by the other side's content model, as for
 * object properties: open (nothing constrains extra items, unevaluatedItems absent or true),
 * partially open (extra items must match a schema) or closed (extra items are false).
 */
interface ArrayShape {
  /** the schema of every item, when the array is not a tuple */
  readonly all: unknown;
  readonly tuple: readonly unknown[];
  /** the schema of items past the tuple: true when unconstrained */
  readonly rest: unknown;
}

function shapeOf(node: Node): ArrayShape {
  if (Array.isArray(node.prefixItems)) {
    return { all: undefined, tuple: node.prefixItems, rest: node.items ?? node.unevaluatedItems ?? true };
  }
  if (Array.isArray(node.items)) {
    return { all: undefined, tuple: node.items, rest: node.additionalItems ?? node.unevaluatedItems ?? true };
  }
  return { all: node.items, tuple: [], rest: true };
}

const isOpen = (rest: unknown) => rest === true || isEmptySchema(rest);

export function arrayDifferences(d: SchemaComparison, w: Node, r: Node, at: string): void {
  const writer = shapeOf(w);
  const reader = shapeOf(r);
  if (reader.all !== undefined) {
    const pointer = appendPointer(at, "items");
    if (writer.all === undefined && writer.tuple.length === 0) {
      if (!isEmptySchema(reader.all)) d.changed("ITEMS_ADDED", pointer, "items", undefined, reader.all);
    } else if (writer.all !== undefined) d.compare(writer.all, reader.all, pointer);
    else {
      for (const [i, item] of writer.tuple.entries())
        d.compare(item, reader.all, appendPointer(at, "items", i));
      if (!isOpen(reader.all)) d.compare(writer.rest, reader.all, pointer);
    }
    return;
  }
  if (reader.tuple.length === 0) return;
  const tupleKey = Array.isArray(r.prefixItems) ? "prefixItems" : "items";
  const writerTuple = writer.all !== undefined ? [] : writer.tuple;
  const writerRest = writer.all !== undefined ? writer.all : writer.rest;
  const shared = Math.min(writerTuple.length, reader.tuple.length);
  for (let i = 0; i < shared; i++) d.compare(writerTuple[i], reader.tuple[i], appendPointer(at, tupleKey, i));
  // positions the reader names past the writer's tuple: old data holds there whatever writerRest allowed
  for (let i = shared; i < reader.tuple.length; i++) {
    const pointer = appendPointer(at, tupleKey, i);
    if (isOpen(writerRest)) {
      if (!isEmptySchema(reader.tuple[i]))
        d.changed("ITEM_ADDED_TO_OPEN_CONTENT_MODEL", pointer, `item ${i}`, undefined, reader.tuple[i]);
    } else if (writerRest !== false && d.quietly(writerRest, reader.tuple[i], pointer).length > 0) {
      d.changed(
        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        pointer,
        `item ${i}`,
        writerRest,
        reader.tuple[i],
      );
    }
  }
  // positions only the writer names: the reader reads them with its rest schema
  for (let i = shared; i < writerTuple.length; i++) {
    const pointer = appendPointer(at, tupleKey, i);
    if (isOpen(reader.rest) || writerTuple[i] === false) continue;
    if (reader.rest === false) {
      d.changed("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL", pointer, `item ${i}`, writerTuple[i], undefined);
    } else if (d.quietly(writerTuple[i], reader.rest, pointer).length > 0) {
      d.changed(
        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        pointer,
        `item ${i}`,
        writerTuple[i],
        reader.rest,
      );
    }
  }
  // the items past both tuples
  const restKey = Array.isArray(r.prefixItems) ? "items" : "additionalItems";
  const pointer = appendPointer(at, restKey);
  if (writerRest === false || isOpen(reader.rest)) return;
  if (isOpen(writerRest)) {
    d.changed(
      reader.rest === false ? "ADDITIONAL_ITEMS_REMOVED" : "ADDITIONAL_ITEMS_NARROWED",
      pointer,
      restKey,
      undefined,
      reader.rest,
    );
  } else d.compare(writerRest, reader.rest, pointer);
}
