import { expect, test } from "bun:test";
import { CROSS_FIELD_RULES, RANGE_RULES } from "../../../stream/quality/quality-rules.ts";
import { qualityRulesAsJson } from "../../../stream/quality/quality-rules-json.ts";

test("the rules export is plain JSON that lists every range and cross-field rule and the score formula", () => {
  const json = qualityRulesAsJson({ maxLagMs: 3000 });
  const roundTrip = JSON.parse(JSON.stringify(json));
  expect(roundTrip).toEqual(json);
  expect(json.ranges.length).toBe(RANGE_RULES.length);
  expect(json.cross_field.map((r) => r.rule)).toEqual(CROSS_FIELD_RULES.map((r) => r.rule));
  expect(json.physical_limits.humidity).toEqual({ min: 0, max: 100 });
  expect(json.physical_limits.consumption).toEqual({ min: null, max: null });
  expect(json.stateful.find((r) => r.rule === "timeliness.late")!.condition).toContain("3000");
  expect(Object.values(json.score.weights).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
});
