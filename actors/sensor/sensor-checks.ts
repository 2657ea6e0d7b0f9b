import type { HotReading } from "../../messages/host-protocol.ts";
import {
  MEASUREMENT_RANGES,
  MEASUREMENTS,
  type SensorReading,
  type SensorType,
} from "../../messages/sensor-reading.ts";
import type { AnomalyDetector, DetectorSnapshot } from "../../ml/anomaly/anomaly-detector.ts";
import { createDetector, restoreDetector } from "../../ml/anomaly/detector-factory.ts";
import { QualityChecker, type QualityCheckerSnapshot } from "../../stream/quality/quality-checker.ts";
import { QualityScoreboard, type QualityScoreboardSnapshot } from "../../stream/quality/quality-score.ts";
import type { SensorChecks } from "./sensor.ts";

/**
 * Builds a sensor actor's checks from the quality rules (stream/quality) and one robust-z
 * anomaly detector per measurement (ml/anomaly). A reading's anomaly score is the highest of
 * its measurements' scores: one wild measurement is enough to call the reading unusual.
 */
export interface SensorChecksOptions {
  readonly intervalMs: number;
  readonly windowMs: number;
  /**
   * robust-z: one detector per measurement, the reading scores the highest of them.
   * half-space-trees: one multivariate detector over all of the reading's measurements, with the
   * plausible ranges as its work space (small trees: ~0.1 MB per sensor).
   */
  readonly detector?: "robust-z" | "half-space-trees";
}

/** a sensor's checks as plain data: what the sensor changelog stores */
interface ChecksSnapshot {
  readonly quality: QualityCheckerSnapshot;
  readonly scoreboard: QualityScoreboardSnapshot;
  readonly detectors: readonly DetectorSnapshot[];
  readonly multivariate: DetectorSnapshot | undefined;
}

const RESOLUTION: Readonly<Record<string, number>> = {
  vehicle_count: 1,
  avg_speed: 0.5,
  temperature: 0.1,
  humidity: 1,
  air_quality_index: 1,
  consumption: 1,
  voltage: 0.5,
  current: 0.1,
};

export function sensorChecksFactory(options: SensorChecksOptions) {
  return (sensorType: SensorType, sensorId: string, snapshot?: unknown): SensorChecks => {
    const spec = { sensor_id: sensorId, type: sensorType, intervalMs: options.intervalMs };
    const saved = snapshot as ChecksSnapshot | undefined;
    // Duplicates are redeliveries of recent readings: remembering the last 64 event times finds
    // them, and keeps the sensor's changelog state ~1 KB instead of ~15 KB with the default 1024.
    const qualityConfig = { duplicateMemory: 64 };
    const quality = saved
      ? QualityChecker.restore(saved.quality, qualityConfig)
      : new QualityChecker(spec, qualityConfig);
    const scoreboard = saved
      ? QualityScoreboard.restore(saved.scoreboard)
      : new QualityScoreboard(options.windowMs, 2);
    const fields = MEASUREMENTS[sensorType];
    const multivariate = saved?.multivariate
      ? restoreDetector(saved.multivariate)
      : options.detector === "half-space-trees" && !saved
        ? createDetector({
            kind: "half-space-trees",
            featureRanges: fields.map((field) => MEASUREMENT_RANGES[field]),
            nTrees: 15,
            depth: 8,
            windowSize: 100,
          })
        : undefined;
    const detectors: AnomalyDetector[] = multivariate
      ? []
      : saved
        ? saved.detectors.map((d) => restoreDetector(d))
        : fields.map((field) => createDetector({ kind: "robust-z", minSpread: RESOLUTION[field] ?? 0 }));
    return {
      snapshot: (): ChecksSnapshot => ({
        quality: quality.snapshot(),
        scoreboard: scoreboard.snapshot(),
        detectors: detectors.map((d) => d.snapshot()),
        multivariate: multivariate?.snapshot(),
      }),
      quality(reading: HotReading, receivedAt: number) {
        const result = quality.check(asSensorReading(reading), receivedAt);
        scoreboard.record(spec, reading.eventTime, result.issues);
        const score = scoreboard.sensor(sensorId, scoreboard.windowStart(reading.eventTime))?.score ?? 1;
        return {
          passed: result.passed,
          score,
          issues: result.issues.map((issue) => ({
            rule: issue.rule,
            family: issue.family,
            severity: issue.severity,
            message: issue.message,
          })),
        };
      },
      anomaly(reading: HotReading) {
        if (multivariate) {
          if (!reading.values.every(Number.isFinite)) return 0;
          const score = multivariate.score(reading.values);
          multivariate.update(reading.values);
          return score;
        }
        let highest = 0;
        for (let i = 0; i < detectors.length; i++) {
          const value = reading.values[i]!;
          if (!Number.isFinite(value)) continue;
          const detector = detectors[i]!;
          const score = detector.score(value);
          detector.update(value);
          if (score > highest) highest = score;
        }
        return highest;
      },
    };
  };
}

/**
 * The quality rules read the edge form of a reading. The hot form carries no location (the
 * rules never read it), so it is rebuilt from the type, id, event time and measurements only.
 */
function asSensorReading(reading: HotReading): SensorReading {
  const form: Record<string, unknown> = {
    type: reading.sensorType,
    sensor_id: reading.sensorId,
    timestamp: new Date(reading.eventTime).toISOString(),
  };
  const fields = MEASUREMENTS[reading.sensorType];
  for (let i = 0; i < fields.length; i++) form[fields[i]!] = reading.values[i];
  return form as SensorReading;
}
