import { z } from "zod";

/** A model's output for one window, with the model version that made it (original design 7.1). */
export const PREDICTION_VERSION = 1;

export const Prediction = z.object({
  prediction_id: z.string(),
  model: z.string(),
  model_version: z.string(),
  key: z.string(),
  window_start: z.number(),
  window_end: z.number(),
  features: z.record(z.string(), z.number()),
  value: z.number(),
  latency_ms: z.number().nonnegative(),
  at: z.number(),
});
export type Prediction = z.infer<typeof Prediction>;
