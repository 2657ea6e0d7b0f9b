import { writeHostInbound } from "../messages/codec/host-inbound-codec.ts";
import { decodeHostOutput } from "../messages/codec/host-output-codec.ts";
import { writeRawReading } from "../messages/codec/raw-reading-record.ts";
import { type SensorReadingRecord, writeSensorReading } from "../messages/codec/sensor-reading-record.ts";
import type { HostOutput } from "../messages/host-protocol.ts";
import type { ActorSystemStats, SupervisionTreeNode } from "../supervisor/actor.ts";
import { createActorSystem, SerializedSnapshotStore } from "../supervisor/index.ts";
import { inProcessChannel } from "../supervisor/transport/in-process.ts";
import { createPartitionHost, type PartitionHost } from "./partition-host.ts";
import type { PartitionHostSetup } from "./partition-host-setup.ts";
import { shardHostDeps } from "./partition-host-setup.ts";
import type { PartitionHosts } from "./partition-hosts.ts";

/**
 * WORKERS=0: one partition host on the main thread, behind the same-thread transport. The records,
 * batching and back-pressure are those of the SharedArrayBuffer rings, so this mode runs the
 * exact code paths of the worker mode, minus the threads (tests use it to stay deterministic).
 */
export function inProcessHosts(
  setup: PartitionHostSetup,
  ringBytes = 1 << 20,
  /** the actor system's clock (passivation): tests move it by hand to order idle actors */
  clock?: () => number,
): PartitionHosts & { readonly host: PartitionHost } {
  const inbound = inProcessChannel(ringBytes);
  const outbound = inProcessChannel(ringBytes);
  // passivated actors and restored state wait here as JSON text: a fraction of the objects' size
  const snapshots = new SerializedSnapshotStore();
  const system = createActorSystem({ name: "shard-0", snapshots, ...(clock === undefined ? {} : { clock }) });
  const host = createPartitionHost({
    ...shardHostDeps(setup),
    worker: 0,
    system,
    snapshots,
    inbound: inbound.reader,
    outbound: outbound.writer,
  });
  const outputHandlers: ((output: HostOutput) => void)[] = [];
  let running = true;

  const hostLoop = host.run();
  const outputLoop = (async () => {
    while (running) {
      const drained = outbound.reader.drain((bytes, offset, length) => {
        const output = decodeHostOutput(bytes, offset, length);
        for (const handler of outputHandlers) handler(output);
      });
      if (drained === 0) await outbound.reader.waitForData(50);
    }
  })();

  return {
    host,
    workers: 1,
    workerOf: () => 0,
    sendReading: (_worker, reading: SensorReadingRecord) => writeSensorReading(inbound.writer, reading),
    sendRawReading: (_worker, partition, offset, ingestedAt, value, jsonStart) =>
      writeRawReading(inbound.writer, partition, offset, ingestedAt, value, jsonStart),
    sendControl: (_worker, message) => writeHostInbound(inbound.writer, message),
    flush: () => inbound.writer.flush(),
    waitForSpace: (_worker, timeoutMs) => inbound.writer.waitForSpace(timeoutMs),
    onOutput: (handler) => {
      outputHandlers.push(handler);
    },
    onRestart: () => {},
    onCrash: () => {},
    killWorker: () => {},
    tree: async (): Promise<SupervisionTreeNode[]> => [system.tree()],
    stats: async (): Promise<ActorSystemStats[]> => [system.stats()],
    async stop(timeoutMs) {
      try {
        await host.stop(timeoutMs);
      } finally {
        await hostLoop;
        running = false;
        await outputLoop;
        await system.stop(timeoutMs);
      }
    },
  };
}
