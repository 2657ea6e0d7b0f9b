import { expect, test } from "bun:test";
import type { ModelServing } from "../../../actors/model-shard/model-serving.ts";
import { UtilityForecaster, type UtilityWindowRow } from "../../../actors/model-shard/utility-forecaster.ts";
import { HOUR_MS } from "../../../ml/lifecycle/utility-forecast-features.ts";

const MINUTE = 60_000;
const window = (key: string, windowStart: number): UtilityWindowRow => ({
  key,
  windowStart,
  windowMs: MINUTE,
  count: 4,
  consumptionSum: 8,
  consumptionMean: 2,
  consumptionMax: 3,
  voltageMean: null,
  currentMean: null,
});

/** a forecaster over a served version that answers 0 and records the labels it is given */
function forecasterOf(maxSensors: number) {
  const labels: string[] = [];
  const serving = {
    policyOf: () => ({ kind: "single", version: "1" }),
    predictRows: async (_model: string, request: { rows: number }) => ({
      predictions: Array.from({ length: request.rows }, () => ({ value: 0, version: "1" })),
    }),
    settled: async () => {},
    label: (_model: string, key: string, at: number) => {
      labels.push(`${key}@${at / HOUR_MS}`);
      return true;
    },
  } as unknown as ModelServing;
  const forecaster = new UtilityForecaster({
    serving,
    model: "utility-forecast",
    publish: () => {},
    now: () => 0,
    hrtimeMs: () => 0,
    maxSensors,
  });
  return { forecaster, labels };
}

// at most maxSensors sensors' hours are kept: a window renews its sensor, and a new sensor past the
// bound forgets the one seen least recently, whose closed hour then labels nothing (its sum is gone)
test("past maxSensors the sensor seen least recently is forgotten: its hour labels nothing when it closes", async () => {
  const { forecaster, labels } = forecasterOf(2);
  for (const w of [
    window("a", 0),
    window("b", 0),
    window("a", 30 * MINUTE),
    window("c", 0),
    window("a", HOUR_MS),
    window("b", HOUR_MS),
  ])
    await forecaster.closed([w]);
  expect(labels).toEqual(["a@0"]);
  expect(forecaster.forecasts).toBe(1);
});
