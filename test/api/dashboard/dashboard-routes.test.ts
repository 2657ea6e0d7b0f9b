import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { dashboardData, dashboardPages } from "../../../api/dashboard/dashboard-routes.ts";
import type { DashboardSummary } from "../../../api/dashboard/dashboard-summary.ts";
import { MAP_SENSORS } from "../../../api/dashboard/dashboard-summary.ts";
import { LiveView } from "../../../api/live-view.ts";
import { PlatformMetrics } from "../../../api/metrics.ts";
import type { Prediction } from "../../../messages/prediction.ts";
import type { ProcessedReading } from "../../../messages/processed-reading.ts";

/** the dashboard's routes mounted as node/node-api.ts mounts them */
function dashboardApp(view = new LiveView(), metrics = new PlatformMetrics({ processMetrics: false })) {
  const app = new Hono();
  app.route("/dashboard", dashboardPages());
  app.route(
    "/api/dashboard",
    dashboardData({
      view,
      metrics,
      health: [{ name: "log", check: () => ({ ok: true }) }],
      nodeInfo: () => ({ applicationId: "app", workers: 2 }),
      sensorPlace: (id) => (id.startsWith("t") ? { district: "Mitte", lat: 52.5, lon: 13.4 } : undefined),
      now: () => 1_000_000,
    }),
  );
  return { app, view, metrics };
}

const reading = (sensorId: string, anomaly: number): ProcessedReading => ({
  sensor_id: sensorId,
  type: "traffic",
  event_time: 1000,
  values: { vehicle_count: 10 },
  passed: true,
  quality_score: 0.9,
  issues: [],
  anomaly_score: anomaly,
  partition: 0,
  offset: 1,
});

describe("dashboard pages and files", () => {
  const { app } = dashboardApp();

  for (const view of ["operational", "analytics", "executive"])
    test(`/dashboard/${view} is an HTML page that loads its module, under a same-origin CSP`, async () => {
      const response = await app.request(`/dashboard/${view}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      const html = await response.text();
      expect(html).toContain(`<script type="module" src="/dashboard/assets/${view}.js">`);
      expect(html).toContain('aria-current="page"');
    });

  test("/dashboard sends the operational view", async () => {
    const response = await app.request("/dashboard");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/dashboard/operational");
  });

  const files: [string, string][] = [
    ["/dashboard/assets/charts.js", "text/javascript"],
    ["/dashboard/assets/dashboard.css", "text/css"],
    ["/dashboard/vendor/uplot.js", "text/javascript"],
    ["/dashboard/vendor/uplot.css", "text/css"],
  ];
  for (const [path, type] of files)
    test(`${path} is served as ${type}`, async () => {
      const response = await app.request(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain(type);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    });

  test("uPlot is the npm package's ES module", async () => {
    expect(await (await app.request("/dashboard/vendor/uplot.js")).text()).toContain(
      "export { uPlot as default }",
    );
  });

  const refused = [
    "/dashboard/assets/../dashboard-routes.ts",
    "/dashboard/assets/%2e%2e/dashboard-routes.ts",
    "/dashboard/assets/..%2fdashboard-routes.ts",
    "/dashboard/assets/%2e%2e%2f%2e%2e%2fpackage.json",
    "/dashboard/vendor/uPlot.cjs.js",
    "/dashboard/vendor/../../package.json",
    "/dashboard/assets/",
    "/dashboard/assets/charts.js/",
    "/dashboard/assets/charts.js%00.ts",
    "/dashboard/nowhere",
  ];
  for (const path of refused)
    test(`${path} serves no file`, async () => {
      const response = await app.request(path);
      expect(response.status).toBe(404);
      const body = await response.text();
      expect(body).not.toContain("import ");
      expect(body).not.toContain('"dependencies"');
    });
});

describe("the dashboard summary", () => {
  test("is computed from the node's metrics, live view and health", async () => {
    const { app, view, metrics } = dashboardApp();
    metrics.messagesByTopic.inc({ topic: "city.sensors.raw", direction: "append" }, 7);
    metrics.messagesByTopic.inc({ topic: "city.sensors.raw", direction: "in" }, 5);
    metrics.messagesByTopic.inc({ topic: "ml.predictions", direction: "out" }, 2);
    metrics.deadLetters.inc({ source: "mqtt", code: "MALFORMED_JSON" }, 3);
    metrics.consumerLag.set({ group: "app", topic: "city.sensors.raw", partition: "1" }, 42);
    metrics.alerts.inc({ rule: "r", severity: "critical" });
    metrics.actors.set({ part: "worker-0", kind: "sensor" }, 4);
    metrics.mailboxDepth.set({ part: "worker-0", kind: "sensor" }, 9);
    metrics.processingLatency.observe({ stage: "window" }, 0.002);
    metrics.sinkLag.set({ sink: "lake-silver_sensor_readings" }, 12);
    metrics.newsSentiment.set({ location: "Mitte" }, -0.25);
    metrics.marketEvents.inc({ kind: "trade", outcome: "accepted" }, 40);
    view.reading(reading("t1", 0.95));
    view.reading(reading("u1", 0.1));

    const response = await app.request("/api/dashboard/summary");
    expect(response.status).toBe(200);
    const summary = (await response.json()) as DashboardSummary;
    expect(summary.at).toBe(1_000_000);
    expect(summary.health.status).toBe("ready");
    expect(summary.totals).toMatchObject({ appended: 7, consumed: 5, out: 2, deadLetters: 3, alerts: 1 });
    expect(summary.lag).toEqual([{ group: "app", topic: "city.sensors.raw", partition: 1, lag: 42 }]);
    expect(summary.deadLetters).toEqual([{ source: "mqtt", code: "MALFORMED_JSON", total: 3 }]);
    expect(summary.sinks).toEqual([{ sink: "lake-silver_sensor_readings", lag: 12 }]);
    expect(summary.news).toEqual([{ location: "Mitte", sentiment: -0.25 }]);
    expect(summary.market).toEqual([{ kind: "trade", outcome: "accepted", total: 40 }]);
    expect(summary.actors).toEqual([{ part: "worker-0", kind: "sensor", actors: 4, mailbox: 9 }]);
    expect(summary.alerts.bySeverity).toEqual({ info: 0, warning: 0, critical: 1 });
    const window = summary.latency.find((l) => l.stage === "window")!;
    expect(window.count).toBe(1);
    expect(window.p50Seconds).toBeGreaterThan(0.001);
    expect(window.p50Seconds).toBeLessThanOrEqual(0.0025);
    // only registered sensors are on the map; the rest count as unregistered
    expect(summary.sensors.map.map((p) => p.id)).toEqual(["t1"]);
    expect(summary.sensors.byDistrict).toEqual([
      { district: "Mitte", sensors: 1, anomalous: 1, quality: 0.9 },
      { district: "unregistered", sensors: 1, anomalous: 0, quality: 0.9 },
    ]);
    expect(summary.sensors.topAnomalies[0]!.sensor_id).toBe("t1");
  });

  test("a forecast's actual is the mean count of the window it forecast, once that window closed", async () => {
    const { app, view } = dashboardApp();
    const prediction: Prediction = {
      prediction_id: "p1",
      model: "traffic-forecast",
      model_version: "1",
      key: "t1",
      window_start: 1000,
      window_end: 2000,
      features: { vehicle_count_lag1: 35 },
      value: 38,
      latency_ms: 0.1,
      at: 1000,
    };
    const aggregate = (mean: number) => ({ count: 2, sum: 2 * mean, mean, min: mean, max: mean });
    view.window({
      scope: "sensor",
      key: "t1",
      type: "traffic",
      window_start: 1000,
      window_end: 2000,
      count: 2,
      fields: { vehicle_count: aggregate(40), avg_speed: aggregate(50) },
      final: true,
      emitted_at: 2000,
    });
    view.prediction(prediction);
    // the next window has not closed: no actual yet
    view.prediction({ ...prediction, prediction_id: "p2", window_start: 2000, window_end: 3000, at: 2000 });
    const summary = (await (await app.request("/api/dashboard/summary")).json()) as DashboardSummary;
    expect(summary.predictions.map((p) => [p.predicted, p.actual])).toEqual([
      [38, 40],
      [38, null],
    ]);
  });

  test("the map stays bounded however many sensors the view holds", async () => {
    const { app, view } = dashboardApp();
    for (let i = 0; i < MAP_SENSORS + 50; i++) view.reading(reading(`t${i}`, 0));
    const summary = (await (await app.request("/api/dashboard/summary")).json()) as DashboardSummary;
    expect(summary.sensors.total).toBe(MAP_SENSORS + 50);
    expect(summary.sensors.map).toHaveLength(MAP_SENSORS);
  });
});
