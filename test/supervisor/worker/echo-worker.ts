/**
 * Test worker for the pool: echoes every inbound record to the outbound ring with its worker
 * index prepended, and misbehaves on request (app messages) so tests can watch restarts.
 */
import { connectWorker } from "../../../supervisor/worker/connect-worker.ts";

connectWorker({
  onRecord(bytes, offset, length, ctx) {
    const slot = ctx.outbound.reserve(length + 1);
    if (slot === null) return false;
    slot.bytes[slot.offset] = ctx.workerIndex;
    slot.bytes.set(bytes.subarray(offset, offset + length), slot.offset + 1);
    ctx.outbound.commit(length + 1);
    return true;
  },
  onStart(ctx) {
    ctx.post({ started: ctx.workerIndex, incarnation: ctx.incarnation, owned: ctx.ownedPartitions });
  },
  onAppMessage(payload, ctx) {
    switch ((payload as { do?: string }).do) {
      case "exit":
        process.exit(7);
        break;
      case "throw":
        setTimeout(() => {
          throw new Error("echo worker told to crash");
        }, 0);
        break;
      case "hang": {
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          // blocks the event loop: no pongs
        }
        break;
      }
      case "echo":
        ctx.post({ echo: ctx.workerIndex, config: ctx.config });
        break;
    }
  },
});
