import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningNode } from "../../node/start-node.ts";
import { GRAFANA_VIEWS, grafanaDashboard } from "../../ops/grafana/dashboards.ts";
import { type PrometheusServer, startPrometheus } from "../../testkit/prometheus-server.ts";
import { startTestNode } from "../node/node-fixture.ts";

/**
 * A real Prometheus scraping a real node: a node with its simulator running, and Debian's
 * Prometheus on a free port with a config written here (1 s scrapes) and the rules of
 * ops/prometheus/. Its HTTP API must hold the node's series, the recording rules must compute,
 * every alerting rule must evaluate without error, and every Grafana query must run.
 */
const RULES = join(import.meta.dir, "../../ops/prometheus");

let node: RunningNode;
let cleanup: () => Promise<void>;
let prometheus: PrometheusServer;

beforeAll(async () => {
  ({ node, cleanup } = await startTestNode({ simulate: true, rate: 200, windowMs: 1000 }));
  prometheus = await startPrometheus({
    targets: [new URL(node.apiUrl).host],
    ruleFiles: [join(RULES, "recording-rules.yml"), join(RULES, "alerting-rules.yml")],
    scrapeIntervalS: 1,
  });
});

afterAll(async () => {
  await prometheus?.stop();
  await cleanup?.();
});

/** an instant query's series, asked again until `done` or the deadline (Prometheus scrapes on its own clock) */
async function seriesOf(expr: string, done: (n: number) => boolean = (n) => n > 0, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await prometheus.query(expr);
    if (!result.ok) throw new Error(`${expr}: ${result.error}`);
    if (done(result.series.length) || Date.now() > deadline) return result.series;
    await Bun.sleep(250);
  }
}

describe("a real Prometheus scraping the node", () => {
  test("the node is up and its series are there", async () => {
    const up = await seriesOf('up{job="streaming-ml"} == 1');
    expect(up).toHaveLength(1);
    const appended = await seriesOf(
      'platform_messages_total{topic="city.sensors.raw", direction="append"} > 0',
    );
    expect(appended).toHaveLength(1);
    expect(Number(appended[0]!.value[1])).toBeGreaterThan(0);
    const lag = await seriesOf(
      `platform_consumer_lag_records{group="${node.config.applicationId}", topic="city.sensors.raw"}`,
      (n) => n >= node.config.partitions,
    );
    expect(lag.map((s) => s.metric.partition).sort()).toEqual(
      Array.from({ length: node.config.partitions }, (_, p) => String(p)).sort(),
    );
    const workers = await seriesOf("platform_workers");
    expect(workers[0]!.value[1]).toBe(String(node.progress().workers));
  });

  test("the recording rules compute from the node's series", async () => {
    const ingest = await seriesOf("instance:platform_ingest_records:rate1m > 0");
    expect(Number(ingest[0]!.value[1])).toBeGreaterThan(0);
    const latency = await seriesOf('stage:platform_processing_latency_seconds:p99_5m{stage="window"}');
    expect(Number(latency[0]!.value[1])).toBeGreaterThan(0);
    expect(await seriesOf("group:platform_consumer_lag_records:sum")).not.toHaveLength(0);
  });

  test("every rule evaluates without error", async () => {
    const deadline = Date.now() + 30_000;
    let rules: { name: string; health: string; lastError?: string }[] = [];
    for (;;) {
      const body = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
      };
      rules = body.data.groups.flatMap((g) => g.rules);
      if (rules.every((r) => r.health !== "unknown") || Date.now() > deadline) break;
      await Bun.sleep(250);
    }
    expect(rules.length).toBeGreaterThan(30);
    expect(
      rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`),
    ).toEqual([]);
  });

  test("every Grafana query runs, and the core panels have data", async () => {
    // Grafana's variables as Grafana would fill them: all nodes, its smallest rate interval
    const concrete = (expr: string) =>
      expr.replaceAll("$instance", ".*").replaceAll("$__rate_interval", "1m");
    const failed: string[] = [];
    const empty: string[] = [];
    for (const view of GRAFANA_VIEWS)
      for (const panel of grafanaDashboard(view).panels)
        for (const target of panel.targets) {
          const result = await prometheus.query(concrete(target.expr));
          if (!result.ok) failed.push(`${view}/${panel.title}: ${result.error}`);
          else if (result.series.length === 0) empty.push(`${view}/${panel.title}`);
        }
    expect(failed).toEqual([]);
    for (const core of [
      "operational/Throughput in and out",
      "operational/Actors per kind",
      "operational/Workers",
    ])
      expect(empty).not.toContain(core);
    console.log(
      `grafana queries without data yet (nothing of that kind happened): ${empty.join(", ") || "none"}`,
    );
  });
});
