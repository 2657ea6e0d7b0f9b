import { describe, expect, test } from "bun:test";
import type { LakeTable } from "../../../lake/tables/lake-table.ts";
import { SILVER_TABLES } from "../../../lake/tables/silver.ts";
import type { LogRecord } from "../../../log/log.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { Topics } from "../../../messages/topics.ts";

const silver = SILVER_TABLES.find((t) => t.name === "silver_sensor_readings") as LakeTable;
const quarantine = SILVER_TABLES.find((t) => t.name === "silver_quarantine") as LakeTable;
const record = { topic: Topics.silver, partition: 3, offset: 41 } as unknown as LogRecord;
const rowsOf = (table: LakeTable, value: unknown) =>
  (table.toRows as NonNullable<LakeTable["toRows"]>)(value, record);

const reading = Object.freeze({
  sensor_id: "traffic-7",
  type: "traffic",
  event_time: Date.parse("2026-12-01T23:59:58.250Z"),
  values: { vehicle_count: 12, avg_speed: 41.5, not_a_column: 3 },
  passed: true,
  quality_score: 1,
  issues: [],
  anomaly_score: 0.25,
  enrichment: { district: "north", zone: "z1" },
  partition: 3,
  offset: 41,
});
const issue = { rule: "range", family: "range", severity: "error", message: "speed too high" };

describe("silver rows", () => {
  test("a processed reading becomes one row: its id, its measurements (null where its type has none), its day", () => {
    expect(rowsOf(silver, reading)).toEqual([
      {
        reading_id: "3@41",
        sensor_id: "traffic-7",
        event_time: reading.event_time,
        quality_score: 1,
        anomaly_score: 0.25,
        district: "north",
        zone: "z1",
        source_partition: 3,
        source_offset: 41,
        date: "2026-12-01",
        type: "traffic",
        vehicle_count: 12,
        avg_speed: 41.5,
        temperature: null,
        humidity: null,
        air_quality_index: null,
        consumption: null,
        voltage: null,
        current: null,
      },
    ]);
  });

  test("a failed reading goes to quarantine with its issues as JSON, and not to silver", () => {
    const failed = { ...reading, passed: false, quality_score: 0.4, issues: [issue] };
    expect(rowsOf(quarantine, failed)[0]?.issues).toBe(JSON.stringify([issue]));
    expect(() => rowsOf(silver, failed)).toThrow("does not belong in silver");
  });

  // refused at the boundary with the schema's reason, whether or not the fast path looked at it
  test.each([
    ["a quality score above 1", { ...reading, quality_score: 2 }, "quality_score"],
    ["a measurement as text", { ...reading, values: { avg_speed: "41" } }, "values.avg_speed"],
    ["an unknown type", { ...reading, type: "weather" }, "type"],
    ["no offset", { ...reading, offset: undefined }, "offset"],
    ["a dead letter", { source: "mqtt", code: "X", reason: "y" }, "sensor_id"],
    ["bytes", new Uint8Array([1, 2]), ""],
  ])("%s is SCHEMA_VIOLATION naming the field", (_name, value, field) => {
    let refusal: unknown;
    try {
      rowsOf(silver, value);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(PlatformError);
    expect((refusal as PlatformError).code).toBe(ErrorCodes.SCHEMA_VIOLATION);
    expect((refusal as PlatformError).message).toContain(`not a processed reading: ${field}`);
  });
});
