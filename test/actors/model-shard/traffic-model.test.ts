import { describe, expect, test } from "bun:test";
import {
  DRIFT_FEATURES,
  trafficDriftCheck,
  trainStartupModel,
} from "../../../actors/model-shard/traffic-model.ts";

describe("the traffic model's drift check", () => {
  const model = trainStartupModel(7, 800);
  const observe = (check: ReturnType<typeof trafficDriftCheck>, shift: number, count: number) => {
    for (let i = 0; i < count; i++)
      check.observe({
        vehicle_count_mean: 30 + shift + (i % 10),
        vehicle_count_max: 45 + shift + (i % 7),
        avg_speed_mean: 50 - (i % 9),
      });
  };

  test("is not ready before it has the minimum sample", () => {
    const check = trafficDriftCheck(model, { sampleSize: 100, minSampleSize: 30 });
    observe(check, 0, 29);
    expect(check.ready()).toBe(false);
    observe(check, 0, 1);
    expect(check.ready()).toBe(true);
  });

  test("reports one result per monitored feature, each with a score in [0, 1]", () => {
    const check = trafficDriftCheck(model, { sampleSize: 100, minSampleSize: 30 });
    observe(check, 300, 60);
    const reports = check.evaluate(1);
    expect(reports.map((r) => r.feature)).toEqual([...DRIFT_FEATURES]);
    for (const report of reports) {
      expect(report.score).toBeGreaterThanOrEqual(0);
      expect(report.score).toBeLessThanOrEqual(1);
      expect(report.model_version).toBe(model.version);
    }
    expect(reports.find((r) => r.feature === "vehicle_count_mean")?.drift_detected).toBe(true);
  });

  test("a restored snapshot gives the same sample and the same verdict (the drift changelog)", () => {
    const before = trafficDriftCheck(model, { sampleSize: 100, minSampleSize: 30 });
    observe(before, 20, 80);
    const restored = trafficDriftCheck(model, {
      sampleSize: 100,
      minSampleSize: 30,
      restored: JSON.parse(JSON.stringify(before.snapshot())),
    });
    expect(restored.snapshot()).toEqual(before.snapshot());
    expect(restored.evaluate(5)).toEqual(before.evaluate(5));
  });
});
