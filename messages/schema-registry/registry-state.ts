import { ErrorCodes, PlatformError } from "../errors.ts";
import { type CompatibilityLevel, DEFAULT_COMPATIBILITY } from "./compatibility.ts";
import { type ParsedSchema, parseSchema, type RegisteredSchema } from "./registered-schema.ts";
import type { ConfigKey, ConfigValue, SchemaKey, SchemaValue } from "./schemas-topic-records.ts";

/**
 * The registry's state as a fold over the `_schemas` records: replaying the topic from offset 0
 * rebuilds it exactly, and every registry over the log (a second node, a sink thread) folds the
 * same records in the same order, so all of them agree.
 *
 * Two registries may append at the same time (each decided on the state it had read), so the fold
 * settles conflicts the same way everywhere: the first record in the log wins. A registration is
 * refused when its subject version is already taken by another schema, when its id already
 * names another schema, or when its schema already has another id; the registry that appended it
 * sees the refusal when it reads its own record back, and decides again (registries/schema-registry.ts).
 */

export interface SubjectVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly deleted: boolean;
}

export class RegistryState {
  private readonly schemasById = new Map<number, RegisteredSchema>();
  private readonly idByIdentity = new Map<string, number>();
  /** subject -> version -> entry, versions in ascending order of insertion */
  private readonly subjects = new Map<string, Map<number, SubjectVersion>>();
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private globalLevel: CompatibilityLevel = DEFAULT_COMPATIBILITY;
  private maxId = 0;

  /** applies one SCHEMA record; false when it conflicts with an earlier record and is left out */
  applySchema(key: SchemaKey, value: SchemaValue | null, parsed?: ParsedSchema): boolean {
    const versions = this.subjects.get(key.subject) ?? new Map<number, SubjectVersion>();
    if (value === null) {
      versions.delete(key.version);
      if (versions.size === 0) this.subjects.delete(key.subject);
      else this.subjects.set(key.subject, versions);
      return true;
    }
    const taken = versions.get(key.version);
    // a soft delete rewrites its version with the same id; another id there came second
    if (taken !== undefined && taken.id !== value.id) return false;
    const known = this.schemasById.get(value.id);
    if (known === undefined) {
      const schema =
        parsed?.canonical === value.schema ? parsed : parseSchema(value.schema, value.schemaType);
      // the same schema under a second id came second too: a schema has one id
      if (this.idByIdentity.has(schema.identity)) return false;
      this.schemasById.set(value.id, {
        id: value.id,
        schemaType: schema.schemaType,
        schema: schema.canonical,
        parsed: schema.parsed,
        validate: schema.validate,
      });
      this.idByIdentity.set(schema.identity, value.id);
    } else if (known.schema !== value.schema || known.schemaType !== value.schemaType) {
      // the id names another schema (records carry canonical text, so equal schemas compare equal)
      const schema =
        parsed?.canonical === value.schema ? parsed : parseSchema(value.schema, value.schemaType);
      if (this.idByIdentity.get(schema.identity) !== value.id) return false;
    }
    this.maxId = Math.max(this.maxId, value.id);
    versions.set(key.version, {
      subject: key.subject,
      version: key.version,
      id: value.id,
      deleted: value.deleted,
    });
    this.subjects.set(key.subject, new Map([...versions].sort((a, b) => a[0] - b[0])));
    return true;
  }

  applyConfig(key: ConfigKey, value: ConfigValue | null): void {
    if (key.subject === null) {
      this.globalLevel = value?.compatibilityLevel ?? DEFAULT_COMPATIBILITY;
    } else if (value === null) {
      this.subjectLevels.delete(key.subject);
    } else {
      this.subjectLevels.set(key.subject, value.compatibilityLevel);
    }
  }

  /** the id for a new schema: the existing one when the same schema is known, else the next */
  idFor(parsed: ParsedSchema): number {
    return this.idByIdentity.get(parsed.identity) ?? this.maxId + 1;
  }

  knownId(parsed: ParsedSchema): number | undefined {
    return this.idByIdentity.get(parsed.identity);
  }

  /** a schema by id, while any version (live or soft-deleted) still refers to it */
  schemaById(id: number): RegisteredSchema | undefined {
    const schema = this.schemasById.get(id);
    if (!schema) return undefined;
    return this.usagesOf(id, true).length > 0 ? schema : undefined;
  }

  usagesOf(id: number, includeDeleted: boolean): SubjectVersion[] {
    const out: SubjectVersion[] = [];
    for (const versions of this.subjects.values()) {
      for (const entry of versions.values())
        if (entry.id === id && (includeDeleted || !entry.deleted)) out.push(entry);
    }
    return out;
  }

  subjectNames(includeDeleted: boolean): string[] {
    return [...this.subjects]
      .filter(([, versions]) => includeDeleted || [...versions.values()].some((v) => !v.deleted))
      .map(([name]) => name)
      .sort();
  }

  versionsOf(subject: string, includeDeleted: boolean): SubjectVersion[] {
    return [...(this.subjects.get(subject)?.values() ?? [])].filter((v) => includeDeleted || !v.deleted);
  }

  /** the next version number of a subject: versions keep counting past soft deletes */
  nextVersion(subject: string): number {
    const all = this.versionsOf(subject, true);
    return all.length === 0 ? 1 : all[all.length - 1]!.version + 1;
  }

  schemaOf(entry: SubjectVersion): RegisteredSchema {
    const schema = this.schemasById.get(entry.id);
    if (!schema)
      throw new PlatformError(
        ErrorCodes.UNKNOWN_SCHEMA,
        `schema id ${entry.id} of ${entry.subject} v${entry.version} is missing`,
      );
    return schema;
  }

  subjectLevel(subject: string): CompatibilityLevel | undefined {
    return this.subjectLevels.get(subject);
  }

  globalCompatibility(): CompatibilityLevel {
    return this.globalLevel;
  }

  effectiveLevel(subject: string): CompatibilityLevel {
    return this.subjectLevels.get(subject) ?? this.globalLevel;
  }
}
