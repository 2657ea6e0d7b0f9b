/**
 * What the page measures about itself, on `window.dashboardStats` for the browser tests and
 * anyone with devtools open: first paint, first data on screen, how far behind the live data
 * the screen is (update lag), and what the feeds dropped for it.
 */
const LAG_SAMPLES = 4096;

export const stats = {
  view: document.body.dataset.view ?? "",
  /** first contentful paint, ms since navigation start */
  firstPaintMs: null,
  /** the first summary drawn, ms since navigation start */
  firstDataMs: null,
  summaries: 0,
  summaryFailures: 0,
  feedMessages: 0,
  /** messages the node dropped for this page (lagged notices and sequence gaps) */
  feedDropped: 0,
  frames: 0,
  /** ms from a window's emission by the node to its frame on screen (newest LAG_SAMPLES) */
  feedLagMs: [],
  /** ms from the summary's computation by the node to its frame on screen */
  summaryLagMs: [],
};
window.dashboardStats = stats;

new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    if (entry.name === "first-contentful-paint" && stats.firstPaintMs === null) stats.firstPaintMs = entry.startTime;
}).observe({ type: "paint", buffered: true });

export function recordLag(samples, ms) {
  samples.push(ms);
  if (samples.length > LAG_SAMPLES) samples.splice(0, samples.length - LAG_SAMPLES);
}

export function dataDrawn() {
  stats.summaries++;
  if (stats.firstDataMs === null) stats.firstDataMs = performance.now();
}
