import type { PlatformError } from "../messages/errors.ts";
import { SensorRegistryRecord } from "../messages/reference-data.ts";
import { HEADER_BYTES, MAGIC_BYTE } from "../messages/schema-registry/wire-format.ts";
import { sensitiveFieldsOf } from "../messages/sensitive.ts";
import { Topics } from "../messages/topics.ts";
import { type FieldCipher, isSealed } from "./field-cipher.ts";

/**
 * Which topics carry fields marked sensitive (messages/sensitive.ts), and how a record value of
 * such a topic is sealed before it is written and opened after it is read: each sensitive field of
 * the JSON object is replaced by its sealed form (field-cipher.ts), the rest of the record stays
 * readable (compaction, keys, district and zone for the joins). The Confluent frame (magic byte
 * and schema id) in front of the JSON is kept as it is.
 *
 * The sealed value's context is `<table>/<field>/<record key>`: the table's name, not the topic's,
 * so a topic can be mirrored or renamed and still be read.
 */
export interface SensitiveTopic {
  readonly topic: string;
  readonly table: string;
  readonly fields: readonly string[];
}

export const SENSITIVE_TOPICS: readonly SensitiveTopic[] = [
  { topic: Topics.sensorRegistry, table: "sensor-registry", fields: sensitiveFieldsOf(SensorRegistryRecord) },
];

export interface RecordSealer {
  covers(topic: string): boolean;
  seal(topic: string, key: string | null, value: Uint8Array | null): Uint8Array | null;
  /** a field that cannot be opened stays sealed (never another record's plaintext) and is reported */
  open(topic: string, key: string | null, value: Uint8Array | null): Uint8Array | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createRecordSealer(
  cipher: FieldCipher,
  options: {
    readonly topics?: readonly SensitiveTopic[];
    readonly onOpenFailure?: (topic: string, field: string, error: PlatformError) => void;
  } = {},
): RecordSealer {
  const byTopic = new Map((options.topics ?? SENSITIVE_TOPICS).map((t) => [t.topic, t]));
  const context = (spec: SensitiveTopic, field: string, key: string | null) =>
    `${spec.table}/${field}/${key ?? ""}`;

  const transform = (
    topic: string,
    value: Uint8Array | null,
    change: (spec: SensitiveTopic, record: Record<string, unknown>) => boolean,
  ): Uint8Array | null => {
    const spec = byTopic.get(topic);
    if (!spec || value === null || value.length === 0) return value;
    const headerBytes = value[0] === MAGIC_BYTE && value.length >= HEADER_BYTES ? HEADER_BYTES : 0;
    const record = parseObject(value.subarray(headerBytes));
    // not a JSON object: left alone, the reader's validation dead-letters it with its reason
    if (!record || !change(spec, record)) return value;
    const body = encoder.encode(JSON.stringify(record));
    const out = new Uint8Array(headerBytes + body.length);
    out.set(value.subarray(0, headerBytes));
    out.set(body, headerBytes);
    return out;
  };

  return {
    covers: (topic) => byTopic.has(topic),
    seal(topic, key, value) {
      return transform(topic, value, (spec, record) => {
        let changed = false;
        for (const field of spec.fields) {
          const plain = record[field];
          if (plain === undefined || plain === null || isSealed(plain)) continue;
          record[field] = cipher.seal(JSON.stringify(plain), context(spec, field, key));
          changed = true;
        }
        return changed;
      });
    },
    open(topic, key, value) {
      return transform(topic, value, (spec, record) => {
        let changed = false;
        for (const field of spec.fields) {
          const sealed = record[field];
          if (!isSealed(sealed)) continue;
          try {
            record[field] = JSON.parse(cipher.open(sealed, context(spec, field, key)));
            changed = true;
          } catch (error) {
            options.onOpenFailure?.(topic, field, error as PlatformError);
          }
        }
        return changed;
      });
    },
  };
}

function parseObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(decoder.decode(bytes));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
