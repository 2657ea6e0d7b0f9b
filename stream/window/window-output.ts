import type { WindowAggregates } from "../aggregate/aggregator.ts";

/** One window's aggregate, as emitted (on every update, or once when the window closes). */
export interface WindowResult {
  readonly key: string;
  readonly windowStart: number;
  /** exclusive, for every assigner (a Kafka sliding window [s; e] is reported as [s, e + 1)) */
  readonly windowEnd: number;
  readonly aggregates: WindowAggregates;
  readonly count: number;
  /** true once: when the window closes (watermark >= end + grace) or at flush */
  readonly final: boolean;
  /** processing time of the emission (the injected clock) */
  readonly emittedAt: number;
}

export type LateReason =
  /** every window the record falls in has closed: watermark >= window end + grace */
  | "window closed"
  /** session windows: the record's own session [t, t + gap) would close on arrival (watermark >= t + gap +
   * grace) and no open session of its key takes it */
  | "before watermark";

export interface LateRecord {
  readonly partition: number;
  readonly key: string;
  readonly eventTime: number;
  readonly values: Readonly<Record<string, number>>;
  readonly reason: LateReason;
  readonly watermark: number;
}

export type RejectReason =
  | "timestamp not finite"
  | "timestamp before epoch"
  | "timestamp too far in the future"
  | "value not finite"
  | "value missing";

export interface RejectedRecord {
  readonly partition: number;
  readonly key: string;
  readonly eventTime: number;
  readonly reason: RejectReason;
  /** the offending field, for value rejections */
  readonly field?: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * A reusable sink the operator appends to. The caller drains the arrays after each call (or
 * batch) and calls `clearWindowOutput`; the arrays are kept, so steady state allocates only the
 * emitted results themselves.
 */
export interface WindowOutput {
  readonly emitted: WindowResult[];
  /**
   * per emitted result, its key's id in the operator that emitted it (`internKey`): a caller that
   * keeps per-key state by id (the partition windows' changelog marks) needs no lookup by name
   */
  readonly emittedKeyIds: number[];
  readonly late: LateRecord[];
  readonly rejected: RejectedRecord[];
}

export function createWindowOutput(): WindowOutput {
  return { emitted: [], emittedKeyIds: [], late: [], rejected: [] };
}

export function clearWindowOutput(out: WindowOutput): void {
  // setting an array's length is a slow path in Bun even when it is already 0, and most calls
  // find the late and rejected arrays empty (one call per reading at 100k sensors)
  if (out.emitted.length > 0) {
    out.emitted.length = 0;
    out.emittedKeyIds.length = 0;
  }
  if (out.late.length > 0) out.late.length = 0;
  if (out.rejected.length > 0) out.rejected.length = 0;
}
