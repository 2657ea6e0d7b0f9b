import { z } from "zod";
import { SENSOR_TYPES } from "./sensor-reading.ts";

/** One window's aggregates, per sensor (`scope: "sensor"`) or per sensor type (`scope: "type"`). */
export const WINDOW_RESULT_VERSION = 1;

export const FieldAggregates = z.object({
  count: z.number().int().nonnegative(),
  sum: z.number(),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
});
export type FieldAggregates = z.infer<typeof FieldAggregates>;

export const WindowResult = z.object({
  scope: z.enum(["sensor", "type"]),
  key: z.string(),
  type: z.enum(SENSOR_TYPES),
  window_start: z.number(),
  window_end: z.number(),
  count: z.number().int().nonnegative(),
  fields: z.record(z.string(), FieldAggregates),
  /** false while the window is open (on-update), true once when it closes */
  final: z.boolean(),
  emitted_at: z.number(),
});
export type WindowResult = z.infer<typeof WindowResult>;
