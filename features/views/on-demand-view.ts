import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { FEATURE_TYPES, type FeatureType, type FeatureValue } from "./feature-view.ts";

/**
 * An on-demand feature view (Feast's OnDemandFeatureView): features computed at request time from
 * stored features and data that only the request has (the speed limit of the road a car is on,
 * the amount of a payment). Its transform is code, so the registry keeps its description and a
 * fingerprint of the transform's source text: a changed transform is a new version, and a node
 * whose code differs from the registered version says so instead of computing something else.
 * The fingerprint covers the function's text, not what it closes over: a transform's constants
 * belong in its body (or its request), not in variables around it.
 */
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case identifier");

export const OnDemandViewDescription = z
  .object({
    name: identifier,
    /** the stored views whose features the transform reads (all of one entity) */
    sources: z.array(identifier).min(1).max(10),
    /** the request's fields and their types */
    request: z.record(identifier, z.enum(FEATURE_TYPES)),
    features: z
      .array(z.object({ name: identifier, type: z.enum(FEATURE_TYPES) }).strict())
      .min(1)
      .max(100),
    description: z.string().max(2000).default(""),
    owner: z.string().min(1).max(200),
    tags: z.record(z.string(), z.string().max(200)).default({}),
    /** SHA-256 of the transform's source text */
    transformFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type OnDemandViewDescription = z.infer<typeof OnDemandViewDescription>;

export type FeatureRow = Readonly<Record<string, FeatureValue | null>>;

export interface OnDemandView {
  readonly description: OnDemandViewDescription;
  /** the stored features (by name, from every source view) and the request -> the view's features */
  readonly transform: (features: FeatureRow, request: FeatureRow) => FeatureRow;
}

export function defineOnDemandView(
  spec: Omit<z.input<typeof OnDemandViewDescription>, "transformFingerprint"> & {
    transform: (features: FeatureRow, request: FeatureRow) => FeatureRow;
  },
): OnDemandView {
  const { transform, ...rest } = spec;
  const fingerprint = new Bun.CryptoHasher("sha256").update(transform.toString()).digest("hex");
  return {
    description: OnDemandViewDescription.parse({ ...rest, transformFingerprint: fingerprint }),
    transform,
  };
}

/**
 * The request's values checked against the view's request schema: a missing field, an unknown
 * one, or a value of another type is BAD_REQUEST naming the field.
 */
export function requestValues(
  view: OnDemandViewDescription,
  raw: Readonly<Record<string, unknown>>,
): FeatureRow {
  const values: Record<string, FeatureValue> = {};
  for (const name of Object.keys(raw))
    if (!(name in view.request))
      throw new PlatformError(
        ErrorCodes.BAD_REQUEST,
        `on-demand view ${view.name} takes no request field '${name.slice(0, 64)}' (fields: ${Object.keys(view.request).join(", ")})`,
      );
  for (const [name, type] of Object.entries(view.request)) {
    const value = coerce(raw[name], type);
    if (value === undefined)
      throw new PlatformError(
        ErrorCodes.BAD_REQUEST,
        `on-demand view ${view.name} needs request field '${name}' as a ${type}`,
      );
    values[name] = value;
  }
  return values;
}

/** query strings carry text: numbers and booleans are read from it, anything else is refused */
function coerce(value: unknown, type: FeatureType): FeatureValue | undefined {
  if (value === undefined || value === null) return undefined;
  switch (type) {
    case "string":
      return typeof value === "string" && value.length <= 1000 ? value : undefined;
    case "boolean":
      if (typeof value === "boolean") return value;
      return value === "true" ? true : value === "false" ? false : undefined;
    case "long":
    case "double": {
      const n =
        typeof value === "number"
          ? value
          : typeof value === "string" && value.trim() !== ""
            ? Number(value)
            : Number.NaN;
      if (!Number.isFinite(n)) return undefined;
      return type === "long" && !Number.isSafeInteger(n) ? undefined : n;
    }
  }
}
