import type { Log, ProducerRecord } from "../log/log.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import {
  type CompatibilityLevel,
  compatibilityMessages,
  parseCompatibilityLevel,
} from "../messages/schema-registry/compatibility.ts";
import {
  type ParsedSchema,
  parseSchema,
  type RegisteredSchema,
} from "../messages/schema-registry/registered-schema.ts";
import { RegistryState, type SubjectVersion } from "../messages/schema-registry/registry-state.ts";
import {
  type ConfigKey,
  type ConfigValue,
  decodeKey,
  decodeValue,
  encodeKey,
  encodeValue,
  type SchemaKey,
  type SchemaValue,
} from "../messages/schema-registry/schemas-topic-records.ts";
import { Topics } from "../messages/topics.ts";

/**
 * A schema registry with Confluent Schema Registry's semantics (subjects, versions 1..n, global
 * ids shared by identical schemas, soft then hard deletes, global and per-subject compatibility),
 * stored in the compacted `_schemas` topic of the Log: every change is a record appended there,
 * and the state is the fold of the topic in log order (messages/schema-registry/registry-state.ts).
 * `open` replays the topic; `catchUp` reads what other registries over the same log (a second
 * node, the sink thread) appended since, and `follow` does so in the background, as Confluent's
 * store reader follows `_schemas`.
 *
 * Writes are serialised in this process and start from a caught-up state. Two registries that
 * write at the same moment are settled by the log instead of a leader (Confluent elects one): the
 * first record wins in every registry's fold; the one whose record lost reads it back refused,
 * puts the winner's record last for its key (so compaction keeps the winner), and decides again.
 */

export type VersionRef = number | "latest";

export interface SubjectSchema {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schemaType: RegisteredSchema["schemaType"];
  readonly schema: string;
}

export interface RegisterOptions {
  readonly schemaType?: string;
  /** false: skip the compatibility check (Confluent's IMPORT-mode registrations); default true */
  readonly checkCompatibility?: boolean;
}

const REPLAY_BATCH = 1000;
/** a write that keeps losing to other registries' writes gives up after this many decisions */
const MAX_WRITE_ATTEMPTS = 8;

/** what a command decided: the records to append and the result once they are durable */
interface Mutation<T> {
  readonly records: ProducerRecord[];
  /** the parsed schema of a registration, so applying its record does not parse it again */
  readonly parsed?: ParsedSchema;
  readonly result: T;
}

function notFound(
  code:
    | typeof ErrorCodes.SUBJECT_NOT_FOUND
    | typeof ErrorCodes.VERSION_NOT_FOUND
    | typeof ErrorCodes.UNKNOWN_SCHEMA,
  registryErrorCode: number,
  message: string,
): PlatformError {
  return new PlatformError(code, message, { details: { registryErrorCode } });
}

export function parseVersionRef(value: string | number): VersionRef {
  if (value === "latest" || value === "-1" || value === -1) return "latest";
  const n = typeof value === "number" ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new PlatformError(
      ErrorCodes.VERSION_NOT_FOUND,
      `version ${JSON.stringify(value)} is not a positive integer or 'latest'`,
      {
        details: { registryErrorCode: 42202 },
      },
    );
  }
  return n;
}

export class SchemaRegistry {
  private readonly state = new RegistryState();
  private writes: Promise<unknown> = Promise.resolve();
  /** per partition of the topic, the next offset to fold */
  private readonly positions: number[] = [];
  /** reads of the topic run one at a time; a caller joins the read that has not started yet */
  private reading: Promise<void> = Promise.resolve();
  private queuedRead: Promise<void> | undefined;
  /**
   * This registry's own records on their way to the log, by key, with whether the fold took each:
   * known before the append, so a background read that folds them first still gives the verdict
   */
  private ownRecords: Map<string, { readonly value: Uint8Array | null; taken?: boolean }> | undefined;
  private following: { stop: () => void; done: Promise<void> } | undefined;
  /** subjects the platform writes with: never deleted through the registry */
  private readonly protectedSubjects = new Set<string>();

  private constructor(
    private readonly log: Log,
    private readonly topic: string,
  ) {}

  /** create `_schemas` (1 partition, compacted) if missing and replay it */
  static async open(log: Log, topic: string = Topics.schemas): Promise<SchemaRegistry> {
    await log.createTopic({ name: topic, partitions: 1, compacted: true });
    const registry = new SchemaRegistry(log, topic);
    await registry.catchUp();
    return registry;
  }

  /**
   * Fold what was appended to the topic since the last read, up to its end as of this call: after
   * it resolves, every schema registered anywhere before the call is known here.
   */
  catchUp(): Promise<void> {
    if (this.queuedRead) return this.queuedRead;
    const read = this.reading.then(() => {
      this.queuedRead = undefined;
      return this.readToEnd();
    });
    this.queuedRead = read;
    this.reading = read.catch(() => undefined);
    return read;
  }

  /**
   * Catch up every `intervalMs` until `close`: what the REST reads and the serdes of this process
   * see of other registries' writes, without waiting for a miss. A failed read (the log away) is
   * reported and tried again at the next tick.
   */
  follow(intervalMs: number, onError: (error: unknown) => void): void {
    if (this.following) return;
    let stopped = false;
    let wake: (() => void) | undefined;
    const loop = async () => {
      while (!stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, intervalMs).unref?.();
        });
        if (stopped) break;
        await this.catchUp().catch(onError);
      }
    };
    this.following = {
      stop: () => {
        stopped = true;
        wake?.();
      },
      done: loop(),
    };
  }

  /** stops following and waits for a read in flight, so the log can be closed after it */
  async close(): Promise<void> {
    this.following?.stop();
    await this.following?.done;
    this.following = undefined;
    await this.reading;
  }

  private async readToEnd(parsed?: ParsedSchema): Promise<void> {
    const partitions = (await this.log.partitions(this.topic)) ?? 1;
    for (let partition = 0; partition < partitions; partition++) {
      const end = await this.log.endOffset({ topic: this.topic, partition });
      let offset = this.positions[partition] ?? 0;
      while (offset < end) {
        const records = await this.log.read(
          { topic: this.topic, partition },
          { fromOffset: offset, maxRecords: REPLAY_BATCH },
        );
        if (records.length === 0) break;
        for (const record of records) {
          if (record.key !== null) {
            const taken = this.applyRecord(record.key, record.value, parsed);
            const own = this.ownRecords?.get(record.key);
            if (own && sameBytes(own.value, record.value)) own.taken = taken;
          }
          offset = record.offset + 1;
        }
        this.positions[partition] = offset;
      }
    }
  }

  /** false when the fold left the record out (it lost to an earlier one) */
  private applyRecord(keyText: string, value: Uint8Array | null, parsed?: ParsedSchema): boolean {
    const key = decodeKey(keyText);
    if (key?.keytype === "SCHEMA")
      return this.state.applySchema(key, decodeValue<SchemaValue>(value), parsed);
    if (key?.keytype === "CONFIG") this.state.applyConfig(key, decodeValue<ConfigValue>(value));
    return true;
  }

  /**
   * Run a command against the caught-up state, append the records it decides on durably, then
   * read them back in log order. One command at a time in this process, so its registrations
   * never take the same version or id; against another registry's write at the same moment, a
   * record of ours the fold refused means the other came first: the command decides again on the
   * state that now holds it (a second registration of the same schema then finds it).
   */
  private write<T>(command: () => Mutation<T>): Promise<T> {
    const run = async (): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        await this.catchUp();
        const { records, parsed, result } = command();
        if (records.length === 0) return result;
        const refused = await this.appendAndReadBack(records, parsed);
        if (refused.length === 0) return result;
        await this.putWinnersLast(refused);
        if (attempt === MAX_WRITE_ATTEMPTS)
          throw new PlatformError(
            ErrorCodes.INFRA_UNAVAILABLE,
            `the schemas topic kept taking other registries' writes first (${attempt} attempts)`,
            { details: { registryErrorCode: 50001 } },
          );
      }
    };
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** appends, folds up to the end (ours included), and answers our records the fold refused */
  private async appendAndReadBack(
    records: ProducerRecord[],
    parsed?: ParsedSchema,
  ): Promise<ProducerRecord[]> {
    const own = new Map(
      records.map((r) => [r.key!, { value: r.value } as { value: Uint8Array | null; taken?: boolean }]),
    );
    this.ownRecords = own;
    try {
      try {
        await this.log.append(records);
      } catch (cause) {
        const code = isPlatformError(cause) ? cause.code : ErrorCodes.INFRA_UNAVAILABLE;
        throw new PlatformError(code, "could not write to the schemas topic", {
          cause,
          details: { registryErrorCode: 50001 },
        });
      }
      // a read queued now starts after the append, so it reaches past our records
      const read = this.reading.then(() => this.readToEnd(parsed));
      this.reading = read.catch(() => undefined);
      await read;
      return records.filter((r) => own.get(r.key!)?.taken === false);
    } finally {
      this.ownRecords = undefined;
    }
  }

  /**
   * Compaction keeps the last record of a key: where one of ours lost, the winner's record (or,
   * where no record holds the key now, a tombstone) goes after it, so a replay of the compacted
   * topic folds to the same state as every registry holds now.
   */
  private async putWinnersLast(refused: readonly ProducerRecord[]): Promise<void> {
    const repairs = refused.map((record) => {
      const key = decodeKey(record.key!);
      const winner =
        key?.keytype === "SCHEMA"
          ? this.state.versionsOf(key.subject, true).find((v) => v.version === key.version)
          : undefined;
      return winner ? this.schemaRecord(this.valueOf(winner, winner.deleted)) : { ...record, value: null };
    });
    await this.appendAndReadBack(repairs);
  }

  private schemaRecord(value: SchemaValue, tombstone = false): ProducerRecord {
    const key: SchemaKey = { keytype: "SCHEMA", subject: value.subject, version: value.version };
    return {
      topic: this.topic,
      key: encodeKey(key),
      value: tombstone ? null : encodeValue(value),
      partition: 0,
    };
  }

  private configRecord(subject: string | null, level: CompatibilityLevel | null): ProducerRecord {
    const key: ConfigKey = { keytype: "CONFIG", subject };
    return {
      topic: this.topic,
      key: encodeKey(key),
      value: level === null ? null : encodeValue({ compatibilityLevel: level }),
      partition: 0,
    };
  }

  private toSubjectSchema(entry: SubjectVersion): SubjectSchema {
    const schema = this.state.schemaOf(entry);
    return {
      subject: entry.subject,
      version: entry.version,
      id: entry.id,
      schemaType: schema.schemaType,
      schema: schema.schema,
    };
  }

  private valueOf(entry: SubjectVersion, deleted: boolean): SchemaValue {
    const schema = this.state.schemaOf(entry);
    return {
      subject: entry.subject,
      version: entry.version,
      id: entry.id,
      schemaType: schema.schemaType,
      schema: schema.schema,
      deleted,
    };
  }

  /** register a schema under a subject; the same schema again returns its existing id */
  async register(subject: string, schemaText: string, options: RegisterOptions = {}): Promise<SubjectSchema> {
    const parsed = parseSchema(schemaText, options.schemaType ?? "AVRO");
    return this.write(() => {
      const live = this.state.versionsOf(subject, false);
      const existing = live.find((v) => v.id === this.state.knownId(parsed));
      if (existing) return { records: [], result: this.toSubjectSchema(existing) };
      if (options.checkCompatibility !== false) {
        const level = this.state.effectiveLevel(subject);
        const priors = live.map((v) => ({ version: v.version, schema: this.state.schemaOf(v).parsed }));
        const messages = compatibilityMessages(level, parsed.parsed, priors);
        if (messages.length > 0) {
          throw new PlatformError(
            ErrorCodes.SCHEMA_INCOMPATIBLE,
            `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join("; ")}]`,
            { details: { registryErrorCode: 409, messages, level } },
          );
        }
      }
      const value: SchemaValue = {
        subject,
        version: this.state.nextVersion(subject),
        id: this.state.idFor(parsed),
        schemaType: parsed.schemaType,
        schema: parsed.canonical,
        deleted: false,
      };
      return {
        records: [this.schemaRecord(value)],
        parsed,
        result: {
          subject,
          version: value.version,
          id: value.id,
          schemaType: value.schemaType,
          schema: value.schema,
        },
      };
    });
  }

  /** the version of a subject holding this schema (Confluent's POST /subjects/{subject}) */
  lookup(
    subject: string,
    schemaText: string,
    options: { schemaType?: string; includeDeleted?: boolean } = {},
  ): SubjectSchema {
    const parsed = parseSchema(schemaText, options.schemaType ?? "AVRO");
    const versions = this.state.versionsOf(subject, options.includeDeleted ?? false);
    if (versions.length === 0)
      throw notFound(ErrorCodes.SUBJECT_NOT_FOUND, 40401, `Subject '${subject}' not found.`);
    const id = this.state.knownId(parsed);
    const match = versions.filter((v) => v.id === id).at(-1);
    if (!match)
      throw notFound(ErrorCodes.UNKNOWN_SCHEMA, 40403, `Schema not found under subject '${subject}'`);
    return this.toSubjectSchema(match);
  }

  subjects(includeDeleted = false): string[] {
    return this.state.subjectNames(includeDeleted);
  }

  versions(subject: string, includeDeleted = false): number[] {
    const versions = this.state.versionsOf(subject, includeDeleted);
    if (versions.length === 0)
      throw notFound(ErrorCodes.SUBJECT_NOT_FOUND, 40401, `Subject '${subject}' not found.`);
    return versions.map((v) => v.version);
  }

  version(subject: string, ref: VersionRef, includeDeleted = false): SubjectSchema {
    return this.toSubjectSchema(this.entry(subject, ref, includeDeleted));
  }

  private entry(subject: string, ref: VersionRef, includeDeleted: boolean): SubjectVersion {
    const all = this.state.versionsOf(subject, true);
    if (all.length === 0 || (!includeDeleted && all.every((v) => v.deleted))) {
      throw notFound(ErrorCodes.SUBJECT_NOT_FOUND, 40401, `Subject '${subject}' not found.`);
    }
    const candidates = includeDeleted ? all : all.filter((v) => !v.deleted);
    const found = ref === "latest" ? candidates.at(-1) : candidates.find((v) => v.version === ref);
    if (!found) throw notFound(ErrorCodes.VERSION_NOT_FOUND, 40402, `Version ${ref} not found.`);
    return found;
  }

  /** a schema by global id; soft-deleted versions still resolve, so old records stay readable */
  schemaById(id: number): RegisteredSchema {
    const schema = this.state.schemaById(id);
    if (!schema) throw notFound(ErrorCodes.UNKNOWN_SCHEMA, 40403, `Schema ${id} not found`);
    return schema;
  }

  subjectVersionsOf(id: number, includeDeleted = false): { subject: string; version: number }[] {
    this.schemaById(id);
    return this.state.usagesOf(id, includeDeleted).map(({ subject, version }) => ({ subject, version }));
  }

  /** messages for every broken rule; empty = compatible. `ref` undefined checks as the level says */
  compatibility(
    subject: string,
    schemaText: string,
    ref: VersionRef | undefined,
    schemaType?: string,
  ): string[] {
    const parsed = parseSchema(schemaText, schemaType ?? "AVRO");
    const level = this.state.effectiveLevel(subject);
    if (ref === undefined) {
      const priors = this.state
        .versionsOf(subject, false)
        .map((v) => ({ version: v.version, schema: this.state.schemaOf(v).parsed }));
      return compatibilityMessages(level, parsed.parsed, priors);
    }
    const prior = this.entry(subject, ref, false);
    const nonTransitive = level.replace("_TRANSITIVE", "") as CompatibilityLevel;
    return compatibilityMessages(nonTransitive, parsed.parsed, [
      { version: prior.version, schema: this.state.schemaOf(prior).parsed },
    ]);
  }

  /**
   * Protects subjects from deletion: the node's own subjects (its records carry their ids). A
   * deleted own subject let the next registration under it be any schema, and the node's own
   * schema then failed the compatibility check at its next start (SCHEMA_INCOMPATIBLE).
   */
  protect(subjects: Iterable<string>): void {
    for (const subject of subjects) this.protectedSubjects.add(subject);
  }

  isProtected(subject: string): boolean {
    return this.protectedSubjects.has(subject);
  }

  private protectionError(subject: string): PlatformError | undefined {
    if (!this.protectedSubjects.has(subject)) return undefined;
    return new PlatformError(
      ErrorCodes.SUBJECT_PROTECTED,
      `Subject '${subject}' is one of the platform's own subjects (its records are written with it); it cannot be deleted. To change its schema, register a compatible version.`,
      { details: { registryErrorCode: 42205 } },
    );
  }

  /**
   * The versions of a subject holding this exact schema, soft-deleted ones included, newest first:
   * what a node falls back to when its schema can no longer be registered as the latest.
   */
  versionsWithSchema(subject: string, schemaText: string, schemaType = "JSON"): SubjectSchema[] {
    const id = this.state.knownId(parseSchema(schemaText, schemaType));
    if (id === undefined) return [];
    return this.state
      .versionsOf(subject, true)
      .filter((v) => v.id === id)
      .reverse()
      .map((v) => this.toSubjectSchema(v));
  }

  /** soft delete (default) or, after a soft delete, hard delete every version of a subject */
  deleteSubject(subject: string, permanent = false): Promise<number[]> {
    const refused = this.protectionError(subject);
    if (refused) return Promise.reject(refused);
    return this.write(() => {
      const all = this.state.versionsOf(subject, true);
      if (all.length === 0)
        throw notFound(ErrorCodes.SUBJECT_NOT_FOUND, 40401, `Subject '${subject}' not found.`);
      const live = all.filter((v) => !v.deleted);
      if (!permanent && live.length === 0) {
        throw notFound(
          ErrorCodes.SUBJECT_NOT_FOUND,
          40404,
          `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      if (permanent && live.length > 0) {
        throw notFound(
          ErrorCodes.SUBJECT_NOT_FOUND,
          40405,
          `Subject '${subject}' was not deleted first before being permanently deleted`,
        );
      }
      const records = permanent
        ? [
            ...all.map((v) => this.schemaRecord(this.valueOf(v, true), true)),
            ...(this.state.subjectLevel(subject) ? [this.configRecord(subject, null)] : []),
          ]
        : live.map((v) => this.schemaRecord(this.valueOf(v, true)));
      return { records, result: (permanent ? all : live).map((v) => v.version) };
    });
  }

  /** soft delete (default) or, after a soft delete, hard delete one version */
  deleteVersion(subject: string, ref: VersionRef, permanent = false): Promise<number> {
    const refused = this.protectionError(subject);
    if (refused) return Promise.reject(refused);
    return this.write(() => {
      const entry = this.entry(subject, ref, permanent);
      if (!permanent && entry.deleted)
        throw notFound(
          ErrorCodes.VERSION_NOT_FOUND,
          40406,
          `Subject '${subject}' Version ${entry.version} was soft deleted. Set permanent=true to delete permanently`,
        );
      if (permanent && !entry.deleted)
        throw notFound(
          ErrorCodes.VERSION_NOT_FOUND,
          40407,
          `Subject '${subject}' Version ${entry.version} was not deleted first before being permanently deleted`,
        );
      return { records: [this.schemaRecord(this.valueOf(entry, true), permanent)], result: entry.version };
    });
  }

  globalCompatibility(): CompatibilityLevel {
    return this.state.globalCompatibility();
  }

  /** the subject's own level, or undefined when it follows the global one */
  subjectCompatibility(subject: string): CompatibilityLevel | undefined {
    return this.state.subjectLevel(subject);
  }

  async setCompatibility(subject: string | null, level: string): Promise<CompatibilityLevel> {
    const parsedLevel = parseCompatibilityLevel(level);
    return this.write(() => ({ records: [this.configRecord(subject, parsedLevel)], result: parsedLevel }));
  }

  /** drop a subject's level so it follows the global one again; returns the level it had */
  deleteSubjectCompatibility(subject: string): Promise<CompatibilityLevel> {
    return this.write(() => {
      const level = this.state.subjectLevel(subject);
      if (!level) throw notFound(ErrorCodes.SUBJECT_NOT_FOUND, 40401, `Subject '${subject}' not found.`);
      return { records: [this.configRecord(subject, null)], result: level };
    });
  }

  /** the id the registry holds for this schema, if any (serde fast path) */
  idOf(schemaText: string, schemaType = "JSON"): number | undefined {
    return this.state.knownId(parseSchema(schemaText, schemaType));
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
