/**
 * The three dashboard pages as HTML: the same frame (navigation, the node's status line) around
 * each view's panels. A panel is an empty `<figure>` with an id; the view's ES module
 * (assets/<view>.js) finds it and draws into it from the summary it polls and the /ws feeds.
 */
export const DASHBOARD_VIEWS = ["operational", "analytics", "executive"] as const;
export type DashboardView = (typeof DASHBOARD_VIEWS)[number];

const TITLES: Record<DashboardView, string> = {
  operational: "Operational",
  analytics: "Analytics",
  executive: "Executive",
};

interface Panel {
  readonly id: string;
  readonly title: string;
  readonly wide?: boolean;
}

const PANELS: Record<DashboardView, readonly Panel[]> = {
  operational: [
    { id: "throughput", title: "Throughput (records/s)", wide: true },
    { id: "input-lag", title: "Consumer lag per partition (city.sensors.raw)" },
    { id: "aggregate-lag", title: "Sinks' lag: table sinks and single-owner aggregates, records behind" },
    { id: "latency", title: "Processing latency (s): p50 / p99 by stage", wide: true },
    { id: "latency-histogram", title: "Window latency histogram (observations per bucket)" },
    { id: "dead-letters", title: "Dead letters by reason" },
    { id: "actors", title: "Actors per kind" },
    { id: "restarts", title: "Supervisor restarts (total)" },
    { id: "recent-dead-letters", title: "Latest dead letters (live)", wide: true },
  ],
  analytics: [
    { id: "city-map", title: "Sensors on the city map (colour: anomaly score)", wide: true },
    { id: "districts", title: "Sensors by district" },
    { id: "anomalies", title: "Highest anomaly scores per sensor" },
    { id: "sensor-windows", title: "Windows of one sensor (live mean per window)", wide: true },
    { id: "quality", title: "Data quality per window" },
    { id: "predictions", title: "Congestion per window: predicted against actual" },
    { id: "markets", title: "Market bars, indicators and news sentiment" },
  ],
  executive: [
    { id: "kpi-quality", title: "Data quality" },
    { id: "kpi-model", title: "Model performance (MAE, lower is better)" },
    { id: "kpi-alerts", title: "Alerts by severity" },
    { id: "kpi-availability", title: "Availability against the SLO" },
    { id: "alerts-trend", title: "Alerts raised (cumulative, by severity)", wide: true },
    { id: "recent-alerts", title: "Latest alerts (live)", wide: true },
  ],
};

export function dashboardPage(view: DashboardView): string {
  const nav = DASHBOARD_VIEWS.map(
    (v) => `<a href="/dashboard/${v}"${v === view ? ' aria-current="page"' : ""}>${TITLES[v]}</a>`,
  ).join("");
  const panels = PANELS[view]
    .map(
      (p) =>
        `<section class="panel${p.wide ? " wide" : ""}"><h2>${p.title}</h2><figure id="${p.id}" data-panel="${p.id}"></figure></section>`,
    )
    .join("\n      ");
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${TITLES[view]} · streaming-ml</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/dashboard/vendor/uplot.css">
    <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
    <script type="module" src="/dashboard/assets/${view}.js"></script>
  </head>
  <body data-view="${view}">
    <header>
      <h1>streaming-ml</h1>
      <nav>${nav}</nav>
      <p id="node-status" class="status">connecting...</p>
    </header>
    <main>
      ${panels}
    </main>
  </body>
</html>
`;
}
