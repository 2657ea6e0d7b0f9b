/**
 * Analytics view: what the data says. Sensors on the city map and by district, the sensors
 * with the highest anomaly scores, one sensor's windows as they update live (the `windows`
 * feed), data quality per window, and the congestion model's predictions against the actual
 * value of the same window.
 */
import { CityMap } from "./city-map.js";
import { BarChart, empty, TimeChart } from "./charts.js";
import { followFeeds, frameScheduler, pollSummary } from "./live-data.js";
import { recordLag, stats } from "./page-stats.js";

const panel = (id) => document.getElementById(id);

const map = new CityMap(panel("city-map"));
const districts = new BarChart(panel("districts"), { label: "sensors" });
const anomalies = new BarChart(panel("anomalies"), { label: "anomaly score", color: "#f85149", decimals: 3 });
const quality = new TimeChart(panel("quality"), {
  series: ["score", "validity", "completeness", "timeliness"],
  decimals: 3,
});
const predictions = new TimeChart(panel("predictions"), { series: ["predicted (mean over sensors)", "actual"], decimals: 3 });
const marketsPanel = panel("markets");
const roomsNote = empty(
  marketsPanel,
  "No market-data or news source runs on this node yet: bars, indicators and sentiment appear here once those sources publish.",
);
let sentiment = null;

/** the news room's sentiment by district, and what the market room received */
function showRooms(summary) {
  const news = summary.news ?? [];
  const market = summary.market ?? [];
  if (news.length === 0 && market.length === 0) return;
  const received = new Map();
  for (const m of market) received.set(m.kind, (received.get(m.kind) ?? 0) + m.total);
  roomsNote.textContent =
    market.length > 0
      ? `market records received: ${[...received].map(([kind, n]) => `${Math.round(n)} ${kind}s`).join(", ")} (bars and indicators: /api/markets/<symbol>/bars)`
      : "news sentiment per district (0 very negative, 50 neutral, 100 very positive)";
  if (news.length === 0) return;
  sentiment ??= new BarChart(marketsPanel, { label: "news sentiment (0-100)", color: "#d29922" });
  sentiment.set(
    news.map((n) => n.location),
    news.map((n) => Math.round((n.sentiment + 1) * 50)),
  );
  marketsPanel.dataset.points = String(news.length);
}

/** the sensor whose windows are shown: the first traffic sensor seen, or ?sensor=<id> */
let followed = new URLSearchParams(location.search).get("sensor");
const windowsPanel = panel("sensor-windows");
const caption = document.createElement("p");
caption.className = "empty";
windowsPanel.appendChild(caption);
let sensorWindows = null;
/** window_start -> latest mean of the window's first field */
const windowMeans = new Map();
const pendingWindows = [];

const drawWindows = frameScheduler(() => {
  const now = Date.now();
  for (const w of pendingWindows.splice(0)) {
    recordLag(stats.feedLagMs, now - w.emitted_at);
    if (w.scope !== "sensor") continue;
    followed ??= w.key;
    if (w.key !== followed) continue;
    const field = Object.keys(w.fields).sort()[0];
    if (field === undefined) continue;
    if (!sensorWindows) {
      caption.textContent = `sensor ${followed}: ${field} (mean per window; the open window moves with each reading)`;
      sensorWindows = new TimeChart(windowsPanel, { series: [`${field} mean`, "readings"], maxPoints: 60 });
    }
    windowMeans.set(w.window_start, [w.fields[field].mean, w.count]);
  }
  if (!sensorWindows) return;
  const starts = [...windowMeans.keys()].sort((a, b) => a - b).slice(-60);
  for (const start of windowMeans.keys()) if (!starts.includes(start)) windowMeans.delete(start);
  sensorWindows.replace(starts, [starts.map((s) => windowMeans.get(s)[0]), starts.map((s) => windowMeans.get(s)[1])]);
  windowsPanel.dataset.points = String(starts.length);
});

followFeeds(["windows"], (_feed, window) => {
  pendingWindows.push(window);
  // a page that cannot keep up drops the oldest instead of growing (the node does the same)
  if (pendingWindows.length > 50_000) pendingWindows.splice(0, pendingWindows.length - 50_000);
  drawWindows();
});

pollSummary((summary) => {
  showRooms(summary);
  map.show(summary.sensors.map);
  const byDistrict = summary.sensors.byDistrict;
  districts.set(byDistrict.map((d) => d.district), byDistrict.map((d) => d.sensors));
  const top = summary.sensors.topAnomalies;
  anomalies.set(top.map((a) => a.sensor_id), top.map((a) => a.anomaly));

  const windows = summary.quality.windows;
  quality.replace(
    windows.map((w) => w.window_start),
    [windows.map((w) => w.score), windows.map((w) => w.validity), windows.map((w) => w.completeness), windows.map((w) => w.timeliness)],
  );

  // one point per window: the mean over the sensors the model scored for it
  const byWindow = new Map();
  for (const p of summary.predictions) {
    const w = byWindow.get(p.window_end) ?? { predicted: 0, actual: 0, n: 0, withActual: 0 };
    w.predicted += p.predicted;
    w.n++;
    if (p.actual !== null) {
      w.actual += p.actual;
      w.withActual++;
    }
    byWindow.set(p.window_end, w);
  }
  const ends = [...byWindow.keys()].sort((a, b) => a - b);
  predictions.replace(ends, [
    ends.map((e) => byWindow.get(e).predicted / byWindow.get(e).n),
    ends.map((e) => (byWindow.get(e).withActual > 0 ? byWindow.get(e).actual / byWindow.get(e).withActual : null)),
  ]);
});
