import type { LogRecord } from "../../log/log.ts";
import { type JsonReadingFields, readSensorReadingJson } from "../../messages/codec/sensor-reading-json.ts";
import { DeadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { HEADER_BYTES, MAGIC_BYTE } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { column, type LakeTable, utcDate } from "./lake-table.ts";

/**
 * Bronze: what came in, as it came in. The raw readings table keeps every record of
 * city.sensors.raw with its log position, its schema id and its payload text, and reads the few
 * fields it partitions and filters by without validating anything: a record no decoder accepts
 * is still a bronze row (its sensor fields null). Dead letters keep their reason and raw bytes.
 */
const text = new TextDecoder("utf-8");

/** what a raw record's payload says of its reading, null where it says nothing usable */
interface PayloadFields {
  sensorId: string | null;
  type: string | null;
  eventTime: number | null;
}
const canonical: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };
const fields: PayloadFields = { sensorId: null, type: null, eventTime: null };

function rawReadingRows(value: unknown, record: LogRecord): Record<string, unknown>[] {
  const bytes = value as Uint8Array;
  const framed = bytes.byteLength >= HEADER_BYTES && bytes[0] === MAGIC_BYTE;
  const payload = text.decode(framed ? bytes.subarray(HEADER_BYTES) : bytes);
  const schemaId = framed ? new DataView(bytes.buffer, bytes.byteOffset, 5).getInt32(1) : null;
  readPayloadFields(bytes, framed ? HEADER_BYTES : 0, payload);
  return [
    {
      source_partition: record.partition,
      source_offset: record.offset,
      key: record.key,
      ingested_at: record.timestamp,
      schema_id: schemaId,
      sensor_id: fields.sensorId,
      type: fields.type,
      event_time: fields.eventTime,
      payload,
      // the ingest time partitions bronze: a record whose own time is missing or absurd still lands
      date: utcDate(record.timestamp),
    },
  ];
}

/**
 * Fills `fields`. A reading in the bytes the platform writes is read from them directly (it
 * answers only for values JSON.parse reads to the same fields: JSON.parse of each payload was
 * ~12 % of the lake sinks' main-thread samples); any other payload is parsed, and kept whatever
 * it holds.
 */
function readPayloadFields(bytes: Uint8Array, start: number, payload: string): void {
  if (readSensorReadingJson(bytes, start, canonical)) {
    fields.sensorId = canonical.sensorId;
    fields.type = canonical.type;
    fields.eventTime = canonical.eventTime;
    return;
  }
  let parsed: Record<string, unknown> = {};
  try {
    const json: unknown = JSON.parse(payload);
    if (json !== null && typeof json === "object" && !Array.isArray(json))
      parsed = json as Record<string, unknown>;
  } catch (error) {
    // bronze keeps what it cannot parse: the payload text is the row, the parsed fields stay null
    if (!(error instanceof SyntaxError)) throw error;
  }
  const eventTime = typeof parsed.timestamp === "string" ? Date.parse(parsed.timestamp) : Number.NaN;
  fields.sensorId = typeof parsed.sensor_id === "string" ? parsed.sensor_id : null;
  fields.type = typeof parsed.type === "string" ? parsed.type : null;
  fields.eventTime = Number.isFinite(eventTime) ? eventTime : null;
}

function deadLetterRows(value: unknown, record: LogRecord): Record<string, unknown>[] {
  const parsed = DeadLetter.safeParse(value);
  if (!parsed.success) {
    throw new PlatformError(
      ErrorCodes.SCHEMA_VIOLATION,
      `not a dead letter: ${parsed.error.issues[0]?.message}`,
    );
  }
  const letter = parsed.data;
  return [
    {
      source_partition: record.partition,
      source_offset: record.offset,
      source: letter.source,
      code: letter.code,
      reason: letter.reason,
      payload_base64: letter.payload_base64,
      truncated: letter.truncated,
      at: letter.at,
      date: utcDate(letter.at),
    },
  ];
}

export const BRONZE_TABLES: readonly LakeTable[] = [
  {
    name: "bronze_sensor_readings",
    layer: "bronze",
    description: "every record of city.sensors.raw as ingested: log position, schema id, payload text",
    topics: [Topics.sensorsRaw],
    schema: [
      column("source_partition", "integer", false),
      column("source_offset", "long", false),
      column("key", "string"),
      column("ingested_at", "timestamp", false),
      column("schema_id", "integer"),
      column("sensor_id", "string"),
      column("type", "string"),
      column("event_time", "timestamp"),
      column("payload", "string", false),
      column("date", "date", false),
    ],
    partitionColumns: ["date"],
    decode: "raw",
    toRows: rawReadingRows,
  },
  {
    name: "bronze_dead_letters",
    layer: "bronze",
    description: "input the platform refused, with the code, the reason and the raw bytes",
    topics: [Topics.deadLetters],
    schema: [
      column("source_partition", "integer", false),
      column("source_offset", "long", false),
      column("source", "string", false),
      column("code", "string", false),
      column("reason", "string", false),
      column("payload_base64", "string", false),
      column("truncated", "boolean", false),
      column("at", "timestamp", false),
      column("date", "date", false),
    ],
    partitionColumns: ["date"],
    toRows: deadLetterRows,
  },
];
