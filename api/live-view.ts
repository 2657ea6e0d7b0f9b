import type { Alert } from "../messages/alert.ts";
import type { DriftReport } from "../messages/drift-report.ts";
import type { Prediction } from "../messages/prediction.ts";
import type { ProcessedReading } from "../messages/processed-reading.ts";
import type { SensorType } from "../messages/sensor-reading.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { SensorSpec } from "../stream/quality/quality-checker.ts";
import type { QualityIssue as QualityIssueOfRules } from "../stream/quality/quality-rules.ts";
import { QualityScoreboard } from "../stream/quality/quality-score.ts";
import { LruMap } from "./lru-map.ts";

/**
 * The node's in-memory read model: the latest of everything, bounded, for the REST API.
 * It is a sink like any other (fed from the actors' outputs), never a source of truth; the
 * log and the lake are.
 *
 * Bounded by construction: per-key parts (sensors, their windows and quality, predictions by
 * key, drift reports) keep at most `maxSensors` keys and forget the least recently updated
 * one beyond that (counted in `evictions()`, exported as a metric); lists keep the newest
 * `windowsPerKey` / 1000 entries. Sensor ids come from whoever publishes on MQTT, so without
 * the cap 50,000 made-up ids made /api/quality 12.9 MB and stalled /health.
 */
export interface SensorSummary {
  readonly sensor_id: string;
  readonly type: SensorType;
  readonly readings: number;
  readonly last_event_time: number;
  readonly quality_score: number;
  readonly anomaly_score: number;
}

export interface LiveViewOptions {
  readonly windowsPerKey?: number;
  readonly qualityWindowMs?: number;
  readonly sensorIntervalMs?: number;
  /** sensors (and prediction keys) remembered; default 10,000 */
  readonly maxSensors?: number;
  /** predictions and alerts kept, newest first; default 1000 */
  readonly recentItems?: number;
}

export const DEFAULT_MAX_SENSORS = 10_000;

class BoundedList<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  /** newest first */
  latest(limit = this.capacity): T[] {
    return this.items.slice(-limit).reverse();
  }
}

interface SensorEntry {
  readonly summary: SensorSummary;
  readonly latest: ProcessedReading;
  /** what the quality scoreboard is told of the sensor, made once (it keeps the first one) */
  readonly spec: SensorSpec;
}

export class LiveView {
  private readonly sensors: LruMap<string, SensorEntry>;
  private readonly windowsBySensor: LruMap<string, BoundedList<WindowResult>>;
  private readonly windowsByType = new Map<string, BoundedList<WindowResult>>();
  private readonly predictions: BoundedList<Prediction>;
  private readonly predictionsByKey: LruMap<string, Prediction>;
  private readonly drift: LruMap<string, DriftReport>;
  private readonly alerts: BoundedList<Alert>;
  private readonly windowsPerKey: number;
  private readonly sensorIntervalMs: number;

  /** data quality per sensor, per type and per time window (stream/quality's formula) */
  readonly quality: QualityScoreboard;

  constructor(options: LiveViewOptions = {}) {
    const maxSensors = options.maxSensors ?? DEFAULT_MAX_SENSORS;
    const recentItems = options.recentItems ?? 1000;
    this.windowsPerKey = options.windowsPerKey ?? 60;
    this.sensorIntervalMs = options.sensorIntervalMs ?? 1000;
    this.quality = new QualityScoreboard(options.qualityWindowMs ?? 60_000, 60);
    // a forgotten sensor takes its windows and quality with it
    this.sensors = new LruMap(maxSensors, (sensorId) => {
      this.windowsBySensor.delete(sensorId);
      this.quality.forget(sensorId);
    });
    this.windowsBySensor = new LruMap(maxSensors);
    this.predictionsByKey = new LruMap(maxSensors);
    this.drift = new LruMap(maxSensors);
    this.predictions = new BoundedList(recentItems);
    this.alerts = new BoundedList(recentItems);
  }

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
    const spec = known?.spec ?? {
      sensor_id: reading.sensor_id,
      type: reading.type,
      intervalMs: this.sensorIntervalMs,
    };
    this.sensors.set(reading.sensor_id, { summary, latest: reading, spec });
    this.quality.record(spec, reading.event_time, reading.issues as QualityIssueOfRules[]);
  }

  window(result: WindowResult): void {
    if (result.scope === "sensor") {
      let list = this.windowsBySensor.get(result.key);
      if (!list) list = new BoundedList(this.windowsPerKey);
      // written as most recent either way: an active sensor's windows are the last forgotten
      this.windowsBySensor.set(result.key, list);
      list.push(result);
      return;
    }
    // per-type keys are the five sensor types, already validated upstream
    let list = this.windowsByType.get(result.key);
    if (!list) {
      list = new BoundedList(this.windowsPerKey);
      this.windowsByType.set(result.key, list);
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

  /** every remembered sensor (at most maxSensors), sorted by id */
  sensorList(type?: SensorType): SensorSummary[] {
    const all: SensorSummary[] = [];
    for (const s of this.sensors.values()) if (!type || s.summary.type === type) all.push(s.summary);
    return all.sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : 0));
  }

  sensor(sensorId: string): SensorSummary | undefined {
    return this.sensors.get(sensorId)?.summary;
  }

  latestReading(sensorId: string): ProcessedReading | undefined {
    return this.sensors.get(sensorId)?.latest;
  }

  sensorWindows(sensorId: string, limit = this.windowsPerKey): WindowResult[] {
    return this.windowsBySensor.get(sensorId)?.latest(limit) ?? [];
  }

  typeWindows(type: SensorType, limit = this.windowsPerKey): WindowResult[] {
    return this.windowsByType.get(type)?.latest(limit) ?? [];
  }

  /** newest first; with a key, that key's latest prediction only */
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

  /** keys forgotten so far because a per-key part was full, by part */
  evictions(): Record<"sensors" | "sensor_windows" | "prediction_keys" | "drift", number> {
    return {
      sensors: this.sensors.evictions,
      sensor_windows: this.windowsBySensor.evictions,
      prediction_keys: this.predictionsByKey.evictions,
      drift: this.drift.evictions,
    };
  }

  /** keys held now, by part (for metrics and the bound tests) */
  sizes(): Record<"sensors" | "sensor_windows" | "prediction_keys" | "drift" | "quality_sensors", number> {
    return {
      sensors: this.sensors.size,
      sensor_windows: this.windowsBySensor.size,
      prediction_keys: this.predictionsByKey.size,
      drift: this.drift.size,
      quality_sensors: this.quality.sensorCount,
    };
  }
}
