import { writeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { type SensorReadingRecord, writeSensorReading } from "../messages/codec/sensor-reading-record.ts";
import type { ShardOutput } from "../messages/shard-protocol.ts";
import type { ActorSystemStats, SupervisionTreeNode } from "../supervisor/actor.ts";
import { createActorSystem, SerializedSnapshotStore } from "../supervisor/index.ts";
import { inProcessChannel } from "../supervisor/transport/in-process.ts";
import { createShardHost, type ShardHost } from "./shard-host.ts";
import type { ShardHostSetup } from "./shard-host-setup.ts";
import { shardHostDeps } from "./shard-host-setup.ts";
import { decodeShardOutput } from "./shard-output-codec.ts";
import type { Shards } from "./shards.ts";

/**
 * WORKERS=0: one shard host on the main thread, behind the same-thread transport. The records,
 * batching and back-pressure are those of the SharedArrayBuffer rings, so this mode runs the
 * exact code paths of the worker mode, minus the threads (tests use it to stay deterministic).
 */
export function inProcessShards(
  setup: ShardHostSetup,
  ringBytes = 1 << 20,
): Shards & { readonly host: ShardHost } {
  const inbound = inProcessChannel(ringBytes);
  const outbound = inProcessChannel(ringBytes);
  // passivated actors and restored state wait here as JSON text: a fraction of the objects' size
  const snapshots = new SerializedSnapshotStore();
  const system = createActorSystem({ name: "shard-0", snapshots });
  const host = createShardHost({
    ...shardHostDeps(setup),
    worker: 0,
    system,
    snapshots,
    inbound: inbound.reader,
    outbound: outbound.writer,
  });
  const outputHandlers: ((output: ShardOutput) => void)[] = [];
  let running = true;

  const hostLoop = host.run();
  const outputLoop = (async () => {
    while (running) {
      const drained = outbound.reader.drain((bytes, offset, length) => {
        const output = decodeShardOutput(bytes, offset, length);
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
    sendControl: (_worker, message) => writeJsonEnvelope(inbound.writer, message),
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
    async stop() {
      await host.stop();
      await hostLoop;
      running = false;
      await outputLoop;
      await system.stop();
    },
  };
}
