/**
 * The aggregator contract: a mergeable fold over one numeric field of a window's records.
 * `merge` is required because session windows merge when a record bridges two sessions, and
 * because a changelog restore may rebuild a window from partial states.
 *
 * Accumulators may be mutated in place; `add` and `merge` return the accumulator to keep (the
 * same object or a new one). Values reaching `add` are always finite: the operator rejects NaN
 * and Infinity before any aggregator sees them.
 */
export interface Aggregator<Acc, Out extends AggregateValue = AggregateValue> {
  create(): Acc;
  add(acc: Acc, value: number): Acc;
  merge(into: Acc, other: Acc): Acc;
  result(acc: Acc): Out;
  /** JSON-able form for snapshots; defaults to the accumulator itself */
  toJSON?(acc: Acc): unknown;
  /** inverse of toJSON */
  fromJSON?(json: unknown): Acc;
}

/** What an aggregate may produce: JSON-able, so results go on the wire unchanged. */
export type AggregateValue =
  | number
  | string
  | boolean
  | null
  | readonly number[]
  | Readonly<Record<string, number>>;

/** The built-in moment statistics, computed together in one Welford pass per field. */
export const MOMENT_STATISTICS = ["count", "sum", "mean", "min", "max", "variance", "stddev"] as const;
export type MomentStatistic = (typeof MOMENT_STATISTICS)[number];

/**
 * How a field is aggregated, as configuration:
 * - a moment statistic by name (`"mean"`); variance and stddev are the sample (n - 1) forms;
 * - `{ quantiles: [0.5, 0.99] }`: a t-digest per window, reported as `p50`, `p99`;
 * - `{ name, aggregator }`: a custom aggregator, reported under `name`.
 */
export type AggregatorSpec =
  | MomentStatistic
  | { readonly quantiles: readonly number[]; readonly compression?: number }
  | { readonly name: string; readonly aggregator: Aggregator<unknown> };

/** `aggregates[field][name]`, e.g. `aggregates.avg_speed.mean`. */
export type WindowAggregates = Record<string, Record<string, AggregateValue>>;
