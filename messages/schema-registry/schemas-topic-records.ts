import type { CompatibilityLevel } from "./compatibility.ts";

/**
 * The records of the compacted `_schemas` topic, in Confluent Schema Registry's own key and value
 * shapes (`SchemaRegistryKey` / `SchemaValue` / `ConfigValue` in
 * io.confluent.kafka.schemaregistry.storage), so the topic reads like the original's:
 *
 *   key   {"keytype":"SCHEMA","subject":"s","version":3,"magic":1}
 *   value {"subject":"s","version":3,"id":7,"schemaType":"JSON","schema":"{...}","deleted":false}
 *         a soft delete rewrites the value with "deleted":true; a hard delete is a tombstone
 *
 *   key   {"keytype":"CONFIG","subject":"s","magic":0}     (subject null = the global config)
 *   value {"compatibilityLevel":"FULL"}                     a tombstone removes a subject config
 *
 * Keys are serialised with a fixed property order, so the same logical key is the same bytes and
 * compaction keeps only its latest value.
 */

export type SchemaType = "JSON";

export interface SchemaKey {
  readonly keytype: "SCHEMA";
  readonly subject: string;
  readonly version: number;
}

export interface ConfigKey {
  readonly keytype: "CONFIG";
  readonly subject: string | null;
}

export type SchemasTopicKey = SchemaKey | ConfigKey;

export interface SchemaValue {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schemaType: SchemaType;
  readonly schema: string;
  readonly deleted: boolean;
}

export interface ConfigValue {
  readonly compatibilityLevel: CompatibilityLevel;
}

export function encodeKey(key: SchemasTopicKey): string {
  return key.keytype === "SCHEMA"
    ? JSON.stringify({ keytype: "SCHEMA", subject: key.subject, version: key.version, magic: 1 })
    : JSON.stringify({ keytype: "CONFIG", subject: key.subject, magic: 0 });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeValue(value: SchemaValue | ConfigValue): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** decode a key; undefined for key types this registry does not write (NOOP, MODE, ...) */
export function decodeKey(text: string): SchemasTopicKey | undefined {
  const raw = JSON.parse(text) as { keytype?: string; subject?: string | null; version?: number };
  if (raw.keytype === "SCHEMA" && typeof raw.subject === "string" && typeof raw.version === "number") {
    return { keytype: "SCHEMA", subject: raw.subject, version: raw.version };
  }
  if (raw.keytype === "CONFIG") return { keytype: "CONFIG", subject: raw.subject ?? null };
  return undefined;
}

export function decodeValue<T extends SchemaValue | ConfigValue>(bytes: Uint8Array | null): T | null {
  return bytes === null ? null : (JSON.parse(decoder.decode(bytes)) as T);
}
