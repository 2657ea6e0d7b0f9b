import { ErrorCodes, isPlatformError, PlatformError } from "../errors.ts";
import type { ValueCheck } from "./json-schema-checks.ts";
import type { RegisteredSchema } from "./registered-schema.ts";
import { utf8Text } from "./utf8-text.ts";
import { frame, HEADER_BYTES, schemaIdOf } from "./wire-format.ts";

/**
 * What a serde needs from a registry. `SchemaRegistry` is one; `schemaById` is synchronous so that
 * the decode hot path never awaits (a remote registry would fill a local cache first).
 */
export interface SchemaSource {
  /** throws UNKNOWN_SCHEMA when the id is not known */
  schemaById(id: number): RegisteredSchema;
  register(subject: string, schemaText: string, options: { schemaType?: string }): Promise<{ id: number }>;
  lookup(subject: string, schemaText: string, options: { schemaType?: string }): { id: number };
  version(subject: string, ref: "latest"): { id: number };
}

export interface SchemaSerdeOptions {
  /** the schema each subject writes with (JSON text or object); subjects not listed write with their latest version */
  readonly schemas?: Readonly<Record<string, string | object>>;
  /** register a listed schema on first use (Confluent's auto.register.schemas); default true */
  readonly autoRegister?: boolean;
  /**
   * Subjects whose values were already held to this same schema before they reach `encode` (the
   * node's readings: the edge parses each one with the reading schema the registered JSON Schema
   * is written from). Encode frames them without a second walk; decode still validates, so a
   * reader never trusts a writer. Confluent's JSON serializer validates on write only when
   * asked (json.fail.invalid.schema); here every other subject still is.
   */
  readonly trustedSubjects?: ReadonlySet<string>;
  /**
   * Hand-written checks of the schema a subject writes with, for the shapes the platform itself
   * writes (messages/processed-reading-schema-check.ts): `true` only for a value that schema
   * accepts, so encode frames it without the generic validator's walk; `false` leaves the value
   * to that validator, which judges it and words any refusal. Each check's test holds it to the
   * schema text listed in `schemas` for its subject; decode is unchanged.
   */
  readonly writeChecks?: ReadonlyMap<string, (value: unknown) => boolean>;
}

interface WriterSchema {
  readonly id: number;
  readonly validate: ValueCheck;
}

const encoder = new TextEncoder();

/**
 * JSON values to and from the Confluent wire format, validated against their schema. Schema ids
 * and compiled validators are cached after the first use, so the steady-state decode cost is one
 * header read and one map lookup on top of JSON.parse and validation.
 */
export class SchemaSerde {
  private readonly validators = new Map<number, ValueCheck>();
  private readonly writers = new Map<string, Promise<WriterSchema>>();

  constructor(
    private readonly source: SchemaSource,
    private readonly options: SchemaSerdeOptions = {},
  ) {}

  /** frame a value for a subject; SCHEMA_VIOLATION (with the JSON pointer) if it fails the schema */
  async encode(subject: string, value: unknown): Promise<Uint8Array> {
    const writer = await this.writerFor(subject);
    const sure =
      this.options.trustedSubjects?.has(subject) || this.options.writeChecks?.get(subject)?.(value);
    const failure = sure ? undefined : writer.validate(value);
    if (failure) {
      throw new PlatformError(
        ErrorCodes.SCHEMA_VIOLATION,
        `${subject}: ${failure.message} at ${failure.pointer}`,
        {
          details: { subject, schemaId: writer.id, pointer: failure.pointer, keyword: failure.keyword },
        },
      );
    }
    const payload = encoder.encode(JSON.stringify(value));
    return frame(writer.id, payload);
  }

  /** decode a framed value: DECODE_FAILED, UNKNOWN_SCHEMA, MALFORMED_JSON or SCHEMA_VIOLATION otherwise */
  decode(bytes: Uint8Array): unknown {
    const id = schemaIdOf(bytes);
    const validate = this.validators.get(id) ?? this.resolve(id);
    let value: unknown;
    try {
      value = JSON.parse(utf8Text(bytes, HEADER_BYTES));
    } catch (cause) {
      throw new PlatformError(ErrorCodes.MALFORMED_JSON, `payload of schema ${id} is not UTF-8 JSON`, {
        cause,
        details: { schemaId: id },
      });
    }
    const failure = validate(value);
    if (failure) {
      throw new PlatformError(
        ErrorCodes.SCHEMA_VIOLATION,
        `payload fails schema ${id}: ${failure.message} at ${failure.pointer}`,
        {
          details: { schemaId: id, pointer: failure.pointer, keyword: failure.keyword },
        },
      );
    }
    return value;
  }

  /** the canonical text of schema `id`, undefined when the registry does not know it */
  schemaTextOf(id: number): string | undefined {
    try {
      return this.source.schemaById(id).schema;
    } catch (error) {
      if (isPlatformError(error, ErrorCodes.UNKNOWN_SCHEMA)) return undefined;
      throw error;
    }
  }

  private resolve(id: number): ValueCheck {
    let schema: RegisteredSchema;
    try {
      schema = this.source.schemaById(id);
    } catch (cause) {
      if (isPlatformError(cause, ErrorCodes.UNKNOWN_SCHEMA)) {
        throw new PlatformError(ErrorCodes.UNKNOWN_SCHEMA, `schema id ${id} is not in the registry`, {
          cause,
          details: { schemaId: id },
        });
      }
      throw cause;
    }
    this.validators.set(id, schema.validate);
    return schema.validate;
  }

  private writerFor(subject: string): Promise<WriterSchema> {
    let writer = this.writers.get(subject);
    if (!writer) {
      writer = this.lookupWriter(subject);
      this.writers.set(subject, writer);
      // a failed lookup is not cached: the next encode tries again
      writer.catch(() => this.writers.delete(subject));
    }
    return writer;
  }

  private async lookupWriter(subject: string): Promise<WriterSchema> {
    const listed = this.options.schemas?.[subject];
    let id: number;
    if (listed === undefined) {
      id = this.source.version(subject, "latest").id;
    } else {
      const text = typeof listed === "string" ? listed : JSON.stringify(listed);
      id =
        this.options.autoRegister === false
          ? this.source.lookup(subject, text, { schemaType: "JSON" }).id
          : (await this.source.register(subject, text, { schemaType: "JSON" })).id;
    }
    const validate = this.resolve(id);
    return { id, validate };
  }
}
