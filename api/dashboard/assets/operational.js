/**
 * Operational view: is the pipeline keeping up? Throughput in and out, consumer lag per
 * partition, latency (quantiles of the last second, from the histogram's bucket deltas, as
 * Prometheus' rate() would give), dead letters by reason, actors per kind, restarts, workers.
 */
import { BarChart, LiveTable, TimeChart } from "./charts.js";
import { followFeeds, pollSummary, ratesOf } from "./live-data.js";

const panel = (id) => document.getElementById(id);

const throughput = new TimeChart(panel("throughput"), {
  series: ["appended/s (ingest)", "consumed/s (actors in)", "out/s (to topics)", "dead letters/s"],
  yLabel: "records/s",
  decimals: 0,
});
const inputLag = new BarChart(panel("input-lag"), { label: "records behind" });
const aggregateLag = new BarChart(panel("aggregate-lag"), { label: "records behind", color: "#bc8cff" });
const latency = new TimeChart(panel("latency"), {
  series: ["window p50", "window p99", "prediction p50", "prediction p99"],
  yLabel: "seconds",
  decimals: 4,
});
const histogram = new BarChart(panel("latency-histogram"), { label: "windows", color: "#39c5cf" });
const deadLetters = new BarChart(panel("dead-letters"), { label: "dead letters", color: "#f85149" });
const actors = new BarChart(panel("actors"), { label: "actors", color: "#3fb950" });
const restarts = new TimeChart(panel("restarts"), { series: ["restarts (total)", "workers"], decimals: 0 });
const recentDeadLetters = new LiveTable(panel("recent-dead-letters"), ["time", "source", "code", "reason"]);

/** Prometheus' histogram_quantile over cumulative buckets [{le, count}] */
function quantile(q, buckets) {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count } of buckets) {
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : le;
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket === 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    if (Number.isFinite(bound)) lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

/** the buckets' growth since the previous summary: the last interval's distribution */
function bucketDelta(current, previous) {
  if (!current) return [];
  if (!previous) return current.buckets;
  return current.buckets.map((b, i) => ({ le: b.le, count: b.count - (previous.buckets[i]?.count ?? 0) }));
}

function stageOf(summary, prefix) {
  return summary?.latency.find((l) => l.stage === prefix || l.stage.startsWith(prefix));
}

function lagBars(rows) {
  rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return rows;
}

pollSummary((summary, previous) => {
  const rates = ratesOf(summary, previous, ["appended", "consumed", "out", "deadLetters"]);
  throughput.push(summary.at, [rates.appended, rates.consumed, rates.out, rates.deadLetters]);

  const app = summary.node.applicationId;
  const input = lagBars(summary.lag.filter((l) => l.group === app));
  inputLag.set(input.map((l) => `p${l.partition}`), input.map((l) => l.lag));
  const aggregates = lagBars(summary.lag.filter((l) => l.group !== app));
  // the table sinks (time series, lake, feature store) beside the single-owner aggregates
  const sinks = summary.sinks ?? [];
  aggregateLag.set(
    [
      ...aggregates.map((l) => `${l.topic.includes("drift") ? "drift" : "type-win"}/p${l.partition}`),
      ...sinks.map((s) => s.sink),
    ],
    [...aggregates.map((l) => l.lag), ...sinks.map((s) => s.lag)],
  );

  const window = bucketDelta(stageOf(summary, "window"), stageOf(previous, "window"));
  const model = bucketDelta(stageOf(summary, "prediction"), stageOf(previous, "prediction"));
  latency.push(summary.at, [quantile(0.5, window), quantile(0.99, window), quantile(0.5, model), quantile(0.99, model)]);

  const windowStage = stageOf(summary, "window");
  if (windowStage) {
    const buckets = windowStage.buckets;
    histogram.set(
      buckets.map((b) => (b.le === "+Inf" ? "more" : `≤${b.le * 1000}ms`)),
      buckets.map((b, i) => b.count - (i > 0 ? buckets[i - 1].count : 0)),
    );
  }

  const letters = [...summary.deadLetters].sort((a, b) => b.total - a.total);
  deadLetters.set(letters.map((d) => `${d.source} ${d.code}`), letters.map((d) => d.total));

  const byKind = new Map();
  for (const a of summary.actors) byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + a.actors);
  const kinds = [...byKind.keys()].sort();
  actors.set(kinds, kinds.map((k) => byKind.get(k)));

  restarts.push(summary.at, [summary.totals.restarts, summary.totals.workers]);
});

followFeeds(["dead-letters", "supervisor"], (feed, data) => {
  if (feed === "dead-letters")
    recentDeadLetters.prepend([new Date(data.at).toLocaleTimeString(), data.source, data.code, data.reason]);
});
