import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import {
  type Aggregator,
  type AggregatorSpec,
  MOMENT_STATISTICS,
  type MomentStatistic,
} from "./aggregator.ts";
import { quantilesAggregator } from "./quantiles.ts";

/** An aggregator kept as one object per window (t-digests and custom aggregators). */
export interface ObjectAggregation {
  readonly fieldIndex: number;
  readonly name: string;
  readonly aggregator: Aggregator<unknown>;
  /** quantile digests report several named values (`p50`, `p99`) spread into the field */
  readonly spread: boolean;
}

/**
 * The aggregation config compiled once: field order (the order of a Float64Array record),
 * the moment statistics per field (kept in typed-array columns) and the object aggregators.
 */
export interface AggregationPlan {
  readonly fields: readonly string[];
  readonly moments: readonly (readonly MomentStatistic[])[];
  readonly needsMoments: boolean;
  readonly objects: readonly ObjectAggregation[];
}

export function compileAggregations(
  spec: Readonly<Record<string, readonly AggregatorSpec[]>>,
): AggregationPlan {
  const fields = Object.keys(spec);
  if (fields.length === 0) throw invalid("at least one measurement field must be aggregated", {});
  const moments: MomentStatistic[][] = [];
  const objects: ObjectAggregation[] = [];
  let needsMoments = false;
  fields.forEach((field, fieldIndex) => {
    const specs = spec[field]!;
    if (specs.length === 0) throw invalid(`field "${field}" has no aggregators`, { field });
    const names = new Set<string>();
    const claim = (name: string): void => {
      if (names.has(name)) throw invalid(`field "${field}" reports "${name}" twice`, { field, name });
      names.add(name);
    };
    const fieldMoments: MomentStatistic[] = [];
    for (const item of specs) {
      if (typeof item === "string") {
        if (!MOMENT_STATISTICS.includes(item)) throw invalid(`unknown statistic "${item}"`, { field });
        claim(item);
        fieldMoments.push(item);
        if (item !== "count") needsMoments = true;
      } else if ("quantiles" in item) {
        const compression = item.compression ?? 100;
        if (item.quantiles.length === 0 || item.quantiles.some((q) => !(q >= 0 && q <= 1))) {
          throw invalid(`quantiles of "${field}" must be numbers in [0, 1]`, { field });
        }
        if (!(compression >= 10 && compression <= 10_000)) {
          throw invalid("t-digest compression must be in [10, 10000]", { field, compression });
        }
        const aggregator = quantilesAggregator(item.quantiles, compression);
        for (const name of Object.keys(aggregator.result(aggregator.create()))) claim(name);
        objects.push({ fieldIndex, name: "quantiles", aggregator, spread: true });
      } else {
        claim(item.name);
        objects.push({ fieldIndex, name: item.name, aggregator: item.aggregator, spread: false });
      }
    }
    moments.push(fieldMoments);
  });
  return { fields, moments, needsMoments, objects };
}

function invalid(message: string, details: Record<string, unknown>): PlatformError {
  return new PlatformError(ErrorCodes.CONFIG_INVALID, message, { details });
}
