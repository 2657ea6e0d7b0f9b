import { sensorChecksFactory } from "../actors/sensor/sensor-checks.ts";
import { partitionWindowsFactory } from "../actors/window/partition-windows.ts";
import type { WindowSpec } from "../actors/window/sensor-windows.ts";
import type { PartitionHostDeps } from "./partition-host.ts";

/**
 * Everything a partition host needs to build its actors, as plain data: it crosses to each Bun
 * worker in the `start` control message (structured clone), and the in-process mode uses it as
 * it is. Functions are built on the receiving side by `shardHostDeps`.
 */
export interface PartitionHostSetup {
  readonly window: WindowSpec;
  readonly anomalyDetector: "robust-z" | "half-space-trees";
  readonly graceMs: number;
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
  /** the sensors' expected interval between readings (completeness) */
  readonly sensorIntervalMs: number;
  readonly utcOffsetMinutes: number;
  readonly tickMs: number;
  /** sensor and window actors idle this long passivate (SENSOR_IDLE_MS) */
  readonly passivateAfterMs?: number;
  /**
   * false: readings go straight to their partition's window actor, with no sensor actor
   * (quality checks, anomaly score, processed readings): a windowed aggregation alone, as a
   * Kafka Streams job that only windows. Default true, as a node runs.
   */
  readonly sensorChecks?: boolean;
  /** the window actors' record cache (Kafka Streams' KIP-63); default on, as a node runs */
  readonly cacheUpdates?: boolean;
}

export function shardHostDeps(
  setup: PartitionHostSetup,
): Omit<PartitionHostDeps, "worker" | "system" | "snapshots" | "inbound" | "outbound"> {
  const now = () => Date.now();
  return {
    createChecks: sensorChecksFactory({
      intervalMs: setup.sensorIntervalMs,
      windowMs: setup.window.sizeMs,
      detector: setup.anomalyDetector,
    }),
    createWindows: partitionWindowsFactory({
      window: setup.window,
      graceMs: setup.graceMs,
      maxOutOfOrdernessMs: setup.maxOutOfOrdernessMs,
      idleTimeoutMs: setup.idleTimeoutMs,
      clock: now,
      ...(setup.cacheUpdates === undefined ? {} : { cacheUpdates: setup.cacheUpdates }),
    }),
    now,
    hrtimeMs: () => performance.now(),
    tickMs: setup.tickMs,
    ...(setup.passivateAfterMs === undefined ? {} : { passivateAfterMs: setup.passivateAfterMs }),
    ...(setup.sensorChecks === undefined ? {} : { sensorChecks: setup.sensorChecks }),
  };
}
