import { describe, expect, test } from "bun:test";
import { ProcessedReading } from "../../messages/processed-reading.ts";
import { isProcessedReading } from "../../messages/processed-reading-check.ts";

const reading = {
  sensor_id: "traffic-7",
  type: "traffic",
  event_time: 1_764_633_600_000,
  values: { vehicle_count: 12, avg_speed: 41.5 },
  passed: true,
  quality_score: 1,
  issues: [],
  anomaly_score: 0.25,
  history: 10,
  enrichment: { district: "north", zone: "z1" },
  partition: 3,
  offset: 41,
};
const issue = { rule: "range", family: "range", severity: "warning", message: "speed high" };
const withField = (key: string, value: unknown) => ({ ...reading, [key]: value });
const without = (key: string) => Object.fromEntries(Object.entries(reading).filter(([k]) => k !== key));

describe("the processed reading fast path", () => {
  // what the sensor actors emit: the fast path is sure, and zod agrees
  test.each([
    ["a passed reading", reading],
    ["frozen, as the codec hands it out", Object.freeze({ ...reading })],
    ["a failed one with issues", { ...reading, passed: false, quality_score: 0.5, issues: [issue] }],
    ["no enrichment (null)", withField("enrichment", null)],
    ["no enrichment (absent)", without("enrichment")],
    ["no history", without("history")],
    ["no measurements", withField("values", {})],
    ["scores at their bounds", { ...reading, quality_score: 0, anomaly_score: 1 }],
    ["an unknown key (zod strips it)", withField("extra", "x")],
  ])("%s: accepted, as zod accepts it", (_name, value) => {
    expect(isProcessedReading(value)).toBe(true);
    expect(ProcessedReading.safeParse(value).success).toBe(true);
  });

  // zod refuses each: the fast path is never sure of them, so zod says why
  test.each([
    ["not an object", "reading"],
    ["an array", [reading]],
    ["null", null],
    ["a sensor id of another type", withField("sensor_id", 7)],
    ["an unknown type", withField("type", "weather")],
    ["no event time", without("event_time")],
    ["an infinite event time", withField("event_time", Number.POSITIVE_INFINITY)],
    ["a measurement that is not a number", withField("values", { avg_speed: "41" })],
    ["a NaN measurement", withField("values", { avg_speed: Number.NaN })],
    ["values as an array", withField("values", [1, 2])],
    ["values with a symbol key", withField("values", { a: 1, [Symbol("s")]: 2 })],
    ["passed as text", withField("passed", "true")],
    ["a quality score above 1", withField("quality_score", 1.5)],
    ["a negative anomaly score", withField("anomaly_score", -0.1)],
    ["issues as an object", withField("issues", {})],
    ["an issue of unknown severity", withField("issues", [{ ...issue, severity: "fatal" }])],
    ["an issue without a message", withField("issues", [{ rule: "r", family: "f", severity: "info" }])],
    ["a fractional history", withField("history", 1.5)],
    ["a negative history", withField("history", -1)],
    ["enrichment without a zone", withField("enrichment", { district: "north" })],
    ["a fractional partition", withField("partition", 0.5)],
    ["an offset past 2^53", withField("offset", 2 ** 53)],
    ["no offset", without("offset")],
  ])("%s: left to zod, which refuses it", (_name, value) => {
    expect(isProcessedReading(value)).toBe(false);
    expect(ProcessedReading.safeParse(value).success).toBe(false);
  });
});
