import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { murmur2OfKey, toPositive } from "../../messages/murmur2.ts";

/**
 * How a model's requests are served, as data: one policy per model, changed at run time through
 * the API and kept with the model. `route` is a pure function of (policy, key), so every node
 * and every shard sends the same key to the same version without talking to each other.
 *
 * - single: the champion answers everything.
 * - canary: a share of keys, by a hash of (model, key), goes to the canary. The hash is the
 *   key's place on [0, 1); raising the share only adds keys, so a key that saw the canary keeps
 *   seeing it while the share is stepped up (`steps`).
 * - ab: arms with weights; an entity stays in its arm (the same hash), per-arm live error feeds
 *   a sequential test (sequential-test.ts) that decides and stops the experiment.
 * - shadow: the champion answers; the shadow scores the same inputs, its outputs are stored and
 *   compared, never served.
 */
const version = z.string().regex(/^\d{1,9}$/, "a registry version number");

export const routingPolicySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("single"), version }).strict(),
  z
    .object({
      kind: z.literal("canary"),
      champion: version,
      canary: version,
      share: z.number().min(0).max(1),
      /** the shares to step through, ascending; the policy's share is one of them */
      steps: z.array(z.number().gt(0).max(1)).max(20).default([0.05, 0.25, 0.5, 1]),
    })
    .strict(),
  z
    .object({
      kind: z.literal("ab"),
      arms: z
        .array(z.object({ version, weight: z.number().gt(0).max(1000) }).strict())
        .min(2)
        .max(5),
      /** the sequential test's false-positive rate */
      alpha: z.number().gt(0).max(0.2).default(0.05),
      /** each arm needs this many labelled outcomes before the test may decide */
      minSamples: z.number().int().min(10).max(1_000_000).default(200),
      /** past this many per arm, no difference was found: the first arm (the champion) stays */
      maxSamples: z.number().int().min(10).max(10_000_000).default(20_000),
    })
    .strict(),
  z.object({ kind: z.literal("shadow"), champion: version, shadow: version }).strict(),
]);

export type RoutingPolicy = z.output<typeof routingPolicySchema>;
export type RoutingPolicyInput = z.input<typeof routingPolicySchema>;

export interface Route {
  /** the version whose answer is served */
  readonly serve: string;
  /** versions that score the same input for comparison only */
  readonly shadow: readonly string[];
  /** the A/B arm or canary side, for per-arm metrics */
  readonly arm: string;
}

export function parseRoutingPolicy(input: unknown): RoutingPolicy {
  const parsed = routingPolicySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PlatformError(
      ErrorCodes.ROUTING_POLICY_INVALID,
      `routing policy: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
  const policy = parsed.data;
  if (policy.kind === "canary") {
    if (policy.champion === policy.canary) invalid("the canary must be another version than the champion");
    if (!isAscending(policy.steps)) invalid("canary steps must be strictly ascending");
  }
  if (policy.kind === "shadow" && policy.champion === policy.shadow)
    invalid("the shadow must be another version");
  if (policy.kind === "ab") {
    const versions = new Set(policy.arms.map((arm) => arm.version));
    if (versions.size !== policy.arms.length) invalid("each A/B arm must be another version");
    if (policy.maxSamples < policy.minSamples) invalid("maxSamples must be at least minSamples");
  }
  return policy;
}

/** The key's place on [0, 1), salted by the model so two models' canaries take different keys. */
export function keyPosition(model: string, key: string): number {
  return toPositive(murmur2OfKey(`${model}\u0000${key}`)) / 2 ** 31;
}

export function route(model: string, policy: RoutingPolicy, key: string): Route {
  switch (policy.kind) {
    case "single":
      return { serve: policy.version, shadow: [], arm: policy.version };
    case "shadow":
      return { serve: policy.champion, shadow: [policy.shadow], arm: policy.champion };
    case "canary": {
      const toCanary = keyPosition(model, key) < policy.share;
      const serve = toCanary ? policy.canary : policy.champion;
      return { serve, shadow: [], arm: serve };
    }
    case "ab": {
      const total = policy.arms.reduce((sum, arm) => sum + arm.weight, 0);
      let point = keyPosition(model, key) * total;
      for (const arm of policy.arms) {
        if (point < arm.weight) return { serve: arm.version, shadow: [], arm: arm.version };
        point -= arm.weight;
      }
      const last = policy.arms[policy.arms.length - 1]!;
      return { serve: last.version, shadow: [], arm: last.version };
    }
  }
}

/** The versions a policy needs loaded: every one it may serve or shadow. */
export function versionsOf(policy: RoutingPolicy): string[] {
  switch (policy.kind) {
    case "single":
      return [policy.version];
    case "shadow":
      return [policy.champion, policy.shadow];
    case "canary":
      return [policy.champion, policy.canary];
    case "ab":
      return policy.arms.map((arm) => arm.version);
  }
}

/** The canary's next share, or undefined when it already serves everything it will. */
export function nextCanaryStep(policy: RoutingPolicy & { kind: "canary" }): RoutingPolicy | undefined {
  const next = policy.steps.find((step) => step > policy.share);
  return next === undefined ? undefined : { ...policy, share: next };
}

function isAscending(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!);
}

function invalid(message: string): never {
  throw new PlatformError(ErrorCodes.ROUTING_POLICY_INVALID, `routing policy: ${message}`);
}
