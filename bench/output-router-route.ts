/**
 * The output router's main-thread cost per processed reading routed (sinks/output-router.ts
 * `route`: live view, feeds, metrics, alert samples, the pending record), with the real live
 * view, feed hub (no WebSocket client) and Prometheus metrics, and a log whose append does
 * nothing, so only the routing is timed; a mark every 200 readings, as a worker's batch.
 * Baseline: the same routing by the router of another tree (a clean copy of an earlier commit,
 * `git archive <commit> | tar -x -C DIR` with node_modules linked), run alternately in this process.
 *
 *   bun bench/output-router-route.ts --baseline-tree DIR [--readings 200000] [--runs 7]
 */
import { join } from "node:path";
import { alternateSides, baselineTreeOptions, median, printFigure } from "./support.ts";

const { baselineTree, readings, runs } = baselineTreeOptions(
  "bun bench/output-router-route.ts --baseline-tree DIR [--readings 200000] [--runs 7]",
);

interface Router {
  route(output: unknown): void;
}
type RouterOf = () => Router;

async function routerFrom(tree: string): Promise<RouterOf> {
  const { OutputRouter } = await import(join(tree, "sinks/output-router.ts"));
  const { FeedHub } = await import(join(tree, "api/feeds/feed-hub.ts"));
  const { LiveView } = await import(join(tree, "api/live-view.ts"));
  const { PlatformMetrics } = await import(join(tree, "api/metrics.ts"));
  return () =>
    new OutputRouter({
      log: { append: async () => [] },
      encode: async () => new Uint8Array(1),
      view: new LiveView(),
      feeds: new FeedHub(),
      metrics: new PlatformMetrics({ processMetrics: false }),
      repartition: { typeWindows: "type-windows", drift: "drift" },
      sample: () => {},
      onMark: () => {},
      onError: (error: unknown) => {
        throw error;
      },
      now: () => 1_700_000_100_000,
    });
}

const outputs = Array.from({ length: readings }, (_, i) => ({
  type: "reading",
  ingestedAt: 0,
  reading: {
    sensor_id: `traffic-${i % 3000}`,
    type: "traffic",
    event_time: 1_700_000_000_000 + i,
    values: { vehicle_count: 12, avg_speed: 40 },
    passed: true,
    quality_score: 0.9,
    issues: [],
    anomaly_score: 0.1,
    partition: i % 12,
    offset: i,
  },
}));

/** microseconds per reading routed */
function once(routerOf: RouterOf): number {
  const router = routerOf();
  const started = performance.now();
  for (let i = 0; i < readings; i++) {
    router.route(outputs[i]);
    if (i % 200 === 199) router.route({ type: "mark", worker: 0, batch: i });
  }
  return ((performance.now() - started) / readings) * 1000;
}

const sides = {
  ours: await routerFrom(join(import.meta.dir, "..")),
  baseline: await routerFrom(baselineTree),
};
const times = alternateSides(sides, runs, once);
console.log(`ours     us per reading: ${times.ours.map((t) => t.toFixed(2)).join(" ")}`);
console.log(`baseline us per reading: ${times.baseline.map((t) => t.toFixed(2)).join(" ")}`);
printFigure({
  name: "output-router-route-us-per-reading",
  value: median(times.ours),
  unit: "us",
  baseline: `router of ${baselineTree}`,
  baseline_value: median(times.baseline),
  readings,
});
