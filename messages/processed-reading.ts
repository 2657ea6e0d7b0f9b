import { z } from "zod";
import { SENSOR_TYPES } from "./sensor-reading.ts";

/** A reading after its sensor actor checked it: quality verdict and online anomaly score. */
export const PROCESSED_READING_VERSION = 1;

export const QualityIssue = z.object({
  rule: z.string(),
  /** range, cross_field, completeness, timeliness, uniqueness or stuck (stream/quality) */
  family: z.string(),
  severity: z.enum(["info", "warning", "error"]),
  message: z.string(),
});

export const ProcessedReading = z.object({
  sensor_id: z.string(),
  type: z.enum(SENSOR_TYPES),
  event_time: z.number(),
  values: z.record(z.string(), z.number()),
  passed: z.boolean(),
  quality_score: z.number().min(0).max(1),
  issues: z.array(QualityIssue),
  anomaly_score: z.number().min(0).max(1),
  /** readings of this sensor its scores rest on, this one included (alert rules' min_history) */
  history: z.number().int().nonnegative().optional(),
  /** from the sensor registry (a stream-table join on sensor_id); null when the sensor is not registered */
  enrichment: z.object({ district: z.string(), zone: z.string() }).nullable().optional(),
  /** the reading's position in city.sensors.raw: its identity for idempotent sinks */
  partition: z.number().int(),
  offset: z.number().int(),
});
export type ProcessedReading = z.infer<typeof ProcessedReading>;
export type QualityIssue = z.infer<typeof QualityIssue>;
