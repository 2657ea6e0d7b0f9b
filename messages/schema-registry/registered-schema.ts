import { ErrorCodes, isPlatformError, PlatformError } from "../errors.ts";
import type { JsonSchemaNode } from "./json-pointer.ts";
import type { ValueCheck } from "./json-schema-checks.ts";
import { compileJsonSchema } from "./json-schema-validator.ts";
import { checkSchemaBounds } from "./schema-bounds.ts";
import type { SchemaType } from "./schemas-topic-records.ts";

/** A schema known to the registry under a global id, parsed and compiled once. */
export interface RegisteredSchema {
  readonly id: number;
  readonly schemaType: SchemaType;
  /** canonical text: the schema re-serialised without whitespace, key order kept */
  readonly schema: string;
  readonly parsed: JsonSchemaNode;
  /** the compiled validator for values written with this schema */
  readonly validate: ValueCheck;
}

export interface ParsedSchema {
  readonly schemaType: SchemaType;
  readonly canonical: string;
  /** equal for schemas that differ only in whitespace or key order: the global id is shared */
  readonly identity: string;
  readonly parsed: JsonSchemaNode;
  readonly validate: ValueCheck;
}

export const SUPPORTED_SCHEMA_TYPES: readonly SchemaType[] = ["JSON"];

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return out;
}

function invalidSchema(message: string, cause?: unknown): PlatformError {
  return new PlatformError(ErrorCodes.SCHEMA_INVALID, message, {
    cause,
    details: { registryErrorCode: 42201 },
  });
}

/**
 * Parse a schema as it arrives over REST (`schemaType` absent means AVRO, as in Confluent).
 * Throws SCHEMA_INVALID (42201) for unsupported types, bad JSON, malformed JSON Schemas and
 * nesting past MAX_SCHEMA_DEPTH; PAYLOAD_TOO_LARGE (42209) past MAX_SCHEMA_BYTES.
 */
export function parseSchema(text: unknown, schemaType: unknown = "AVRO"): ParsedSchema {
  const type = typeof schemaType === "string" ? schemaType.toUpperCase() : schemaType;
  if (type !== "JSON") {
    throw invalidSchema(
      `schema type ${JSON.stringify(schemaType)} is not supported; supported: ${SUPPORTED_SCHEMA_TYPES.join(", ")}`,
    );
  }
  if (typeof text !== "string") throw invalidSchema("'schema' must be a string holding the schema");
  checkSchemaBounds(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalidSchema(`schema is not valid JSON: ${(cause as Error).message}`, cause);
  }
  let validate: ValueCheck;
  try {
    validate = compileJsonSchema(parsed);
  } catch (cause) {
    if (isPlatformError(cause, ErrorCodes.SCHEMA_INVALID))
      throw invalidSchema(`invalid JSON schema: ${cause.message}`, cause);
    throw cause;
  }
  return {
    schemaType: "JSON",
    canonical: JSON.stringify(parsed),
    identity: `JSON:${JSON.stringify(sortedKeys(parsed))}`,
    parsed: parsed as JsonSchemaNode,
    validate,
  };
}
