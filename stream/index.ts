/**
 * Stream-processing operators that actors call: plain TypeScript, no I/O, no actors, no Bun.*.
 * A window actor owns one operator per (stream, partition set) or per key and feeds it records.
 */
export type {
  AggregateValue,
  Aggregator,
  AggregatorSpec,
  MomentStatistic,
  WindowAggregates,
} from "./aggregate/aggregator.ts";
export { MOMENT_STATISTICS } from "./aggregate/aggregator.ts";
export { type Moments, momentAggregator } from "./aggregate/moments.ts";
export { quantileName, quantilesAggregator } from "./aggregate/quantiles.ts";
export { TDigest, type TDigestJson } from "./aggregate/t-digest.ts";
export type { PartitionWatermark } from "./watermark/partition-watermarks.ts";
export { PartitionWatermarks } from "./watermark/partition-watermarks.ts";
export {
  alignedStart,
  hopping,
  session,
  sliding,
  timeWindowStarts,
  tumbling,
  type WindowAssigner,
} from "./window/window-assigner.ts";
export {
  createWindowOperator,
  type EmitMode,
  type TimeDomain,
  type WindowOperator,
  type WindowOperatorConfig,
  type WindowOperatorStats,
} from "./window/window-operator.ts";
export {
  clearWindowOutput,
  createWindowOutput,
  type LateReason,
  type LateRecord,
  type RejectedRecord,
  type RejectReason,
  type WindowOutput,
  type WindowResult,
} from "./window/window-output.ts";
export type { WindowOperatorSnapshot } from "./window/window-snapshot.ts";
export { appliedOffsetOf, isSnapshotBytes, WINDOW_SNAPSHOT_FORMAT } from "./window/window-snapshot-bytes.ts";
