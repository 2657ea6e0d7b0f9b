/**
 * The live view's cost per processed reading on the node's main thread (api/live-view.ts
 * `reading`: the sensor's summary and its quality scoreboard's window counts), 3,000 sensors,
 * one reading in ten with a quality issue. Baseline: the live view of another tree (a clean copy
 * of an earlier commit, `git archive <commit> | tar -x -C DIR` with node_modules linked), run
 * alternately in this process; CPU of this (single) thread per 1,000 readings, medians.
 *
 *   bun bench/live-view-reading.ts --baseline-tree DIR [--readings 200000] [--runs 7]
 */
import { join } from "node:path";
import { alternateSides, baselineTreeOptions, median, printFigure } from "./support.ts";

const { baselineTree, readings, runs } = baselineTreeOptions(
  "bun bench/live-view-reading.ts --baseline-tree DIR [--readings 200000] [--runs 7]",
);

interface View {
  reading(reading: unknown): void;
}
type ViewOf = () => View;

async function viewFrom(tree: string): Promise<ViewOf> {
  const { LiveView } = await import(join(tree, "api/live-view.ts"));
  return () => new LiveView();
}

const issue = {
  rule: "range.avg_speed",
  family: "range",
  severity: "error",
  message: "avg_speed out of range",
};
// frozen, as the codec hands them out; 5 ms apart, so a sensor's window changes now and then
const values = Array.from({ length: readings }, (_, i) =>
  Object.freeze({
    sensor_id: `traffic-${i % 3000}`,
    type: "traffic",
    event_time: 1_764_633_600_000 + i * 5,
    values: { vehicle_count: 12, avg_speed: 40 },
    passed: i % 10 !== 0,
    quality_score: i % 10 === 0 ? 0.5 : 1,
    issues: i % 10 === 0 ? [issue] : [],
    anomaly_score: 0.1,
    partition: i % 12,
    offset: i,
  }),
);

/** CPU ms per 1,000 readings */
function once(viewOf: ViewOf): number {
  const view = viewOf();
  const start = process.cpuUsage();
  for (let i = 0; i < readings; i++) view.reading(values[i]);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / (readings / 1000);
}

const sides = {
  ours: await viewFrom(join(import.meta.dir, "..")),
  baseline: await viewFrom(baselineTree),
};
const times = alternateSides(sides, runs, once);
console.log(`ours     CPU ms per 1,000 readings: ${times.ours.map((t) => t.toFixed(3)).join(" ")}`);
console.log(`baseline CPU ms per 1,000 readings: ${times.baseline.map((t) => t.toFixed(3)).join(" ")}`);
printFigure({
  name: "live-view-reading-cpu-ms-per-1000",
  value: median(times.ours),
  unit: "ms",
  baseline: `live view of ${baselineTree}`,
  baseline_value: median(times.baseline),
  readings,
});
