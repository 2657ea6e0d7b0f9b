import type { Counter, Gauge, Histogram } from "prom-client";

/**
 * The node's own Prometheus metrics read back as plain rows, for the dashboard's summary: the
 * same figures `/metrics` exposes, so the built-in dashboard and a Grafana on Prometheus agree.
 */
export interface MetricRow {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export async function rowsOf(metric: Counter | Gauge): Promise<MetricRow[]> {
  const { values } = await metric.get();
  return values.map((v) => ({ labels: stringLabels(v.labels), value: v.value }));
}

export interface HistogramSummary {
  readonly labels: Readonly<Record<string, string>>;
  readonly count: number;
  readonly sum: number;
  /** cumulative bucket counts by upper bound (the +Inf bucket last) */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
}

/** one summary per label set of the histogram, with quantiles as Prometheus computes them */
export async function histogramsOf(metric: Histogram, by: string): Promise<HistogramSummary[]> {
  const { values } = await metric.get();
  const series = new Map<
    string,
    { labels: Record<string, string>; count: number; sum: number; buckets: { le: number; count: number }[] }
  >();
  for (const v of values) {
    const labels = stringLabels(v.labels);
    const key = labels[by] ?? "";
    let entry = series.get(key);
    if (!entry) {
      const { le: _, ...rest } = labels;
      entry = { labels: rest, count: 0, sum: 0, buckets: [] };
      series.set(key, entry);
    }
    const name = (v as { metricName?: string }).metricName ?? "";
    if (name.endsWith("_bucket")) entry.buckets.push({ le: parseBound(labels.le), count: v.value });
    else if (name.endsWith("_sum")) entry.sum = v.value;
    else if (name.endsWith("_count")) entry.count = v.value;
  }
  return [...series.values()].map((entry) => {
    const buckets = entry.buckets.sort((a, b) => a.le - b.le);
    return {
      ...entry,
      buckets,
      p50: histogramQuantile(0.5, buckets),
      p90: histogramQuantile(0.9, buckets),
      p99: histogramQuantile(0.99, buckets),
    };
  });
}

/**
 * Prometheus' `histogram_quantile`: find the bucket the rank falls in and interpolate linearly
 * inside it (the lowest bucket from 0). A rank in the +Inf bucket answers the highest finite
 * bound, as Prometheus does. No observations: null.
 */
export function histogramQuantile(
  q: number,
  buckets: readonly { readonly le: number; readonly count: number }[],
): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      if (inBucket === 0) return bucket.le;
      return lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = Number.isFinite(bucket.le) ? bucket.le : lowerBound;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

function parseBound(le: string | undefined): number {
  if (le === undefined || le === "+Inf") return Number.POSITIVE_INFINITY;
  return Number(le);
}

function stringLabels(labels: Readonly<Record<string, string | number | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) if (value !== undefined) out[name] = String(value);
  return out;
}
