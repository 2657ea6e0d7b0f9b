/**
 * The module every Bun worker of a node runs: one actor system and one partition host on the rings
 * the pool hands over. Supervision events leave through the outbound ring, in order with the
 * outputs; the main thread asks for the supervision tree and stats over the control channel.
 */
import { writeJsonEnvelope } from "../messages/codec/json-envelope-record.ts";
import { createActorSystem, SerializedSnapshotStore } from "../supervisor/index.ts";
import { connectWorker } from "../supervisor/worker/connect-worker.ts";
import { createPartitionHost, type PartitionHost } from "./partition-host.ts";
import { type PartitionHostSetup, shardHostDeps } from "./partition-host-setup.ts";

export type WorkerRequest = { readonly type: "inspect"; readonly id: number };
export type WorkerReply = {
  readonly type: "inspected";
  readonly id: number;
  readonly tree: unknown;
  readonly stats: unknown;
};

let host: PartitionHost | undefined;
let hostLoop: Promise<void> | undefined;
let system: ReturnType<typeof createActorSystem> | undefined;

connectWorker({
  onStart(ctx) {
    // passivated actors and restored state wait here as JSON text: a fraction of the objects' size
    const snapshots = new SerializedSnapshotStore();
    system = createActorSystem({ name: `worker-${ctx.workerIndex}`, snapshots });
    const outbound = ctx.outbound;
    system.events.subscribe((event) => {
      // supervision decisions only: a million passivating sensors must not flood the ring
      if (event.type === "supervision")
        writeJsonEnvelope(outbound, { type: "event", event: { ...event, worker: ctx.workerIndex } });
    });
    host = createPartitionHost({
      ...shardHostDeps(ctx.config as PartitionHostSetup),
      worker: ctx.workerIndex,
      system,
      snapshots,
      inbound: ctx.inbound,
      outbound,
    });
    // The host's loop is this worker's life: if it fails, the worker fails and the pool restarts it.
    hostLoop = host.run().catch((error: unknown) => {
      ctx.post({ type: "fatal", message: String(error) });
      throw error;
    });
  },
  async onStop() {
    await host?.stop();
    await hostLoop;
    await system?.stop();
  },
  onAppMessage(payload, ctx) {
    const request = payload as WorkerRequest;
    if (request.type !== "inspect" || !system) return;
    ctx.post({
      type: "inspected",
      id: request.id,
      tree: system.tree(),
      stats: system.stats(),
    } satisfies WorkerReply);
  },
});
