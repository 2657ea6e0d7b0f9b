import { expect, test } from "bun:test";
import { driftInputOf } from "../../../actors/drift/drift-monitor.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import type { Prediction } from "../../../messages/prediction.ts";

/** A record of the drift repartition topic becomes the monitor's message, or is refused. */
const PREDICTION: Prediction = {
  prediction_id: "p-1",
  model: "traffic-forecast",
  model_version: "3",
  key: "traffic",
  window_start: 0,
  window_end: 60_000,
  features: { speed: 42 },
  value: 40,
  latency_ms: 2,
  at: 60_500,
};

test("a prediction is observed at its offset", () => {
  expect(driftInputOf(PREDICTION, 17)).toEqual({ type: "observe", prediction: PREDICTION, offset: 17 });
});

test.each([
  ["a prediction without its model", { ...PREDICTION, model: undefined }],
  ["a feature that is not a number", { ...PREDICTION, features: { speed: "fast" } }],
  ["not an object", "p-1"],
  ["nothing", null],
])("%s is refused as a schema violation", (_name, value) => {
  let caught: unknown;
  try {
    driftInputOf(value, 0);
  } catch (error) {
    caught = error;
  }
  expect(isPlatformError(caught, "SCHEMA_VIOLATION")).toBe(true);
});
