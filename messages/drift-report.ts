import { z } from "zod";

/** A drift monitor's verdict on one feature of one model, against the training reference. */
export const DRIFT_REPORT_VERSION = 1;

export const DriftReport = z.object({
  model: z.string(),
  model_version: z.string(),
  feature: z.string(),
  ks_statistic: z.number(),
  p_value: z.number(),
  psi: z.number(),
  score: z.number().min(0).max(1),
  drift_detected: z.boolean(),
  sample_size: z.number().int(),
  at: z.number(),
});
export type DriftReport = z.infer<typeof DriftReport>;
