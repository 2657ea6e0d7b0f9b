import type { DeltaField, DeltaType } from "../../lake/delta/schema.ts";
import { columnOf, type FeatureType, type FeatureViewDefinition } from "../views/feature-view.ts";

/**
 * What a feature view needs of its source table, and of its own earlier versions. Each rule that
 * fails gives one message naming the column or feature; an empty list is compatible.
 *
 * Against the source schema (checked at every registration, so a table whose schema changed
 * under a view is caught when the view is registered, not when a training set comes out wrong):
 * the entity column is a string, the timestamp and created columns are times, every `where` and
 * feature column exists, and a feature's type can be read from its column's type without loss
 * (a long feature from a double column could not).
 *
 * Against earlier versions (the rule a consumer of the view relies on): the entity does not
 * change, and a feature kept under its name keeps its type. Adding and removing features is a
 * new version; changing what a name means is a new view.
 */
const READS_AS: Record<FeatureType, readonly string[]> = {
  double: ["double", "float", "long", "integer", "short", "byte"],
  long: ["long", "integer", "short", "byte"],
  string: ["string"],
  boolean: ["boolean"],
};
const TIME_TYPES = ["timestamp", "timestamp_ntz", "date"];

function typeName(type: DeltaType): string {
  return typeof type === "string" ? type : type.type;
}

export function sourceProblems(view: FeatureViewDefinition, schema: readonly DeltaField[]): string[] {
  const columns = new Map(schema.map((f) => [f.name, typeName(f.type)]));
  const problems: string[] = [];
  const need = (column: string, role: string, types: readonly string[]) => {
    const type = columns.get(column);
    if (type === undefined) problems.push(`${role} column '${column}' is not in ${view.source.table}`);
    else if (!types.includes(type) && !(type.startsWith("decimal(") && types.includes("double")))
      problems.push(
        `${role} column '${column}' is ${type} in ${view.source.table}; it must be ${types.join(" or ")}`,
      );
  };
  need(view.source.entityColumn, "entity", ["string"]);
  need(view.source.timestampColumn, "timestamp", TIME_TYPES);
  if (view.source.createdColumn) need(view.source.createdColumn, "created", TIME_TYPES);
  for (const [column, value] of Object.entries(view.source.where))
    need(
      column,
      "filter",
      typeof value === "string" ? ["string"] : typeof value === "boolean" ? ["boolean"] : READS_AS.double,
    );
  for (const feature of view.features)
    need(columnOf(feature), `feature ${feature.name}'s`, READS_AS[feature.type]);
  return problems;
}

export function evolutionProblems(
  view: FeatureViewDefinition,
  earlier: readonly FeatureViewDefinition[],
): string[] {
  const problems: string[] = [];
  for (const prior of earlier) {
    if (prior.entity !== view.entity)
      problems.push(
        `the entity changes from ${prior.entity} to ${view.entity}: register a view of another name`,
      );
    const types = new Map(prior.features.map((f) => [f.name, f.type]));
    for (const feature of view.features) {
      const before = types.get(feature.name);
      if (before !== undefined && before !== feature.type)
        problems.push(
          `feature ${feature.name} changes type from ${before} to ${feature.type}: give it another name`,
        );
    }
  }
  return [...new Set(problems)];
}
