import { describe, expect, test } from "bun:test";
import { BRONZE_TABLES } from "../../../lake/tables/bronze.ts";
import type { LakeTable } from "../../../lake/tables/lake-table.ts";
import type { LogRecord } from "../../../log/log.ts";
import { HEADER_BYTES, MAGIC_BYTE } from "../../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../../messages/topics.ts";

const bronze = BRONZE_TABLES.find((t) => t.name === "bronze_sensor_readings") as LakeTable;
const toRows = bronze.toRows as NonNullable<LakeTable["toRows"]>;
const INGESTED = Date.parse("2026-12-02T03:00:00.000Z");

function framed(json: string, schemaId: number): Uint8Array {
  const body = new TextEncoder().encode(json);
  const bytes = new Uint8Array(HEADER_BYTES + body.length);
  bytes[0] = MAGIC_BYTE;
  new DataView(bytes.buffer).setInt32(1, schemaId);
  bytes.set(body, HEADER_BYTES);
  return bytes;
}

function rowOf(value: Uint8Array): Record<string, unknown> {
  const record = {
    topic: Topics.sensorsRaw,
    partition: 3,
    offset: 41,
    key: "traffic-7",
    value,
    headers: [],
    timestamp: INGESTED,
  } as unknown as LogRecord;
  const rows = toRows(value, record);
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

// a traffic reading as the edge writes it (the schema's key order, its location last)
const canonical =
  '{"type":"traffic","sensor_id":"traffic-7","timestamp":"2026-12-01T23:59:58.250Z","vehicle_count":12,"avg_speed":41.5,"location":{"lat":52.5,"lon":13.4}}';
const eventTime = Date.parse("2026-12-01T23:59:58.250Z");

describe("bronze raw reading rows", () => {
  // the platform's own bytes are read without JSON.parse; every other shape goes through it,
  // and both give the same fields
  test.each([
    ["the platform's bytes, framed", framed(canonical, 7), 7, "traffic-7", "traffic", eventTime],
    [
      "the platform's bytes, plain",
      new TextEncoder().encode(canonical),
      null,
      "traffic-7",
      "traffic",
      eventTime,
    ],
    [
      "a traffic reading without its location",
      framed(canonical.replace(',"location":{"lat":52.5,"lon":13.4}', ""), 7),
      7,
      "traffic-7",
      "traffic",
      eventTime,
    ],
    [
      "a sensor id beyond ASCII",
      framed(canonical.replace("traffic-7", "verkehr-ä-7"), 7),
      7,
      "verkehr-ä-7",
      "traffic",
      eventTime,
    ],
    [
      "another key order and whitespace",
      framed(
        '{ "sensor_id": "traffic-7", "type": "traffic", "timestamp": "2026-12-01T23:59:58.250Z", "avg_speed": 41.5, "vehicle_count": 12 }',
        9,
      ),
      9,
      "traffic-7",
      "traffic",
      eventTime,
    ],
    [
      "a reading no schema accepts (speed out of range)",
      framed(canonical.replace("41.5", "9999"), 7),
      7,
      "traffic-7",
      "traffic",
      eventTime,
    ],
    [
      "an offset timestamp",
      framed(canonical.replace("2026-12-01T23:59:58.250Z", "2026-12-02T01:59:58.250+02:00"), 7),
      7,
      "traffic-7",
      "traffic",
      eventTime,
    ],
    ["not JSON", framed("{not json", 7), 7, null, null, null],
    ["a JSON array", new TextEncoder().encode("[1,2]"), null, null, null, null],
    [
      "fields of the wrong types",
      framed('{"type":3,"sensor_id":["x"],"timestamp":"yesterday"}', 7),
      7,
      null,
      null,
      null,
    ],
  ])("%s: the row keeps the payload and reads what it can", (_name, bytes, schemaId, sensorId, type, at) => {
    const row = rowOf(bytes);
    const payload = new TextDecoder().decode(bytes[0] === MAGIC_BYTE ? bytes.subarray(HEADER_BYTES) : bytes);
    expect(row).toEqual({
      source_partition: 3,
      source_offset: 41,
      key: "traffic-7",
      ingested_at: INGESTED,
      schema_id: schemaId,
      sensor_id: sensorId,
      type,
      event_time: at,
      payload,
      date: "2026-12-02",
    });
  });
});
