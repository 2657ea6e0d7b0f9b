import { SENSOR_TYPES } from "../../messages/sensor-reading.ts";
import { type HealthCheck, healthReport } from "../health.ts";
import type { LiveView } from "../live-view.ts";
import type { PlatformMetrics } from "../metrics.ts";
import { histogramsOf, type MetricRow, rowsOf } from "./metric-values.ts";

/**
 * What the dashboard's pages poll every second: one JSON object computed on request from what
 * the node already keeps (its Prometheus metrics, the live view, health). No state of its own:
 * rates and trends are the page's business (two polls make a rate), as they are Prometheus'
 * for Grafana. Everything is bounded: the map holds at most MAP_SENSORS sensors, districts are
 * grouped, predictions are the latest PREDICTIONS.
 */
export interface DashboardSummaryDeps {
  readonly view: LiveView;
  readonly metrics: PlatformMetrics;
  readonly health: readonly HealthCheck[];
  readonly nodeInfo: () => Record<string, unknown>;
  /** where a sensor stands (the sensor registry); unknown sensors are left off the map */
  readonly sensorPlace?: (sensorId: string) => SensorPlace | undefined;
  readonly now?: () => number;
}

export interface SensorPlace {
  readonly district: string;
  readonly lat: number;
  readonly lon: number;
}

export const MAP_SENSORS = 500;
export const PREDICTIONS = 120;
/** a reading's anomaly score at or over this counts the sensor as anomalous on the map */
export const ANOMALOUS_SCORE = 0.9;

export async function dashboardSummary(deps: DashboardSummaryDeps) {
  const now = (deps.now ?? Date.now)();
  const { metrics, view } = deps;
  metrics.collectObserved();
  const health = healthReport(deps.health, now);
  const [messages, deadLetters, actors, mailboxes, restarts, lag, alerts, drift, workers, feedClients] =
    await Promise.all([
      rowsOf(metrics.messagesByTopic),
      rowsOf(metrics.deadLetters),
      rowsOf(metrics.actors),
      rowsOf(metrics.mailboxDepth),
      rowsOf(metrics.restarts),
      rowsOf(metrics.consumerLag),
      rowsOf(metrics.alerts),
      rowsOf(metrics.driftScore),
      rowsOf(metrics.workers),
      rowsOf(metrics.feedClients),
    ]);
  const [sinkLag, newsSentiment, marketEvents] = await Promise.all([
    rowsOf(metrics.sinkLag),
    rowsOf(metrics.newsSentiment),
    rowsOf(metrics.marketEvents),
  ]);
  const [processing, prediction] = await Promise.all([
    histogramsOf(metrics.processingLatency, "stage"),
    histogramsOf(metrics.predictionLatency, "model"),
  ]);
  const mailboxOf = (part: string, kind: string) =>
    mailboxes.find((m) => m.labels.part === part && m.labels.kind === kind)?.value ?? 0;

  return {
    at: now,
    node: deps.nodeInfo(),
    health: { status: health.ready ? "ready" : "unhealthy", checks: health.checks },
    totals: {
      appended: total(messages, (l) => l.direction === "append"),
      consumed: total(messages, (l) => l.direction === "in"),
      out: total(messages, (l) => l.direction === "out"),
      deadLetters: total(deadLetters),
      restarts: total(restarts),
      alerts: total(alerts),
      feedClients: total(feedClients),
      workers: total(workers),
    },
    messages: messages.map((r) => ({ topic: r.labels.topic, direction: r.labels.direction, total: r.value })),
    lag: lag.map((r) => ({
      group: r.labels.group,
      topic: r.labels.topic,
      partition: Number(r.labels.partition),
      lag: r.value,
    })),
    latency: [
      ...processing.map((h) => ({ ...latencyOf(h), stage: h.labels.stage ?? "" })),
      ...prediction.map((h) => ({ ...latencyOf(h), stage: `model:${h.labels.model ?? ""}` })),
    ],
    deadLetters: deadLetters.map((r) => ({ source: r.labels.source, code: r.labels.code, total: r.value })),
    actors: actors.map((r) => ({
      part: r.labels.part,
      kind: r.labels.kind,
      actors: r.value,
      mailbox: mailboxOf(r.labels.part ?? "", r.labels.kind ?? ""),
    })),
    restarts: restarts.map((r) => ({
      decision: r.labels.decision,
      strategy: r.labels.strategy,
      total: r.value,
    })),
    alerts: {
      bySeverity: bySeverity(alerts),
      byRule: alerts.map((r) => ({ rule: r.labels.rule, severity: r.labels.severity, total: r.value })),
      recent: view.recentAlerts(20),
    },
    drift: drift.map((r) => ({ model: r.labels.model, feature: r.labels.feature, score: r.value })),
    quality: qualityOf(view),
    sensors: sensorsOf(view, deps.sensorPlace),
    predictions: predictionsOf(view),
    /** the table sinks (time series, lake, feature store): records not yet written, by sink */
    sinks: sinkLag.map((r) => ({ sink: r.labels.sink, lag: r.value })),
    /** the news room: each place's rolling sentiment (-1..1) */
    news: newsSentiment.map((r) => ({ location: r.labels.location, sentiment: r.value })),
    /** the market room: records received from the sources, by kind and outcome */
    market: marketEvents.map((r) => ({ kind: r.labels.kind, outcome: r.labels.outcome, total: r.value })),
  };
}

export type DashboardSummary = Awaited<ReturnType<typeof dashboardSummary>>;

function total(
  rows: readonly MetricRow[],
  keep: (labels: MetricRow["labels"]) => boolean = () => true,
): number {
  let sum = 0;
  for (const row of rows) if (keep(row.labels)) sum += row.value;
  return sum;
}

function bySeverity(rows: readonly MetricRow[]): Record<"info" | "warning" | "critical", number> {
  const out = { info: 0, warning: 0, critical: 0 };
  for (const row of rows) {
    const severity = row.labels.severity;
    if (severity === "info" || severity === "warning" || severity === "critical") out[severity] += row.value;
  }
  return out;
}

function latencyOf(h: Awaited<ReturnType<typeof histogramsOf>>[number]) {
  return {
    count: h.count,
    meanSeconds: h.count > 0 ? h.sum / h.count : null,
    p50Seconds: h.p50,
    p90Seconds: h.p90,
    p99Seconds: h.p99,
    buckets: h.buckets.map((b) => ({ le: Number.isFinite(b.le) ? b.le : "+Inf", count: b.count })),
  };
}

/** the last ten windows' scores, overall and by type, and issue counts by rule */
function qualityOf(view: LiveView) {
  const quality = view.quality;
  return {
    windows: quality
      .windowStarts()
      .slice(-10)
      .map((start) => {
        const overall = quality.window(start);
        return {
          window_start: start,
          score: overall.score,
          validity: overall.validity,
          completeness: overall.completeness,
          timeliness: overall.timeliness,
          uniqueness: overall.uniqueness,
          received: overall.received,
          byType: Object.fromEntries(SENSOR_TYPES.map((type) => [type, quality.type(type, start).score])),
        };
      }),
    ruleCounts: quality.ruleCounts(),
  };
}

/** sensors by type and district, and the map's points (the first MAP_SENSORS by id) */
function sensorsOf(view: LiveView, placeOf: DashboardSummaryDeps["sensorPlace"]) {
  const all = view.sensorList();
  const byType: Record<string, number> = Object.fromEntries(SENSOR_TYPES.map((t) => [t, 0]));
  const districts = new Map<string, { sensors: number; anomalous: number; qualitySum: number }>();
  const map: {
    id: string;
    type: string;
    district: string;
    lat: number;
    lon: number;
    quality: number;
    anomaly: number;
  }[] = [];
  for (const sensor of all) {
    byType[sensor.type] = (byType[sensor.type] ?? 0) + 1;
    const place = placeOf?.(sensor.sensor_id);
    const district = place?.district ?? "unregistered";
    const entry = districts.get(district) ?? { sensors: 0, anomalous: 0, qualitySum: 0 };
    entry.sensors++;
    entry.qualitySum += sensor.quality_score;
    if (sensor.anomaly_score >= ANOMALOUS_SCORE) entry.anomalous++;
    districts.set(district, entry);
    if (place && map.length < MAP_SENSORS)
      map.push({
        id: sensor.sensor_id,
        type: sensor.type,
        district,
        lat: place.lat,
        lon: place.lon,
        quality: sensor.quality_score,
        anomaly: sensor.anomaly_score,
      });
  }
  const anomalies = [...all]
    .sort((a, b) => b.anomaly_score - a.anomaly_score)
    .slice(0, 10)
    .map((s) => ({
      sensor_id: s.sensor_id,
      type: s.type,
      anomaly: s.anomaly_score,
      quality: s.quality_score,
    }));
  return {
    total: all.length,
    byType,
    byDistrict: [...districts.entries()]
      .map(([district, d]) => ({
        district,
        sensors: d.sensors,
        anomalous: d.anomalous,
        quality: d.sensors > 0 ? d.qualitySum / d.sensors : null,
      }))
      .sort((a, b) => a.district.localeCompare(b.district)),
    map,
    topAnomalies: anomalies,
  };
}

/**
 * Predictions against actuals: the traffic forecast predicts a sensor's next window's mean
 * vehicle count; its actual is that window's measured mean once the window has closed (null
 * until then, or when the view no longer holds the window).
 */
function predictionsOf(view: LiveView) {
  return view
    .recentPredictions(PREDICTIONS)
    .map((p) => {
      const closed = view
        .sensorWindows(p.key)
        .find((w) => w.final && w.window_start === p.window_start && w.window_end === p.window_end);
      const actual = closed?.fields.vehicle_count?.mean ?? null;
      return {
        key: p.key,
        model: p.model,
        model_version: p.model_version,
        window_end: p.window_end,
        predicted: p.value,
        actual,
        at: p.at,
      };
    })
    .reverse();
}
