import type { Alert } from "../actors/alert-rules.ts";
import type { DriftReport } from "../messages/drift-report.ts";
import type { Prediction } from "../messages/prediction.ts";
import type { ProcessedReading } from "../messages/processed-reading.ts";
import type { SensorType } from "../messages/sensor-reading.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { QualityIssue as QualityIssueOfRules } from "../stream/quality/quality-rules.ts";
import { QualityScoreboard } from "../stream/quality/quality-score.ts";

/**
 * The node's in-memory read model: the latest of everything, bounded, for the REST API.
 * It is a sink like any other (fed from the actors' outputs), never a source of truth; the
 * log and the lake are.
 */
export interface SensorSummary {
  readonly sensor_id: string;
  readonly type: SensorType;
  readonly readings: number;
  readonly last_event_time: number;
  readonly quality_score: number;
  readonly anomaly_score: number;
}

class BoundedList<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  /** newest first */
  latest(limit: number): T[] {
    return this.items.slice(-limit).reverse();
  }
}

export class LiveView {
  private readonly sensors = new Map<string, { summary: SensorSummary; latest: ProcessedReading }>();
  private readonly windowsBySensor = new Map<string, BoundedList<WindowResult>>();
  private readonly windowsByType = new Map<SensorType, BoundedList<WindowResult>>();
  private readonly predictions = new BoundedList<Prediction>(1000);
  private readonly predictionsByKey = new Map<string, Prediction>();
  private readonly drift = new Map<string, DriftReport>();
  private readonly alerts = new BoundedList<Alert>(1000);

  /** data quality per sensor, per type and per time window (stream/quality's formula) */
  readonly quality: QualityScoreboard;

  constructor(
    options: {
      readonly windowsPerKey?: number;
      readonly qualityWindowMs?: number;
      readonly sensorIntervalMs?: number;
    } = {},
  ) {
    this.windowsPerKey = options.windowsPerKey ?? 60;
    this.sensorIntervalMs = options.sensorIntervalMs ?? 1000;
    this.quality = new QualityScoreboard(options.qualityWindowMs ?? 60_000, 60);
  }

  private readonly windowsPerKey: number;
  private readonly sensorIntervalMs: number;

  reading(reading: ProcessedReading): void {
    const known = this.sensors.get(reading.sensor_id);
    const summary: SensorSummary = {
      sensor_id: reading.sensor_id,
      type: reading.type,
      readings: (known?.summary.readings ?? 0) + 1,
      last_event_time: Math.max(known?.summary.last_event_time ?? 0, reading.event_time),
      quality_score: reading.quality_score,
      anomaly_score: reading.anomaly_score,
    };
    this.sensors.set(reading.sensor_id, { summary, latest: reading });
    this.quality.record(
      { sensor_id: reading.sensor_id, type: reading.type, intervalMs: this.sensorIntervalMs },
      reading.event_time,
      reading.issues as QualityIssueOfRules[],
    );
  }

  window(result: WindowResult): void {
    const byKey = result.scope === "sensor" ? this.windowsBySensor : this.windowsByType;
    const key = result.key as SensorType & string;
    let list = byKey.get(key);
    if (!list) {
      list = new BoundedList(this.windowsPerKey);
      byKey.set(key, list);
    }
    list.push(result);
  }

  prediction(prediction: Prediction): void {
    this.predictions.push(prediction);
    this.predictionsByKey.set(prediction.key, prediction);
  }

  driftReport(report: DriftReport): void {
    this.drift.set(`${report.model}/${report.feature}`, report);
  }

  alert(alert: Alert): void {
    this.alerts.push(alert);
  }

  sensorList(type?: SensorType): SensorSummary[] {
    const all = [...this.sensors.values()].map((s) => s.summary);
    return (type ? all.filter((s) => s.type === type) : all).sort((a, b) =>
      a.sensor_id.localeCompare(b.sensor_id),
    );
  }

  latestReading(sensorId: string): ProcessedReading | undefined {
    return this.sensors.get(sensorId)?.latest;
  }

  sensorWindows(sensorId: string, limit = 60): WindowResult[] {
    return this.windowsBySensor.get(sensorId)?.latest(limit) ?? [];
  }

  typeWindows(type: SensorType, limit = 60): WindowResult[] {
    return this.windowsByType.get(type)?.latest(limit) ?? [];
  }

  recentPredictions(limit = 100, key?: string): Prediction[] {
    if (key !== undefined) {
      const latest = this.predictionsByKey.get(key);
      return latest ? [latest] : [];
    }
    return this.predictions.latest(limit);
  }

  driftReports(): DriftReport[] {
    return [...this.drift.values()];
  }

  recentAlerts(limit = 100): Alert[] {
    return this.alerts.latest(limit);
  }
}
