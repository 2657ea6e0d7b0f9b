import type { RejectReason } from "./window-output.ts";

/**
 * Boundary checks on one record before it may touch any state: a rejected record never moves
 * a watermark, never opens a window and never reaches an aggregator.
 */
export function timestampProblem(eventTime: number, now: number, maxFutureMs: number): RejectReason | null {
  if (!Number.isFinite(eventTime)) return "timestamp not finite";
  if (eventTime < 0) return "timestamp before epoch";
  if (eventTime > now + maxFutureMs) return "timestamp too far in the future";
  return null;
}

/**
 * Copies the record's field values, in plan order, into `scratch`. Returns the index of the
 * first bad field (missing or not finite) or -1.
 */
export function copyValues(
  fields: readonly string[],
  values: Readonly<Record<string, number>> | Float64Array,
  scratch: Float64Array,
): number {
  if (values instanceof Float64Array) {
    if (values.length < fields.length) return values.length;
    for (let f = 0; f < fields.length; f++) {
      const v = values[f]!;
      if (v - v !== 0) return f; // NaN and +-Infinity
      scratch[f] = v;
    }
    return -1;
  }
  for (let f = 0; f < fields.length; f++) {
    const v = values[fields[f]!];
    if (typeof v !== "number" || v - v !== 0) return f;
    scratch[f] = v;
  }
  return -1;
}

export function valueProblem(
  fields: readonly string[],
  values: Readonly<Record<string, number>> | Float64Array,
  field: number,
): RejectReason {
  const v = values instanceof Float64Array ? values[field] : values[fields[field]!];
  return typeof v === "number" ? "value not finite" : "value missing";
}

/** A record's values as a plain object, for late and rejected outputs. */
export function valuesRecord(
  fields: readonly string[],
  values: Readonly<Record<string, number>> | Float64Array,
): Record<string, number> {
  if (!(values instanceof Float64Array)) return { ...values };
  const out: Record<string, number> = {};
  for (let f = 0; f < fields.length && f < values.length; f++) out[fields[f]!] = values[f]!;
  return out;
}
