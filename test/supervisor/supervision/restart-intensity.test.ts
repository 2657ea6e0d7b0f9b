import { describe, expect, test } from "bun:test";
import { RestartIntensity } from "../../../supervisor/supervision/restart-intensity.ts";

describe("RestartIntensity", () => {
  test("allows `intensity` restarts within the period and flags the next one", () => {
    const log = new RestartIntensity(3, 1_000);
    expect(log.exceeded(log.record(0))).toBe(false);
    expect(log.exceeded(log.record(100))).toBe(false);
    expect(log.exceeded(log.record(200))).toBe(false);
    expect(log.exceeded(log.record(300))).toBe(true);
  });

  test("restarts older than the period no longer count", () => {
    const log = new RestartIntensity(2, 1_000);
    log.record(0);
    log.record(500);
    expect(log.exceeded(log.record(1_600))).toBe(false);
    expect(log.recent(1_600)).toBe(1);
    expect(log.total).toBe(3);
  });

  test("intensity 0 means the first restart already exceeds it", () => {
    const log = new RestartIntensity(0, 1_000);
    expect(log.exceeded(log.record(0))).toBe(true);
  });
});
