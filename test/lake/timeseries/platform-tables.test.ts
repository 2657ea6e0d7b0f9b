import { describe, expect, test } from "bun:test";
import { readingRows } from "../../../lake/timeseries/platform-tables.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";

const reading = Object.freeze({
  sensor_id: "utility-4",
  type: "utility",
  event_time: 1_764_633_600_000,
  values: { consumption: 5, voltage: 230, current: 2, ts: 1 },
  passed: false,
  quality_score: 0.5,
  issues: [{ rule: "range", family: "range", severity: "warning", message: "high" }],
  anomaly_score: 0.75,
  enrichment: null,
  partition: 2,
  offset: 9,
});

describe("the time-series reading rows", () => {
  test("a processed reading is one row: its known measurements, scores, verdict and raw position", () => {
    expect(readingRows(reading)).toEqual([
      {
        consumption: 5,
        voltage: 230,
        current: 2,
        ts: reading.event_time,
        sensor_id: "utility-4",
        type: "utility",
        district: null,
        zone: null,
        quality_score: 0.5,
        anomaly_score: 0.75,
        passed: false,
        raw_partition: 2,
        raw_offset: 9,
      },
    ]);
  });

  test.each([
    ["an anomaly score above 1", { ...reading, anomaly_score: 3 }],
    ["a measurement as text", { ...reading, values: { voltage: "230" } }],
    ["a fractional offset", { ...reading, offset: 9.5 }],
    ["text", "reading"],
  ])("%s is refused as SCHEMA_VIOLATION", (_name, value) => {
    let refusal: unknown;
    try {
      readingRows(value);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(PlatformError);
    expect((refusal as PlatformError).code).toBe(ErrorCodes.SCHEMA_VIOLATION);
  });
});
