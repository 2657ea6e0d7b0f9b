import { sensorChecksFactory } from "../actors/sensor/sensor-checks.ts";
import { partitionWindowsFactory } from "../actors/window/partition-windows.ts";
import type { WindowSpec } from "../actors/window/sensor-windows.ts";
import type { WindowUpdateFlush } from "../actors/window/window.ts";
import type { SensorType } from "../messages/sensor-reading.ts";
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
  /**
   * When the cache's updates go out: "batch" (default, as a node runs: the live feed sees each
   * burst's updates) or "checkpoint" (Kafka Streams' cadence: held until the checkpoint mark and
   * emitted before it is answered, the oldest early past `windowUpdateCacheEntries`).
   */
  readonly windowUpdateFlush?: WindowUpdateFlush;
  /**
   * "checkpoint": the most windows whose updates one window actor (a sensor type on a partition)
   * holds; default DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES. Unbounded under "batch" unless set.
   */
  readonly windowUpdateCacheEntries?: number;
  /**
   * The sensor types the job takes (a filter before the actors, as a Kafka Streams `filter`);
   * the rest count for event time only. Default every type.
   */
  readonly acceptTypes?: readonly SensorType[];
  /** the input topic, for the source of the dead letters of readings refused here */
  readonly inputTopic?: string;
}

/**
 * Kafka Streams' default cache is 10 MiB for the whole application; one window entry of the
 * peer's job weighs about 150 bytes there (a 24-byte windowed key, twice, a 56-byte value, the
 * record context and node links), ~70k entries over 12 partitions: ~6k per partition's store.
 * A window actor holds one partition's windows of one type, so the same order of magnitude.
 */
export const DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES = 8_192;

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
      ...cacheBoundOf(setup),
    }),
    now,
    hrtimeMs: () => performance.now(),
    tickMs: setup.tickMs,
    ...(setup.passivateAfterMs === undefined ? {} : { passivateAfterMs: setup.passivateAfterMs }),
    ...(setup.sensorChecks === undefined ? {} : { sensorChecks: setup.sensorChecks }),
    ...(setup.windowUpdateFlush === undefined ? {} : { windowUpdateFlush: setup.windowUpdateFlush }),
    ...(setup.acceptTypes === undefined ? {} : { acceptTypes: new Set(setup.acceptTypes) }),
    ...(setup.inputTopic === undefined ? {} : { inputTopic: setup.inputTopic }),
  };
}

function cacheBoundOf(setup: PartitionHostSetup): { cacheMaxEntries?: number } {
  if (setup.windowUpdateCacheEntries !== undefined)
    return { cacheMaxEntries: setup.windowUpdateCacheEntries };
  return setup.windowUpdateFlush === "checkpoint"
    ? { cacheMaxEntries: DEFAULT_WINDOW_UPDATE_CACHE_ENTRIES }
    : {};
}
