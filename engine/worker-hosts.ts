import { writeHostInbound } from "../messages/codec/host-inbound-codec.ts";
import { decodeHostOutput } from "../messages/codec/host-output-codec.ts";
import { writeRawReading } from "../messages/codec/raw-reading-record.ts";
import { type SensorReadingRecord, writeSensorReading } from "../messages/codec/sensor-reading-record.ts";
import type { HostOutput } from "../messages/host-protocol.ts";
import type { ActorSystemStats, SupervisionTreeNode } from "../supervisor/actor.ts";
import { WorkerPool } from "../supervisor/worker/worker-pool.ts";
import type { PartitionHostSetup } from "./partition-host-setup.ts";
import type { PartitionHosts, ReadingParse } from "./partition-hosts.ts";
import type { WorkerReply } from "./worker-entry.ts";

/** how long a stopping pool waits for its workers' own stop before it terminates them */
const WORKER_STOP_MS = 10_000;

/**
 * One partition host per Bun worker, behind the pool's SharedArrayBuffer rings. Outputs come back
 * through each worker's outbound ring; supervision trees and stats over the control channel.
 * A crashed worker is restarted by the pool (its root supervisor); `onRestart` tells the
 * dispatcher to replay that worker's partitions from their committed offsets.
 */
export async function workerHosts(options: {
  setup: PartitionHostSetup;
  workers: number;
  partitions: number;
  ringBytes?: number;
  /**
   * where a raw reading's JSON is read: "worker" (default) sends the value as it is and the
   * partition worker reads it; "main" reads it on the dispatcher's thread and sends the 58-byte
   * binary reading (engine/stream-engine.ts, StreamEngineDeps.readingParse)
   */
  readingParse?: ReadingParse;
}): Promise<PartitionHosts> {
  const outputHandlers: ((output: HostOutput) => void)[] = [];
  const restartHandlers: ((worker: number) => void)[] = [];
  const inspections = new Map<number, (reply: WorkerReply) => void>();
  let nextInspection = 1;

  const pool = await WorkerPool.start({
    entry: new URL("./worker-entry.ts", import.meta.url),
    partitions: options.partitions,
    workers: options.workers,
    // 16 MiB: readings cross as their raw values now (~210 bytes a reading, 58 as binary
    // readings), and a 4 MiB ring held under two polls of 10,000, so the dispatcher waited for
    // space and woke its worker (Atomics.notify) several times a poll: 0.86x main-thread and 0.92x
    // process CPU on the node path (bench/RESULTS.md, helper R). Both rings of a worker take it.
    ringBytes: options.ringBytes ?? 1 << 24,
    config: options.setup,
    onRecord(_worker, bytes, offset, length) {
      const output = decodeHostOutput(bytes, offset, length);
      for (const handler of outputHandlers) handler(output);
    },
    onWorkerRestarted(worker) {
      for (const handler of restartHandlers) handler(worker);
    },
    onAppMessage(_worker, payload) {
      const reply = payload as WorkerReply;
      if (reply.type === "inspected") inspections.get(reply.id)?.(reply);
    },
  });

  // worker lifecycle (crashed, restarted, given up) joins the supervision events of the actors
  const crashHandlers: ((worker: number) => void)[] = [];
  pool.subscribe((event) => {
    if (event.type === "worker-crashed") for (const handler of crashHandlers) handler(event.workerIndex);
    for (const handler of outputHandlers)
      handler({ type: "event", event: { ...event, source: "worker-pool" } });
  });

  const inspect = async (): Promise<WorkerReply[]> =>
    Promise.all(
      Array.from({ length: pool.size }, (_, worker) => {
        const id = nextInspection++;
        return new Promise<WorkerReply>((resolve) => {
          const timer = setTimeout(() => {
            inspections.delete(id);
            resolve({
              type: "inspected",
              id,
              tree: { address: `worker-${worker}`, status: "unresponsive" },
              stats: undefined,
            });
          }, 1000);
          inspections.set(id, (reply) => {
            clearTimeout(timer);
            inspections.delete(id);
            resolve(reply);
          });
          pool.post(worker, { type: "inspect", id });
        });
      }),
    );

  return {
    workers: pool.size,
    workerOf: (partition) => pool.workerForPartition(partition),
    sendReading: (worker, reading: SensorReadingRecord) => writeSensorReading(pool.writerTo(worker), reading),
    ...(options.readingParse === "main"
      ? {}
      : {
          sendRawReading: ((worker, partition, offset, ingestedAt, value, jsonStart) =>
            writeRawReading(
              pool.writerTo(worker),
              partition,
              offset,
              ingestedAt,
              value,
              jsonStart,
            )) satisfies PartitionHosts["sendRawReading"],
        }),
    sendControl: (worker, message) => writeHostInbound(pool.writerTo(worker), message),
    flush() {
      for (let worker = 0; worker < pool.size; worker++)
        if (pool.isRunning(worker)) pool.writerTo(worker).flush();
    },
    waitForSpace: (worker, timeoutMs) => pool.writerTo(worker).waitForSpace(timeoutMs),
    onOutput: (handler) => {
      outputHandlers.push(handler);
    },
    onCrash: (handler) => {
      crashHandlers.push(handler);
    },
    onRestart: (handler) => {
      restartHandlers.push(handler);
    },
    killWorker: (worker) => pool.kill(worker),
    tree: async () => (await inspect()).map((reply) => reply.tree as SupervisionTreeNode),
    stats: async () =>
      (await inspect())
        .map((reply) => reply.stats as ActorSystemStats | undefined)
        .filter((s) => s !== undefined),
    stop: (timeoutMs = WORKER_STOP_MS) => pool.stop(Math.min(WORKER_STOP_MS, timeoutMs)),
  };
}
