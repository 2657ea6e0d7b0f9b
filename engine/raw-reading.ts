import type { LogRecord } from "../log/log.ts";
import type { SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, isPlatformError } from "../messages/errors.ts";
import { MEASUREMENTS, measurementsOf, SensorReading } from "../messages/sensor-reading.ts";

/**
 * A `city.sensors.raw` record as the hot binary reading the workers take: decoded once
 * (registry framing or plain JSON), validated against the reading schema, measurements in
 * their fixed order. A record that does not decode is a dead letter with its reason and the
 * original bytes; whatever the decoder throws, it never escapes.
 */
export function rawReading(
  record: LogRecord,
  decode: (bytes: Uint8Array) => unknown,
  onDeadLetter: (letter: DeadLetter) => void,
  now: number,
): SensorReadingRecord | undefined {
  const reject = (code: DeadLetter["code"], reason: string) => {
    const source = `log:${record.topic}/${record.partition}@${record.offset}`;
    onDeadLetter(deadLetter(source, code, reason, record.value ?? new Uint8Array(), now));
    return undefined;
  };
  if (record.value === null) return reject(ErrorCodes.DECODE_FAILED, "tombstone on a data topic");
  let json: unknown;
  try {
    json = decode(record.value);
  } catch (error) {
    return isPlatformError(error)
      ? reject(error.code, error.message)
      : reject(ErrorCodes.DECODE_FAILED, error instanceof Error ? error.message : String(error));
  }
  const parsed = SensorReading.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(
      ErrorCodes.SCHEMA_VIOLATION,
      `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
    );
  }
  const reading = parsed.data;
  const values = measurementsOf(reading);
  const ingested = record.headers.find((h) => h.key === "ingested_at");
  return {
    sensorType: reading.type,
    sensorId: reading.sensor_id,
    partition: record.partition,
    offset: record.offset,
    eventTime: Date.parse(reading.timestamp),
    values: MEASUREMENTS[reading.type].map((name) => values[name]!),
    flags: 0,
    ingestedAt: ingested ? Number(ingested.value) : record.timestamp,
  };
}
