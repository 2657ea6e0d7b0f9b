import { ErrorCodes, PlatformError } from "../errors.ts";
import { subjectOf } from "../platform-schemas.ts";
import type { SchemaSerde } from "../schema-registry/schema-serde.ts";
import { MAGIC_BYTE } from "../schema-registry/wire-format.ts";

/**
 * How the node turns record values into log bytes and back. Topics with a registered value
 * schema are written in the Confluent wire format (validated on the way out); everything is
 * validated on the way in. A plain JSON value (first byte '{') is accepted on input too, so
 * records produced by tools without a registry still flow; anything else is DECODE_FAILED.
 */
export interface RecordCodec {
  encode(topic: string, value: unknown): Promise<Uint8Array>;
  decode(bytes: Uint8Array): unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const OPEN_BRACE = 0x7b;

export function registryCodec(serde: SchemaSerde, framedTopics: ReadonlySet<string>): RecordCodec {
  /**
   * Decoded values by the bytes they came from. The embedded log hands every consumer group of a
   * node the same record (its tail cache), and a processed window is read by the time series,
   * lake, feature and model sinks: one JSON.parse and one schema check per record, not one per
   * group. The values are frozen, since every group now shares one; entries go with their bytes.
   */
  const decodedByBytes = new WeakMap<Uint8Array, unknown>();
  return {
    encode: (topic, value) =>
      framedTopics.has(topic)
        ? serde.encode(subjectOf(topic), value)
        : Promise.resolve(encoder.encode(JSON.stringify(value))),
    decode(bytes) {
      if (bytes.length > 0 && bytes[0] === MAGIC_BYTE) {
        if (decodedByBytes.has(bytes)) return decodedByBytes.get(bytes);
        const value = deepFreeze(serde.decode(bytes));
        decodedByBytes.set(bytes, value);
        return value;
      }
      if (bytes.length > 0 && bytes[0] === OPEN_BRACE) {
        try {
          return JSON.parse(decoder.decode(bytes));
        } catch (cause) {
          throw new PlatformError(ErrorCodes.MALFORMED_JSON, `record value is not JSON: ${String(cause)}`, {
            cause,
          });
        }
      }
      throw new PlatformError(
        ErrorCodes.DECODE_FAILED,
        `record value is neither Confluent-framed (magic byte 0) nor JSON (first byte ${bytes[0] ?? "none"})`,
      );
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
