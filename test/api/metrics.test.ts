import { expect, test } from "bun:test";
import { PlatformMetrics } from "../../api/metrics.ts";

test("the log's own counters are read at every scrape: corrupt batches by topic, WAL checkpoint failures", async () => {
  const metrics = new PlatformMetrics({ processMetrics: false });
  const corrupt = new Map<string, number>();
  let checkpoints = { failing: false, failures: 0 };
  metrics.observe({ corruptBatches: () => corrupt, walCheckpoints: () => checkpoints });
  expect(await metrics.text()).toContain("platform_wal_checkpoint_failing 0");
  corrupt.set("city.sensors.raw", 3);
  checkpoints = { failing: true, failures: 2 };
  const text = await metrics.text();
  expect(text).toContain('platform_log_corrupt_batches_total{topic="city.sensors.raw"} 3');
  expect(text).toContain("platform_wal_checkpoint_failures_total 2");
  expect(text).toContain("platform_wal_checkpoint_failing 1");
  // totals, not increments: a second scrape does not add them again
  expect(await metrics.text()).toContain('platform_log_corrupt_batches_total{topic="city.sensors.raw"} 3');
});
