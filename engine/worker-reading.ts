import { type JsonReadingFields, readSensorReadingJson } from "../messages/codec/sensor-reading-json.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import { epochMillisOf } from "../messages/sensor-reading-check.ts";
import { measurementValues, schemaChecked } from "./raw-reading.ts";

export interface RefusedReading {
  readonly code: typeof ErrorCodes.MALFORMED_JSON | typeof ErrorCodes.SCHEMA_VIOLATION;
  readonly reason: string;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A raw reading's value read in the partition worker that owns its partition
 * (messages/codec/raw-reading-record.ts): the dispatcher sends a value here only when the
 * codec says its JSON, from `jsonStart`, is what `decode` would hold to the reading schema, so
 * the same rules as on the main thread (engine/raw-reading.ts) judge it here: the byte reader
 * for the bytes the platform writes, else `JSON.parse` of the UTF-8 text and the schema, whose
 * reason a refused reading's dead letter carries. `value` may hold more than the value: its JSON
 * ends at `jsonEnd` (a ring record's bytes read in place). Fills `into` and answers undefined, or answers
 * why not (MALFORMED_JSON, SCHEMA_VIOLATION; the reason worded as the main thread's dead letter
 * words it) and leaves `into` as it was.
 */
export function readReadingValue(
  value: Uint8Array,
  jsonStart: number,
  into: JsonReadingFields,
  jsonEnd = value.length,
): RefusedReading | undefined {
  if (readSensorReadingJson(value, jsonStart, into, jsonEnd)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(value.subarray(jsonStart, jsonEnd)));
  } catch (cause) {
    // the codec's decode throws this error, and the main thread's dead letter takes its message
    const error = new PlatformError(ErrorCodes.MALFORMED_JSON, `record value is not JSON: ${String(cause)}`);
    return { code: ErrorCodes.MALFORMED_JSON, reason: error.message };
  }
  const checked = schemaChecked(json);
  if (typeof checked === "string") return { code: ErrorCodes.SCHEMA_VIOLATION, reason: checked };
  into.type = checked.type;
  into.sensorId = checked.sensor_id;
  into.eventTime = epochMillisOf(checked.timestamp);
  into.values = measurementValues(checked);
  return undefined;
}
