import { afterEach, describe, expect, test } from "bun:test";
import {
  WorkerPool,
  type WorkerPoolEvent,
  type WorkerPoolOptions,
} from "../../../supervisor/worker/worker-pool.ts";

const entry = new URL("./echo-worker.ts", import.meta.url);
let pool: WorkerPool | undefined;

afterEach(async () => {
  await pool?.stop(1000);
  pool = undefined;
});

function record(seq: number): Uint8Array {
  const bytes = new Uint8Array(12);
  new DataView(bytes.buffer).setUint32(0, seq, true);
  bytes.fill(seq & 0xff, 4);
  return bytes;
}

async function startEchoPool(overrides: Partial<WorkerPoolOptions> = {}) {
  const received: Array<{ worker: number; seq: number }> = [];
  const events: WorkerPoolEvent[] = [];
  const app: Array<[number, unknown]> = [];
  const restarted: number[] = [];
  pool = await WorkerPool.start({
    entry,
    partitions: 12,
    workers: 2,
    ringBytes: 64 * 1024,
    config: { name: "echo" },
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 1000,
    restartIntensity: { intensity: 3, periodMs: 10_000 },
    onRecord: (workerIndex, bytes, offset, length) => {
      expect(length).toBe(13);
      expect(bytes[offset]).toBe(workerIndex);
      const seq = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, 4).getUint32(0, true);
      received.push({ worker: workerIndex, seq });
    },
    onAppMessage: (workerIndex, payload) => app.push([workerIndex, payload]),
    onWorkerRestarted: (workerIndex) => restarted.push(workerIndex),
    ...overrides,
  });
  pool.subscribe((event) => events.push(event));
  return { pool, received, events, app, restarted };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

async function send(target: WorkerPool, workerIndex: number, from: number, count: number): Promise<void> {
  for (let seq = from; seq < from + count; ) {
    const writer = target.writerTo(workerIndex);
    if (writer.tryWrite(record(seq))) seq++;
    else await writer.waitForSpace(50);
  }
  target.writerTo(workerIndex).flush();
}

describe("worker pool", () => {
  test("starts the workers with their partitions and round-trips records through each", async () => {
    const { pool, received, app } = await startEchoPool();
    expect(pool.size).toBe(2);
    await until(() => app.length === 2);
    const owned = Object.fromEntries(app.map(([i, p]) => [i, (p as { owned: number[] }).owned]));
    expect(owned).toEqual({ 0: [0, 1, 2, 3, 4, 5], 1: [6, 7, 8, 9, 10, 11] });
    expect(pool.workerForPartition(7)).toBe(1);
    await Promise.all([send(pool, 0, 0, 20_000), send(pool, 1, 100_000, 20_000)]);
    await until(() => received.length === 40_000);
    for (const worker of [0, 1]) {
      const seqs = received.filter((r) => r.worker === worker).map((r) => r.seq);
      const first = worker === 0 ? 0 : 100_000;
      expect(seqs).toEqual(Array.from({ length: 20_000 }, (_, i) => first + i));
    }
  });

  test.each([
    ["exits", "exit"],
    ["throws an uncaught error", "throw"],
    ["stops answering heartbeats", "hang"],
  ])(
    "restarts a worker that %s with fresh rings, and it works again",
    async (_name, misbehaviour) => {
      const { pool, received, events, restarted } = await startEchoPool();
      pool.post(1, { do: misbehaviour });
      await until(() => restarted.includes(1), 8000);
      expect(events.some((e) => e.type === "worker-crashed" && e.workerIndex === 1)).toBe(true);
      expect(
        events.some((e) => e.type === "worker-restarted" && e.workerIndex === 1 && e.incarnation === 1),
      ).toBe(true);
      expect(pool.isRunning(1)).toBe(true);
      await send(pool, 1, 500, 100);
      await send(pool, 0, 0, 100);
      await until(() => received.length === 200);
      expect(received.filter((r) => r.worker === 1).map((r) => r.seq)).toEqual(
        Array.from({ length: 100 }, (_, i) => 500 + i),
      );
    },
    15_000,
  );

  test("gives a worker up after more crashes than the restart intensity allows", async () => {
    const { pool, events } = await startEchoPool({ restartIntensity: { intensity: 1, periodMs: 10_000 } });
    pool.post(0, { do: "exit" });
    await until(() => events.some((e) => e.type === "worker-restarted"));
    pool.post(0, { do: "exit" });
    await until(() => events.some((e) => e.type === "worker-given-up" && e.workerIndex === 0));
    expect(() => pool.writerTo(0)).toThrow(/WORKER_CRASHED/);
    expect(pool.isRunning(1)).toBe(true);
  });

  test("stops cleanly: workers drain what was sent before stop, then terminate", async () => {
    const { pool: started, received, events } = await startEchoPool();
    await send(started, 0, 0, 1000);
    await started.stop(2000);
    pool = undefined;
    expect(received.length).toBe(1000);
    expect(events.some((e) => e.type === "worker-crashed")).toBe(false);
    expect(started.isRunning(0)).toBe(false);
  });

  test("rejects a non-positive worker count with CONFIG_INVALID", async () => {
    await expect(WorkerPool.start({ entry, partitions: 4, workers: 0 })).rejects.toThrow(/CONFIG_INVALID/);
  });
});
