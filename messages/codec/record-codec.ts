import { ErrorCodes, PlatformError } from "../errors.ts";
import { subjectOf } from "../platform-schemas.ts";
import type { SchemaSerde } from "../schema-registry/schema-serde.ts";
import { HEADER_BYTES, MAGIC_BYTE } from "../schema-registry/wire-format.ts";
import { sensorReadingJsonSchema } from "../sensor-reading.ts";

/**
 * How the node turns record values into log bytes and back. Topics with a registered value
 * schema are written in the Confluent wire format (validated on the way out); everything is
 * validated on the way in. A plain JSON value (first byte '{') is accepted on input too, so
 * records produced by tools without a registry still flow; anything else is DECODE_FAILED.
 */
export interface RecordCodec {
  encode(topic: string, value: unknown, options?: EncodeOptions): Promise<Uint8Array>;
  decode(bytes: Uint8Array): unknown;
  /**
   * Where a raw reading's JSON starts when the reading byte reader
   * (messages/codec/sensor-reading-json.ts) may read it in `decode`'s place: 0 for a plain
   * JSON value, past the header for a value framed with the platform's own reading schema
   * (whose checks the reader makes too: test/messages/codec/record-codec.test.ts); -1 for
   * anything else, which `decode` reads (another schema id is held to its own schema). A codec
   * without it leaves only plain JSON values to the reader.
   */
  readingJsonStart?(bytes: Uint8Array): number;
  /**
   * Catches the registry up with schemas registered elsewhere since (another node, an API call
   * on another thread), so a value framed with one of them decodes: what a reader calls before it
   * calls a value with an unknown schema id a dead letter. Absent for a codec without a registry.
   */
  refresh?(): Promise<void>;
}

export interface EncodeOptions {
  /**
   * The caller gives the value away with its bytes: nothing changes either after this (the
   * value is frozen here, the bytes go to the log as `handedOver`). When the value is plain JSON
   * data (what JSON.parse makes: finite numbers, strings, booleans, null, plain objects and
   * arrays) and the topic is framed, a decode of exactly these bytes answers the value itself:
   * the node's own processed readings were stringified and checked against their schema here,
   * then parsed and checked again by every sink group that read them from the embedded log.
   */
  readonly handOver?: boolean;
}

/** the rule without a registry: only a plain JSON value */
export function plainReadingJsonStart(bytes: Uint8Array): number {
  return bytes.length > 0 && bytes[0] === OPEN_BRACE ? 0 : -1;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const OPEN_BRACE = 0x7b;
/** the reading schema as the registry keeps it (canonical text: re-serialised, key order kept) */
const READING_SCHEMA = JSON.stringify(sensorReadingJsonSchema());

export function registryCodec(
  serde: SchemaSerde,
  framedTopics: ReadonlySet<string>,
  refresh?: () => Promise<void>,
): RecordCodec {
  /**
   * Decoded values by the bytes they came from. The embedded log hands every consumer group of a
   * node the same record (its tail cache), and a processed window is read by the time series,
   * lake, feature and model sinks: one JSON.parse and one schema check per record, not one per
   * group. The values are frozen, since every group now shares one; entries go with their bytes.
   */
  const decodedByBytes = new WeakMap<Uint8Array, unknown>();
  /** per known schema id: is it the platform's reading schema (ids of the registry: bounded) */
  const readingIds = new Map<number, boolean>();
  return {
    encode(topic, value, options) {
      if (!framedTopics.has(topic)) return Promise.resolve(encoder.encode(JSON.stringify(value)));
      const framed = serde.encode(subjectOf(topic), value);
      if (options?.handOver !== true) return framed;
      // checked against the same schema a decode of these bytes checks, and its JSON is what
      // they hold: the decode's answer, as long as the bytes live
      return framed.then((bytes) => {
        if (frozenJsonData(value)) decodedByBytes.set(bytes, value);
        return bytes;
      });
    },
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
    readingJsonStart(bytes) {
      if (bytes.length <= HEADER_BYTES || bytes[0] !== MAGIC_BYTE) return plainReadingJsonStart(bytes);
      const id = (bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]! | 0;
      let reading = readingIds.get(id);
      if (reading === undefined) {
        const text = serde.schemaTextOf(id);
        if (text === undefined) return -1; // unknown now, perhaps registered later: not remembered
        reading = text === READING_SCHEMA;
        readingIds.set(id, reading);
      }
      return reading ? HEADER_BYTES : -1;
    },
    ...(refresh ? { refresh } : {}),
  };
}

/**
 * Freezes `value` to its leaves and says whether it is plain JSON data, which a JSON round trip
 * gives back equal (no undefined, NaN, -0, functions, class instances, holes or toJSON). A value
 * that is not may be left partly frozen: it was handed over.
 */
function frozenJsonData(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !frozenJsonData(value[i])) return false;
      } else {
        const prototype = Object.getPrototypeOf(value);
        if (prototype !== Object.prototype && prototype !== null) return false;
        if ("toJSON" in value || Object.getOwnPropertySymbols(value).length > 0) return false;
        for (const child of Object.values(value)) if (!frozenJsonData(child)) return false;
      }
      Object.freeze(value);
      return true;
    }
    default:
      return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
