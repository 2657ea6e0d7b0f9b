import type { SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import type { HostInbound, HostOutput } from "../messages/host-protocol.ts";
import type { ActorSystemStats, SupervisionTreeNode } from "../supervisor/actor.ts";

/**
 * Where a raw reading's JSON is read (issue 7 §4): "worker", in the partition worker that owns
 * its partition (the value crosses the ring as it is, ~210 bytes); "main", on the dispatcher's
 * thread before the ring (a 58-byte binary reading crosses, and the job's filter drops before it).
 */
export type ReadingParse = "main" | "worker";

/**
 * The main thread's view of its partition hosts: where a partition lives, how to hand it readings
 * and batch marks, and where outputs come back. Two implementations: `in-process-hosts.ts`
 * (WORKERS=0, one host on the main thread) and `worker-hosts.ts` (one host per Bun worker,
 * SharedArrayBuffer rings).
 */
export interface PartitionHosts {
  readonly workers: number;
  workerOf(partition: number): number;
  /** false when the worker's inbound ring is full: flush, wait for space, retry */
  sendReading(worker: number, reading: SensorReadingRecord): boolean;
  /**
   * an input record's value as it is, read by the worker (its JSON from `jsonStart`): the
   * reading's parse, event time and the job's filter are the worker's; false when the ring is full.
   * Hosts without it (tests' recording hosts) take readings the dispatcher read itself.
   */
  sendRawReading?(
    worker: number,
    partition: number,
    offset: number,
    ingestedAt: number,
    value: Uint8Array,
    jsonStart: number,
  ): boolean;
  /** a batch mark or a state restore, in order with the readings; false when the ring is full */
  sendControl(worker: number, message: HostInbound): boolean;
  /** publish everything written since the last flush */
  flush(): void;
  waitForSpace(worker: number, timeoutMs: number): Promise<boolean>;
  /** outputs from every host, in each host's order */
  onOutput(handler: (output: HostOutput) => void): void;
  /** a worker crashed: stop sending it records (they would overtake its state restore) */
  onCrash(handler: (worker: number) => void): void;
  /** a worker was restarted: its partitions must be replayed from their committed offsets */
  onRestart(handler: (worker: number) => void): void;
  /** terminate a worker abruptly, as a crash would (failure tests and drills); no-op in-process */
  killWorker(worker: number): void;
  tree(): Promise<SupervisionTreeNode[]>;
  stats(): Promise<ActorSystemStats[]>;
  /** stops the hosts; what they have not processed within `timeoutMs` is abandoned (replayed) */
  stop(timeoutMs?: number): Promise<void>;
}
