import type { OnlineRow } from "../online/online-store.ts";
import type { FeatureValue, FeatureViewDefinition } from "../views/feature-view.ts";
import { columnOf, rowMatches } from "../views/feature-view.ts";

/**
 * A source table row -> the view's online row, or undefined when the row is not the view's (its
 * `where` filters) or has no entity or time. The same rule as the offline SELECT
 * (`offline/view-source.ts`): event time is the timestamp column plus `availableAfterMs`, created
 * time the created column (else the fallback, the record's log time), values cast to the
 * features' types.
 */
export function onlineRowOf(
  view: FeatureViewDefinition,
  row: Readonly<Record<string, unknown>>,
  fallbackCreated: number,
): OnlineRow | undefined {
  if (!rowMatches(view, row)) return undefined;
  const entity = row[view.source.entityColumn];
  const ts = epochMs(row[view.source.timestampColumn]);
  if (entity === null || entity === undefined || ts === undefined) return undefined;
  const created = view.source.createdColumn ? epochMs(row[view.source.createdColumn]) : undefined;
  const values: Record<string, FeatureValue | null> = {};
  for (const feature of view.features) values[feature.name] = cast(row[columnOf(feature)], feature.type);
  return {
    entity: String(entity),
    eventTime: ts + view.source.availableAfterMs,
    createdTime: created ?? fallbackCreated,
    values,
  };
}

function epochMs(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (value instanceof Date) return value.getTime();
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string") {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

function cast(value: unknown, type: FeatureViewDefinition["features"][number]["type"]): FeatureValue | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "double": {
      const n = Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case "long": {
      const n = typeof value === "bigint" ? Number(value) : Math.trunc(Number(value));
      return Number.isFinite(n) ? n : null;
    }
    case "string":
      return String(value);
    case "boolean":
      return Boolean(value);
  }
}
