import type { ZodError } from "zod";
import { type DeadLetter, deadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { isSensorType, SensorReading } from "../../messages/sensor-reading.ts";
import { checkedSensorReading, epochMillisOf } from "../../messages/sensor-reading-check.ts";

/**
 * The edge parser for MQTT sensor messages: topic `city/sensors/<type>/<sensor_id>`, payload a
 * JSON reading (messages/sensor-reading.ts). Accepts or returns a dead letter with its reason;
 * it never throws on input.
 *
 * Checks, cheapest first, and the code each failure gets:
 *   topic shape and known type ............................ UNKNOWN_TOPIC
 *   payload size <= maxPayloadBytes (64 KiB) ............... PAYLOAD_TOO_LARGE
 *   UTF-8 (RFC 8259 §8.1) and one JSON.parse ............... MALFORMED_JSON
 *   zod schema: fields, types, ISO timestamp ............... SCHEMA_VIOLATION (issue path + message)
 *   zod schema: physical limits only (negative count, ...) . OUT_OF_RANGE
 *   topic type / sensor_id equal the payload's ............. SCHEMA_VIOLATION (naming both)
 *   event time not before the epoch, not > now + maxFutureMs OUT_OF_RANGE
 *
 * Decision: only physically impossible values are rejected here (PHYSICAL_LIMITS in the schema).
 * Plausible-but-suspect values (a 60 °C street, a 600-vehicle count) are accepted and flagged by
 * the quality layer (stream/quality/), which records them with an issue instead of dropping them.
 *
 * zod is the judge; messages/sensor-reading-check.ts is its fast path for well-formed readings
 * (zod's walk was ~0.6 us of ~1 us per message with JSON.parse; the fast path ~0.1 us), and
 * anything it is not sure of goes to zod, which words the reason.
 */
export interface IngestParseOptions {
  /** default 64 KiB */
  readonly maxPayloadBytes?: number;
  /** how far ahead of `now` an event time may be; default 1 hour */
  readonly maxFutureMs?: number;
}

export type SensorParseResult =
  | { readonly ok: true; readonly reading: SensorReading; readonly key: string; readonly eventTime: number }
  | { readonly ok: false; readonly deadLetter: DeadLetter };

export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
export const DEFAULT_MAX_FUTURE_MS = 3_600_000;
export const SENSOR_TOPIC_FILTER = "city/sensors/#";

const TOPIC = /^city\/sensors\/([^/]+)\/([^/]+)$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const MAX_ISSUES_IN_REASON = 3;

export function sensorTopic(type: string, sensorId: string): string {
  return `city/sensors/${type}/${sensorId}`;
}

export function parseSensorMessage(
  topic: string,
  payload: Uint8Array,
  now: number,
  options: IngestParseOptions = {},
): SensorParseResult {
  const source = `mqtt:${topic.length > 256 ? `${topic.slice(0, 256)}…` : topic}`;
  const reject = (code: DeadLetter["code"], reason: string): SensorParseResult => ({
    ok: false,
    deadLetter: deadLetter(source, code, reason, payload, now),
  });

  const match = TOPIC.exec(topic);
  if (match === null || !isSensorType(match[1])) {
    return reject(
      ErrorCodes.UNKNOWN_TOPIC,
      `topic "${topic.slice(0, 256)}" is not city/sensors/<type>/<sensor_id>`,
    );
  }
  const maxBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (payload.byteLength > maxBytes) {
    return reject(ErrorCodes.PAYLOAD_TOO_LARGE, `payload of ${payload.byteLength} bytes exceeds ${maxBytes}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(payload));
  } catch (error) {
    return reject(ErrorCodes.MALFORMED_JSON, `payload is not JSON: ${(error as Error).message}`);
  }
  // the schema's fast path first; zod judges (and words the reason for) everything else
  let reading = checkedSensorReading(json);
  if (reading === undefined) {
    const parsed = SensorReading.safeParse(json);
    if (!parsed.success) {
      const outOfRange = parsed.error.issues.every((i) => i.code === "too_small" || i.code === "too_big");
      return reject(
        outOfRange ? ErrorCodes.OUT_OF_RANGE : ErrorCodes.SCHEMA_VIOLATION,
        describeIssues(parsed.error),
      );
    }
    reading = parsed.data;
  }
  const [, topicType, topicSensor] = match;
  if (reading.type !== topicType || reading.sensor_id !== topicSensor) {
    return reject(
      ErrorCodes.SCHEMA_VIOLATION,
      `topic names ${topicType}/${topicSensor} but the payload is ${reading.type}/${reading.sensor_id}`,
    );
  }
  const eventTime = epochMillisOf(reading.timestamp);
  if (eventTime < 0)
    return reject(ErrorCodes.OUT_OF_RANGE, `timestamp ${reading.timestamp} is before the epoch`);
  const maxFuture = options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  if (eventTime > now + maxFuture) {
    return reject(
      ErrorCodes.OUT_OF_RANGE,
      `timestamp ${reading.timestamp} is ${eventTime - now} ms ahead of now (limit ${maxFuture} ms)`,
    );
  }
  return { ok: true, reading, key: reading.sensor_id, eventTime };
}

function describeIssues(error: ZodError): string {
  const shown = error.issues.slice(0, MAX_ISSUES_IN_REASON).map((i) => {
    const path = i.path.length === 0 ? "(root)" : i.path.join(".");
    return `${path}: ${i.message}`;
  });
  const more = error.issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}
