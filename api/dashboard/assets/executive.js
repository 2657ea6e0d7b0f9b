/**
 * Executive view: four KPIs with their trend. Data quality (the latest window's score), model
 * performance (mean absolute error of the recent predictions against the actual congestion of
 * the same windows, and the worst drift score), alerts by severity, and availability against
 * the SLO: the share of the page's one-second looks at the node that found it healthy (the
 * long-range figure is Prometheus' `platform:availability:ratio_30d`, ops/prometheus/).
 */
import { KpiTile, LiveTable, TimeChart } from "./charts.js";
import { followFeeds, pollSummary } from "./live-data.js";

export const AVAILABILITY_SLO = 0.995;
export const QUALITY_TARGET = 0.9;

const panel = (id) => document.getElementById(id);
const percent = (v) => `${(100 * v).toFixed(2)}%`;

const quality = new KpiTile(panel("kpi-quality"), { series: ["quality score"], decimals: 3 });
const model = new KpiTile(panel("kpi-model"), { series: ["MAE", "worst drift score"], decimals: 4 });
const alerts = new KpiTile(panel("kpi-alerts"), { series: ["critical", "warning", "info"], decimals: 0 });
const availability = new KpiTile(panel("kpi-availability"), { series: ["availability", "SLO"], decimals: 4 });
const alertsTrend = new TimeChart(panel("alerts-trend"), { series: ["critical", "warning", "info"], decimals: 0 });
const recentAlerts = new LiveTable(panel("recent-alerts"), ["time", "severity", "rule", "message"]);

let looks = 0;
let healthyLooks = 0;
let shownAlerts = new Set();

function showAlert(alert) {
  if (shownAlerts.has(alert.id)) return;
  shownAlerts.add(alert.id);
  if (shownAlerts.size > 1000) shownAlerts = new Set([...shownAlerts].slice(-500));
  recentAlerts.prepend([new Date(alert.at).toLocaleTimeString(), alert.severity, alert.rule, alert.message]);
}

pollSummary((summary, previous) => {
  const latestWindow = summary.quality.windows.at(-1);
  const score = latestWindow?.score ?? null;
  quality.show(
    score === null ? "-" : percent(score),
    score === null ? "" : score >= QUALITY_TARGET ? "good" : "bad",
    latestWindow ? `window from ${new Date(latestWindow.window_start).toLocaleTimeString()}, ${latestWindow.received} readings; target ${percent(QUALITY_TARGET)}` : "no readings yet",
  );
  quality.push(summary.at, [score]);

  const scored = summary.predictions.filter((p) => p.actual !== null);
  const mae = scored.length > 0 ? scored.reduce((s, p) => s + Math.abs(p.predicted - p.actual), 0) / scored.length : null;
  const drift = summary.drift.length > 0 ? Math.max(...summary.drift.map((d) => d.score)) : null;
  model.show(
    mae === null ? "-" : mae.toFixed(4),
    mae === null ? "" : mae <= 0.05 ? "good" : "warn",
    `${scored.length} recent predictions; worst drift score ${drift === null ? "-" : drift.toFixed(3)}`,
  );
  model.push(summary.at, [mae, drift]);

  const s = summary.alerts.bySeverity;
  const fired = previous ? s.critical - previous.alerts.bySeverity.critical : 0;
  alerts.show(`${s.critical} / ${s.warning} / ${s.info}`, s.critical > 0 ? "bad" : s.warning > 0 ? "warn" : "good", `critical / warning / info since start${fired > 0 ? `; ${fired} critical in the last second` : ""}`);
  alerts.push(summary.at, [s.critical, s.warning, s.info]);
  alertsTrend.push(summary.at, [s.critical, s.warning, s.info]);
  for (const alert of [...summary.alerts.recent].reverse()) showAlert(alert);

  looks++;
  if (summary.health.status === "ready") healthyLooks++;
  const ratio = healthyLooks / looks;
  const budget = 1 - (1 - ratio) / (1 - AVAILABILITY_SLO);
  availability.show(
    percent(ratio),
    ratio >= AVAILABILITY_SLO ? "good" : "bad",
    `SLO ${percent(AVAILABILITY_SLO)}; error budget left ${percent(Math.max(0, budget))}; ${looks} looks, node ${summary.health.status}`,
  );
  availability.push(summary.at, [ratio, AVAILABILITY_SLO]);
}, {
  // a look the node did not answer is a look at an unavailable node
  onUnreachable: () => {
    looks++;
  },
});

followFeeds(["alerts"], (_feed, alert) => showAlert(alert));
