/**
 * The per-reading data-quality path (stream/quality/quality-checker.ts: range and cross-field
 * tables, duplicate memory, gap, timeliness, stuck) plus the windowed scoreboard update.
 * Baseline: the stateless range + cross-field rules alone.
 */
import { createSensorFleet } from "../sources/iot/sensor-fleet.ts";
import { QualityChecker } from "../stream/quality/quality-checker.ts";
import { crossFieldIssues, rangeIssues } from "../stream/quality/quality-rules.ts";
import { QualityScoreboard } from "../stream/quality/quality-score.ts";
import { median } from "./support.ts";

const RUNS = 5;
const TICKS = 400;
const fleet = createSensorFleet({ sensorsPerType: 100, startTime: Date.UTC(2024, 2, 4, 8) });
const batches = Array.from({ length: TICKS }, () => fleet.tick());
const total = batches.reduce((a, b) => a + b.readings.length, 0);
const specs = new Map(fleet.sensors.map((s) => [s.sensor_id, s]));

function timed(body: () => void): number {
  const started = performance.now();
  body();
  return total / ((performance.now() - started) / 1000);
}

const stateless: number[] = [];
const full: number[] = [];
for (let run = 0; run < RUNS; run++) {
  stateless.push(
    timed(() => {
      for (const b of batches) for (const r of b.readings) rangeIssues(r).length + crossFieldIssues(r).length;
    }),
  );
  const checkers = new Map(fleet.sensors.map((s) => [s.sensor_id, new QualityChecker(s)]));
  const board = new QualityScoreboard();
  full.push(
    timed(() => {
      for (const b of batches) {
        for (const r of b.readings) {
          const result = checkers.get(r.sensor_id)!.check(r, b.time + 20);
          board.record(specs.get(r.sensor_id)!, result.eventTime, result.issues);
        }
      }
    }),
  );
}
const baseline = median(stateless);
const value = median(full);
console.log(`quality checks, ${total} readings of 300 sensors x ${RUNS} runs, median`);
console.log("path                                      readings/s");
console.log(
  `${"range + cross-field only (baseline)".padEnd(42)}${Math.round(baseline).toLocaleString("en").padStart(12)}`,
);
console.log(
  `${"QualityChecker.check + scoreboard".padEnd(42)}${Math.round(value).toLocaleString("en").padStart(12)}`,
);
console.log(
  JSON.stringify({
    name: "quality_check",
    value: Math.round(value),
    unit: "readings/s",
    baseline: "range_cross_field_only",
    baseline_value: Math.round(baseline),
  }),
);
