import { expect, test } from "bun:test";
import { createSensorFleet } from "../../../sources/iot/sensor-fleet.ts";
import { QualityChecker } from "../../../stream/quality/quality-checker.ts";
import { QualityScoreboard } from "../../../stream/quality/quality-score.ts";

/** The checks against the simulator's ground truth: injected faults must be found. */
test("every spike the simulator injects fails a range check, dropouts show as gaps, and clean readings pass", () => {
  const start = Date.UTC(2024, 2, 4, 6);
  const fleet = createSensorFleet({
    seed: 3,
    startTime: start,
    faults: { spikeRate: 0.01, dropoutRate: 0.02, stuckRate: 0, anomalyRate: 0 },
  });
  const checkers = new Map(fleet.sensors.map((s) => [s.sensor_id, new QualityChecker(s)]));
  const board = new QualityScoreboard(60_000);
  let spikes = 0;
  let dropouts = 0;
  let gaps = 0;
  let falseFailures = 0;
  for (let i = 0; i < 3600; i++) {
    const batch = fleet.tick();
    const spiked = new Set(batch.labels.filter((l) => l.kind === "spike").map((l) => l.sensor_id));
    dropouts += batch.labels.filter((l) => l.kind === "dropout").length;
    for (const r of batch.readings) {
      const spec = fleet.sensors.find((s) => s.sensor_id === r.sensor_id)!;
      const result = checkers.get(r.sensor_id)!.check(r, batch.time + 50);
      board.record(spec, result.eventTime, result.issues);
      gaps += result.missingBefore;
      if (spiked.has(r.sensor_id)) {
        spikes++;
        expect(result.issues.some((x) => x.family === "range")).toBe(true);
      } else if (!result.passed) {
        falseFailures++;
      }
    }
  }
  expect(spikes).toBeGreaterThan(300);
  expect(falseFailures).toBe(0);
  // a gap is reported only past 2.5 intervals, so single dropouts are not gaps: the window's completeness sees them
  const window = board.window(board.windowStart(start + 30 * 60_000));
  expect(window.completeness).toBeLessThan(1);
  expect(window.completeness).toBeGreaterThan(0.95);
  expect(dropouts).toBeGreaterThan(gaps);
});
