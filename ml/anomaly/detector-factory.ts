import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { AnomalyDetector } from "./anomaly-detector.ts";
import { HalfSpaceTrees, halfSpaceTreesConfigSchema } from "./half-space-trees.ts";
import { RobustZDetector, robustZConfigSchema } from "./robust-z-detector.ts";

/**
 * Detector choice is configuration: `{ kind: "robust-z", ...}` or
 * `{ kind: "half-space-trees", featureRanges, ... }`, defaults filled in by the schemas.
 */
export const detectorConfigSchema = z.union([robustZConfigSchema, halfSpaceTreesConfigSchema]);
export type DetectorConfig = z.input<typeof detectorConfigSchema>;

export function createDetector(config: unknown): AnomalyDetector {
  const parsed = parse(detectorConfigSchema, config, "anomaly detector config");
  return parsed.kind === "robust-z" ? new RobustZDetector(parsed) : new HalfSpaceTrees(parsed);
}

const robustZStateSchema = z.object({
  window: z.array(z.number()),
  count: z.number().int().min(0),
  mean: z.number(),
  variance: z.number().min(0),
});

const halfSpaceTreesStateSchema = z.object({
  count: z.number().int().min(0),
  typicalRaw: z.number().min(0),
  reference: z.array(z.number().int().min(0)),
  latest: z.array(z.number().int().min(0)),
  window: z.array(z.number()),
});

const snapshotSchema = z.object({
  kind: z.string(),
  config: z.record(z.string(), z.unknown()),
  state: z.record(z.string(), z.unknown()),
});

/** Rebuilds a detector from `snapshot()` output; it continues exactly where the original was. */
export function restoreDetector(snapshot: unknown): AnomalyDetector {
  const { kind, config, state } = parse(snapshotSchema, snapshot, "anomaly detector snapshot");
  const detector = createDetector({ ...config, kind });
  if (detector instanceof RobustZDetector) {
    detector.restoreState(parse(robustZStateSchema, state, "robust-z state"));
  } else if (detector instanceof HalfSpaceTrees) {
    const parsed = parse(halfSpaceTreesStateSchema, state, "half-space-trees state");
    const sizes = detector.stateSizes;
    if (
      parsed.reference.length !== sizes.masses ||
      parsed.latest.length !== sizes.masses ||
      parsed.window.length !== sizes.window
    ) {
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, "half-space-trees snapshot does not fit its config");
    }
    detector.restoreState(parsed);
  }
  return detector;
}

function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${what}: ${problems.join("; ")}`, {
      cause: parsed.error,
      details: { problems },
    });
  }
  return parsed.data;
}
