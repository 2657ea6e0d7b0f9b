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

/**
 * A forecast with its actual, written when the label joined it: the served version's value and
 * each shadow's, so a version's live error can be recomputed from the log. `outcome_id` is
 * `<model>|<key>|<at>`: a consumer that sees one twice (at-least-once) keeps one.
 */
export const ModelOutcome = z.object({
  outcome_id: z.string(),
  model: z.string(),
  key: z.string(),
  /** the time the forecast was for (the window or minute it predicted) */
  at: z.number(),
  served_version: z.string(),
  value: z.number(),
  actual: z.number(),
  /** version -> value, every version that scored the input (the served one included) */
  values: z.record(z.string(), z.number()),
  labelled_at: z.number(),
});
export type ModelOutcome = z.infer<typeof ModelOutcome>;
