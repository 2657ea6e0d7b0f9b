import type { PartitionHostSetup } from "../../engine/partition-host-setup.ts";
import type { PartitionHosts } from "../../engine/partition-hosts.ts";
import type { SensorReadingRecord } from "../../messages/codec/sensor-reading-record.ts";
import type { HostInbound } from "../../messages/host-protocol.ts";

/**
 * What the engine's tests share: a host setup of window actors only, and the inert part of a
 * PartitionHosts double (the tests' doubles record what they are sent and answer marks
 * themselves; everything else does nothing).
 */

/** a host of sensor and window actors: 1-minute tumbling windows, no grace, robust-z anomalies */
export const MINUTE_WINDOWS: PartitionHostSetup = {
  window: { kind: "tumbling", sizeMs: 60_000 },
  anomalyDetector: "robust-z",
  graceMs: 0,
  maxOutOfOrdernessMs: 0,
  idleTimeoutMs: 60_000,
  sensorIntervalMs: 1000,
  utcOffsetMinutes: 0,
  tickMs: 1000,
};

/** the same host of window actors only: no sensor actors, so no processed readings */
export const WINDOWS_ONLY: PartitionHostSetup = { ...MINUTE_WINDOWS, sensorChecks: false };

/** two workers, partitions 0-1 on the first; a double overrides what it records */
export abstract class InertPartitionHosts implements PartitionHosts {
  readonly workers = 2;
  workerOf(partition: number): number {
    return partition < 2 ? 0 : 1;
  }
  abstract sendReading(worker: number, reading: SensorReadingRecord): boolean;
  abstract sendControl(worker: number, message: HostInbound): boolean;
  flush(): void {}
  waitForSpace = async () => true;
  onOutput(): void {}
  onRestart(): void {}
  onCrash(): void {}
  killWorker(): void {}
  tree = async () => [];
  stats = async () => [];
  stop = async () => {};
}
