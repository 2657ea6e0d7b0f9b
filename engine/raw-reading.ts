import type { LogRecord } from "../log/log.ts";
import { plainReadingJsonStart } from "../messages/codec/record-codec.ts";
import { type JsonReadingFields, readSensorReadingJson } from "../messages/codec/sensor-reading-json.ts";
import type { SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError } from "../messages/errors.ts";
import { SensorReading } from "../messages/sensor-reading.ts";
import { checkedSensorReading, epochMillisOf } from "../messages/sensor-reading-check.ts";

/**
 * A `city.sensors.raw` record as the hot binary reading the workers take: decoded once
 * (registry framing or plain JSON), validated against the reading schema, measurements in
 * their fixed order. A record that does not decode is a dead letter with its reason and the
 * original bytes; whatever the decoder throws, it never escapes.
 *
 * A reading in the bytes the platform writes is read straight from them
 * (messages/codec/sensor-reading-json.ts), which answers only for what the general path accepts,
 * with the same fields; `readingJsonStart` says where its JSON starts when `decode` would read it
 * as JSON held to the reading schema, as the node's codec does (messages/codec/record-codec.ts;
 * by default only a plain '{' value). Everything else is decoded, then validated by the
 * schema's fast path (messages/sensor-reading-check.ts) and zod for what that is not sure of, so
 * a hostile record still gets zod's reason.
 */
export function rawReading(
  record: LogRecord,
  decode: (bytes: Uint8Array) => unknown,
  onDeadLetter: (letter: DeadLetter) => void,
  now: number,
  readingJsonStart: (bytes: Uint8Array) => number = plainReadingJsonStart,
): SensorReadingRecord | undefined {
  if (record.value === null)
    return reject(record, onDeadLetter, now, ErrorCodes.DECODE_FAILED, "tombstone on a data topic");
  const start = readingJsonStart(record.value);
  if (start >= 0 && readSensorReadingJson(record.value, start, fields))
    return {
      sensorType: fields.type,
      sensorId: fields.sensorId,
      partition: record.partition,
      offset: record.offset,
      eventTime: fields.eventTime,
      values: fields.values,
      flags: 0,
      ingestedAt: ingestedAt(record),
    };
  let json: unknown;
  try {
    json = decode(record.value);
  } catch (error) {
    return isPlatformError(error)
      ? reject(record, onDeadLetter, now, error.code, error.message)
      : reject(
          record,
          onDeadLetter,
          now,
          ErrorCodes.DECODE_FAILED,
          error instanceof Error ? error.message : String(error),
        );
  }
  const checked = schemaChecked(json);
  if (typeof checked === "string")
    return reject(record, onDeadLetter, now, ErrorCodes.SCHEMA_VIOLATION, checked);
  return {
    sensorType: checked.type,
    sensorId: checked.sensor_id,
    partition: record.partition,
    offset: record.offset,
    eventTime: epochMillisOf(checked.timestamp),
    values: measurementValues(checked),
    flags: 0,
    ingestedAt: ingestedAt(record),
  };
}

/**
 * A decoded value held to the reading schema: the reading, or zod's reason for refusing it. The
 * schema's fast path decides what it is sure of; zod judges the rest and writes every reason.
 */
export function schemaChecked(json: unknown): SensorReading | string {
  const reading = checkedSensorReading(json);
  if (reading !== undefined) return reading;
  const parsed = SensorReading.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
}

/** the byte reader's answer, read out into each record at once (one per thread, never shared across a turn) */
const fields: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };

/** out of the hot path: a closure per record cost an allocation on every accepted one too */
function reject(
  record: LogRecord,
  onDeadLetter: (letter: DeadLetter) => void,
  now: number,
  code: DeadLetter["code"],
  reason: string,
): undefined {
  const source = `log:${record.topic}/${record.partition}@${record.offset}`;
  onDeadLetter(deadLetter(source, code, reason, record.value ?? new Uint8Array(), now));
  return undefined;
}

/** the measurements in MEASUREMENTS[type] order, without an intermediate record per reading */
export function measurementValues(reading: SensorReading): number[] {
  switch (reading.type) {
    case "traffic":
      return [reading.vehicle_count, reading.avg_speed];
    case "environment":
      return [reading.temperature, reading.humidity, reading.air_quality_index];
    case "utility":
      return [reading.consumption, reading.voltage, reading.current];
  }
}

export function ingestedAt(record: LogRecord): number {
  for (const header of record.headers) if (header.key === "ingested_at") return Number(header.value);
  return record.timestamp;
}
