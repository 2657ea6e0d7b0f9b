/**
 * The Grafana dashboards (provisioning JSON, Prometheus datasource) of the three views, written
 * from this file so the panels stay short to read and alike: `bun ops/grafana/dashboards.ts`
 * writes ops/grafana/dashboards/*.json, and test/ops/grafana-dashboards.test.ts fails when the
 * JSON and this file disagree. The queries read the node's metric names (api/metrics.ts) and
 * the recording rules of ops/prometheus/recording-rules.yml; the scrape test runs every one of
 * them against a real Prometheus. The city map stays in the built-in dashboard: sensor places
 * are reference data, not metrics.
 */
import { writeFileSync } from "node:fs";

export const DATASOURCE = { type: "prometheus", uid: "streaming-ml-prometheus" } as const;

type Unit = "short" | "s" | "percentunit" | "reqps" | "none";

interface Query {
  readonly expr: string;
  readonly legend?: string;
}

interface PanelSpec {
  readonly title: string;
  readonly kind: "timeseries" | "stat" | "barchart" | "heatmap" | "bargauge";
  readonly queries: readonly Query[];
  readonly unit?: Unit;
  /** grid width out of 24 */
  readonly width?: number;
  readonly height?: number;
  readonly description?: string;
  /** stat panels: red under, green at or over */
  readonly threshold?: number;
}

const instance = 'instance=~"$instance"';

const VIEWS: Record<"operational" | "analytics" | "executive", { title: string; panels: PanelSpec[] }> = {
  operational: {
    title: "Operational",
    panels: [
      {
        title: "Throughput in and out",
        kind: "timeseries",
        unit: "reqps",
        width: 24,
        queries: [
          { expr: `instance:platform_ingest_records:rate1m{${instance}}`, legend: "ingest {{instance}}" },
          { expr: `instance:platform_consumed_records:rate1m{${instance}}`, legend: "consumed {{instance}}" },
          { expr: "topic:platform_output_records:rate1m", legend: "out {{topic}}" },
        ],
      },
      {
        title: "Consumer lag per partition (input)",
        kind: "timeseries",
        unit: "short",
        description: "end offset minus the group's committed offset, the same on every node (max over nodes)",
        queries: [
          {
            expr: 'group_topic_partition:platform_consumer_lag_records:max{topic="city.sensors.raw"}',
            legend: "p{{partition}}",
          },
        ],
      },
      {
        title: "Sinks' lag: single-owner aggregates",
        kind: "timeseries",
        unit: "short",
        queries: [
          {
            expr: 'group_topic_partition:platform_consumer_lag_records:max{group=~".*-aggregates"}',
            legend: "{{topic}} p{{partition}}",
          },
        ],
      },
      {
        title: "Processing latency p50 / p99 by stage",
        kind: "timeseries",
        unit: "s",
        queries: [
          { expr: "stage:platform_processing_latency_seconds:p50_5m", legend: "p50 {{stage}}" },
          { expr: "stage:platform_processing_latency_seconds:p99_5m", legend: "p99 {{stage}}" },
        ],
      },
      {
        title: "Window latency histogram",
        kind: "heatmap",
        unit: "s",
        queries: [
          {
            expr: `sum by (le) (rate(platform_processing_latency_seconds_bucket{stage="window", ${instance}}[$__rate_interval]))`,
            legend: "{{le}}",
          },
        ],
      },
      {
        title: "Dead letters by reason",
        kind: "timeseries",
        unit: "reqps",
        queries: [{ expr: "source_code:platform_dead_letters:rate5m", legend: "{{source}} {{code}}" }],
      },
      {
        title: "Actors per kind",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (kind) (platform_actors{${instance}})`, legend: "{{kind}}" }],
      },
      {
        title: "Mailbox depth per kind",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (kind) (platform_mailbox_depth{${instance}})`, legend: "{{kind}}" }],
      },
      {
        title: "Supervisor restarts (15 min)",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: "platform:supervisor_restarts:increase15m", legend: "{{decision}}" }],
      },
      {
        title: "Workers",
        kind: "stat",
        unit: "none",
        width: 6,
        queries: [{ expr: `sum(platform_workers{${instance}})` }],
      },
      {
        title: "Feed clients",
        kind: "stat",
        unit: "none",
        width: 6,
        queries: [{ expr: `sum(platform_feed_clients{${instance}})` }],
      },
    ],
  },
  analytics: {
    title: "Analytics",
    panels: [
      {
        title: "Data quality by sensor type",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: "sensor_type:platform_quality_score:min", legend: "{{sensor_type}}" }],
      },
      {
        title: "Quality issues by rule",
        kind: "timeseries",
        unit: "reqps",
        queries: [
          {
            expr: `sum by (rule, severity) (rate(platform_quality_issues_total{${instance}}[$__rate_interval]))`,
            legend: "{{rule}} ({{severity}})",
          },
        ],
      },
      {
        title: "Anomalous readings by sensor type (score over 0.9)",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: "sensor_type:platform_anomalous_readings:ratio5m", legend: "{{sensor_type}}" }],
      },
      {
        title: "Anomaly scores",
        kind: "heatmap",
        queries: [
          {
            expr: `sum by (le) (rate(platform_anomaly_score_bucket{${instance}}[$__rate_interval]))`,
            legend: "{{le}}",
          },
        ],
      },
      {
        title: "Drift score by model and feature",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: "model_feature:platform_drift_score:max", legend: "{{model}} {{feature}}" }],
      },
      {
        title: "Predictions by model",
        kind: "timeseries",
        unit: "reqps",
        queries: [{ expr: "model:platform_predictions:rate5m", legend: "{{model}}" }],
      },
      {
        title: "Prediction latency p99",
        kind: "timeseries",
        unit: "s",
        queries: [{ expr: "model:platform_prediction_latency_seconds:p99_5m", legend: "{{model}}" }],
      },
      {
        title: "Late records",
        kind: "timeseries",
        unit: "reqps",
        queries: [
          {
            expr: `sum by (stream) (rate(platform_late_records_total{${instance}}[$__rate_interval]))`,
            legend: "{{stream}}",
          },
        ],
      },
    ],
  },
  executive: {
    title: "Executive",
    panels: [
      {
        title: "Availability (30 days, SLO 99.5%)",
        kind: "stat",
        unit: "percentunit",
        width: 6,
        threshold: 0.995,
        queries: [{ expr: "platform:availability:ratio_30d" }],
      },
      {
        title: "Error budget left",
        kind: "stat",
        unit: "percentunit",
        width: 6,
        threshold: 0.25,
        queries: [{ expr: "platform:error_budget_remaining:ratio_30d" }],
      },
      {
        title: "Data quality (worst type)",
        kind: "stat",
        unit: "percentunit",
        width: 6,
        threshold: 0.9,
        queries: [{ expr: "min(sensor_type:platform_quality_score:min)" }],
      },
      {
        title: "Model drift (worst feature)",
        kind: "stat",
        unit: "percentunit",
        width: 6,
        queries: [{ expr: "max(model_feature:platform_drift_score:max)" }],
      },
      {
        title: "Alerts in the last hour by severity",
        kind: "bargauge",
        unit: "short",
        queries: [{ expr: "severity:platform_alerts:increase1h", legend: "{{severity}}" }],
      },
      {
        title: "Availability trend against the SLO",
        kind: "timeseries",
        unit: "percentunit",
        queries: [
          { expr: `instance:platform_up:avg5m{${instance}}`, legend: "{{instance}}" },
          { expr: "vector(0.995)", legend: "SLO" },
        ],
      },
      {
        title: "Readings ingested per second",
        kind: "timeseries",
        unit: "reqps",
        width: 24,
        queries: [{ expr: "platform:ingest_records:rate1m", legend: "all nodes" }],
      },
    ],
  },
};

export type GrafanaView = keyof typeof VIEWS;
export const GRAFANA_VIEWS = Object.keys(VIEWS) as GrafanaView[];

export function grafanaDashboard(view: GrafanaView) {
  const { title, panels } = VIEWS[view];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return {
    uid: `streaming-ml-${view}`,
    title: `streaming-ml · ${title}`,
    tags: ["streaming-ml"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "5s",
    time: { from: "now-30m", to: "now" },
    links: GRAFANA_VIEWS.filter((v) => v !== view).map((v) => ({
      type: "link",
      title: VIEWS[v].title,
      url: `/d/streaming-ml-${v}`,
    })),
    templating: {
      list: [
        {
          name: "instance",
          label: "node",
          type: "query",
          datasource: DATASOURCE,
          query: { query: 'label_values(up{job="streaming-ml"}, instance)', refId: "instance" },
          definition: 'label_values(up{job="streaming-ml"}, instance)',
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: ".*",
          current: { text: "All", value: "$__all" },
        },
      ],
    },
    panels: panels.map((spec, index) => {
      const width = spec.width ?? 12;
      const height = spec.height ?? (spec.kind === "stat" ? 5 : 8);
      if (x + width > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      const gridPos = { x, y, w: width, h: height };
      x += width;
      rowHeight = Math.max(rowHeight, height);
      return panelJson(spec, index + 1, gridPos);
    }),
  };
}

function panelJson(spec: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }) {
  const defaults: Record<string, unknown> = { unit: spec.unit ?? "short" };
  if (spec.threshold !== undefined)
    defaults.thresholds = {
      mode: "absolute",
      steps: [
        { color: "red", value: null },
        { color: "green", value: spec.threshold },
      ],
    };
  return {
    id,
    type: spec.kind,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults, overrides: [] },
    options:
      spec.kind === "stat"
        ? { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "value" }
        : spec.kind === "heatmap"
          ? { calculate: false, yAxis: { unit: spec.unit ?? "short" } }
          : { legend: { displayMode: "list", placement: "bottom", showLegend: true } },
    targets: spec.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      ...(q.legend ? { legendFormat: q.legend } : {}),
      ...(spec.kind === "heatmap" ? { format: "heatmap" } : {}),
      ...(spec.kind === "stat" || spec.kind === "bargauge" ? { instant: true } : {}),
    })),
  };
}

export function dashboardFileText(view: GrafanaView): string {
  return `${JSON.stringify(grafanaDashboard(view), null, 2)}\n`;
}

if (import.meta.main)
  for (const view of GRAFANA_VIEWS) {
    const path = new URL(`./dashboards/${view}.json`, import.meta.url);
    writeFileSync(path, dashboardFileText(view));
    console.log(`wrote ${path.pathname}`);
  }
