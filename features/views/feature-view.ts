import { z } from "zod";

/**
 * A feature view as code (Feast's FeatureView, Tecton's batch/stream feature view): an entity
 * (the join key a model asks by), a source (a gold Delta table, and optionally the window results
 * that feed it, for push materialization), typed features read from the source's columns, a TTL,
 * and the metadata teams search by (description, owner, tags).
 *
 * The definition is plain data, so it can be stored in the registry topic, compared and versioned;
 * a changed definition is a new version (`registry/feature-registry.ts`). The same column names
 * serve the online and the offline path: the streaming materializer maps a window result to a row
 * with the gold table's own mapping (`lake/tables/gold.ts`), so a feature read online and the same
 * feature joined offline come from one mapping (the parity test holds them equal).
 */
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case identifier");

export const FEATURE_TYPES = ["double", "long", "string", "boolean"] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
export type FeatureValue = number | string | boolean;

export const Feature = z
  .object({
    name: identifier,
    type: z.enum(FEATURE_TYPES),
    /** the source column; default the feature's name */
    column: identifier.optional(),
    description: z.string().max(500).optional(),
  })
  .strict();
export type Feature = z.infer<typeof Feature>;

export const FeatureSource = z
  .object({
    /** the gold Delta table (a name of the lake catalogue) the offline store reads */
    table: identifier,
    /** the table's column holding the entity's key */
    entityColumn: identifier,
    /** the table's column holding the event time of a row */
    timestampColumn: identifier,
    /**
     * how long after its timestamp a row's values are known: an hourly summary stamped with the
     * start of its hour is known an hour later, and joining it earlier would leak the future
     */
    availableAfterMs: z
      .number()
      .int()
      .min(0)
      .max(366 * 24 * 3600_000)
      .default(0),
    /** the row's creation time, which breaks ties on event time (Feast's created_timestamp_column) */
    createdColumn: identifier.optional(),
    /** equality filters on the table's columns: the rows this view is about */
    where: z.record(identifier, z.union([z.string().max(200), z.number(), z.boolean()])).default({}),
    /** true: the table's window results update the online store as their windows close */
    stream: z.boolean().default(false),
  })
  .strict();
export type FeatureSource = z.infer<typeof FeatureSource>;

export const FeatureViewDefinition = z
  .object({
    name: identifier,
    /** the entity's join key, as an entity frame and an online request name it (`sensor_id`) */
    entity: identifier,
    source: FeatureSource,
    features: z.array(Feature).min(1).max(200),
    /** a value older than this at the time asked about is not served (online) nor joined (offline) */
    ttlMs: z
      .number()
      .int()
      .positive()
      .max(10 * 366 * 24 * 3600_000),
    description: z.string().max(2000).default(""),
    owner: z.string().min(1).max(200),
    tags: z.record(z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/), z.string().max(200)).default({}),
  })
  .strict()
  .superRefine((view, ctx) => {
    const seen = new Set<string>();
    for (const feature of view.features) {
      if (seen.has(feature.name))
        ctx.addIssue({
          code: "custom",
          path: ["features"],
          message: `feature ${feature.name} is named twice`,
        });
      seen.add(feature.name);
      if (feature.name === view.entity || feature.name === "event_timestamp")
        ctx.addIssue({
          code: "custom",
          path: ["features"],
          message: `feature ${feature.name} would hide the entity frame's column of the same name`,
        });
    }
  });
export type FeatureViewDefinition = z.infer<typeof FeatureViewDefinition>;
/** what a definition is written as in code (defaults may be left out) */
export type FeatureViewInput = z.input<typeof FeatureViewDefinition>;

export function defineFeatureView(input: FeatureViewInput): FeatureViewDefinition {
  return FeatureViewDefinition.parse(input);
}

/** the source column of a feature */
export function columnOf(feature: Feature): string {
  return feature.column ?? feature.name;
}

/** does a row of the source belong to the view (its `where` filters) */
export function rowMatches(view: FeatureViewDefinition, row: Readonly<Record<string, unknown>>): boolean {
  for (const [column, value] of Object.entries(view.source.where)) if (row[column] !== value) return false;
  return true;
}
