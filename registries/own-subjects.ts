import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import type { SchemaSource } from "../messages/schema-registry/schema-serde.ts";
import type { SchemaRegistry } from "./schema-registry.ts";

/**
 * The node's own subjects at start: each platform schema is registered under its subject
 * (TopicNameStrategy), and the subjects are protected from deletion.
 *
 * If a subject's latest schema is not compatible with the platform's (someone registered another
 * schema while the platform's version was soft-deleted, or set a stricter level), the node does
 * not stop: it keeps writing with the version of its schema registered before (soft-deleted ones
 * too: their ids still resolve) and says what to do. Only when the platform's schema was never
 * registered under the subject is there nothing to fall back to, and the start fails with the fix.
 */
export interface OwnSubjects {
  /** the schema id each own subject writes with */
  readonly ids: ReadonlyMap<string, number>;
  /** one message per subject that fell back, saying what to do */
  readonly warnings: readonly string[];
  /** the registry as the serde should see it: own subjects resolve to their chosen ids */
  readonly source: SchemaSource;
}

function fixFor(subject: string): string {
  return (
    `to make the platform's schema the latest again: PUT /schema-registry/config/${subject} ` +
    `{"compatibility":"NONE"} (admin), restart the node, then PUT the level back (BACKWARD)`
  );
}

export async function registerOwnSubjects(
  registry: SchemaRegistry,
  schemas: Readonly<Record<string, object>>,
): Promise<OwnSubjects> {
  registry.protect(Object.keys(schemas));
  const ids = new Map<string, number>();
  const warnings: string[] = [];
  for (const [subject, schema] of Object.entries(schemas)) {
    const text = JSON.stringify(schema);
    try {
      ids.set(subject, (await registry.register(subject, text, { schemaType: "JSON" })).id);
    } catch (error) {
      if (!isPlatformError(error, ErrorCodes.SCHEMA_INCOMPATIBLE)) throw error;
      const before = registry.versionsWithSchema(subject, text)[0];
      if (!before)
        throw new PlatformError(
          ErrorCodes.SCHEMA_INCOMPATIBLE,
          `subject ${subject} holds a schema incompatible with the platform's, which was never registered under it; ${fixFor(subject)}`,
          { cause: error },
        );
      ids.set(subject, before.id);
      warnings.push(
        `subject ${subject}: its latest schema is incompatible with the platform's; this node keeps writing with schema id ${before.id} (version ${before.version}, registered before); ${fixFor(subject)}`,
      );
    }
  }
  const own = (subject: string) => ids.get(subject);
  const source: SchemaSource = {
    schemaById: (id) => registry.schemaById(id),
    register: async (subject, text, options) => {
      const id = own(subject);
      return id === undefined ? registry.register(subject, text, options) : { id };
    },
    lookup: (subject, text, options) => {
      const id = own(subject);
      return id === undefined ? registry.lookup(subject, text, options) : { id };
    },
    version: (subject, ref) => {
      const id = own(subject);
      return id === undefined ? registry.version(subject, ref) : { id };
    },
  };
  return { ids, warnings, source };
}
