import type { SensorReadingRecord } from "../messages/codec/sensor-reading-record.ts";
import type { ShardOutput } from "../messages/shard-protocol.ts";
import type { ActorSystemStats, SupervisionTreeNode } from "../supervisor/actor.ts";

/**
 * The main thread's view of its shard hosts: where a partition lives, how to hand it readings
 * and batch marks, and where outputs come back. Two implementations: `in-process-shards.ts`
 * (WORKERS=0, one host on the main thread) and `worker-shards.ts` (one host per Bun worker,
 * SharedArrayBuffer rings).
 */
export interface Shards {
  readonly workers: number;
  workerOf(partition: number): number;
  /** false when the worker's inbound ring is full: flush, wait for space, retry */
  sendReading(worker: number, reading: SensorReadingRecord): boolean;
  sendMark(worker: number, batch: number): boolean;
  /** publish everything written since the last flush */
  flush(): void;
  waitForSpace(worker: number, timeoutMs: number): Promise<boolean>;
  /** outputs from every host, in each host's order */
  onOutput(handler: (output: ShardOutput) => void): void;
  /** a worker was restarted: its partitions must be replayed from their committed offsets */
  onRestart(handler: (worker: number) => void): void;
  /** terminate a worker abruptly, as a crash would (failure tests and drills); no-op in-process */
  killWorker(worker: number): void;
  tree(): Promise<SupervisionTreeNode[]>;
  stats(): Promise<ActorSystemStats[]>;
  stop(): Promise<void>;
}
