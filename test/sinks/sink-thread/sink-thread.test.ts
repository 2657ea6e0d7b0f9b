import { afterEach, describe, expect, test } from "bun:test";
import type { DeadLetter } from "../../../messages/dead-letter.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import { SinkThread } from "../../../sinks/sink-thread/sink-thread.ts";
import type { FakeSinkSetup } from "./fake-sink-entry.ts";

const entry = new URL("./fake-sink-entry.ts", import.meta.url).href;
const running: SinkThread<FakeSinkSetup>[] = [];

function thread(
  setup: FakeSinkSetup,
  restart = { initialMs: 10, maxMs: 50, intensity: 3, periodMs: 60_000 },
) {
  const seen = { letters: [] as DeadLetter[], errors: [] as unknown[], restarts: 0 };
  const sinks = new SinkThread<FakeSinkSetup>({
    name: "fake sinks",
    entry,
    setup,
    onDeadLetter: (letter) => seen.letters.push(letter),
    onError: (error) => seen.errors.push(error),
    onRestart: () => seen.restarts++,
    restart,
    stopDeadlineMs: 2000,
  }).start();
  running.push(sinks);
  return { sinks, seen };
}

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

afterEach(async () => {
  for (const sinks of running.splice(0)) await sinks.stop().catch(() => undefined);
});

describe("a sink thread", () => {
  test("reports its sinks' stats and dead letters to the main thread", async () => {
    const { sinks, seen } = thread({});
    await sinks.started();
    await until(() => seen.letters.length === 1 && sinks.stats().length === 1);
    expect(seen.letters[0]?.code).toBe("DECODE_FAILED");
    expect(seen.letters[0]?.payload_base64).toBe(Buffer.from([1, 2]).toString("base64"));
    expect(sinks.stats()[0]).toMatchObject({ name: "fake", blocked: false, deadLetters: 1 });
  });

  test("killed, its sinks show blocked until it is restarted and runs again", async () => {
    const { sinks, seen } = thread({}, { initialMs: 300, maxMs: 300, intensity: 3, periodMs: 60_000 });
    await sinks.started();
    await until(() => sinks.stats().length === 1);
    sinks.kill();
    await until(() => seen.restarts === 1);
    expect(sinks.stats()[0]?.blocked).toBe(true);
    await sinks.started();
    await until(() => sinks.stats()[0]?.blocked === false);
    expect(sinks.restarts).toBe(1);
    expect(seen.errors).toEqual([]);
  });

  test("a restarted thread's counters go on from what the dead one reported, not from 0 (regression: /metrics read the restart as a counter reset)", async () => {
    const { sinks, seen } = thread({}, { initialMs: 300, maxMs: 300, intensity: 3, periodMs: 60_000 });
    await sinks.started();
    // the fake sink counts a row per millisecond and one dead letter per thread
    await until(() => (sinks.stats()[0]?.rows ?? 0) > 200);
    const before = sinks.stats()[0]!;
    sinks.kill();
    await until(() => seen.restarts === 1);
    expect(sinks.stats()[0]).toMatchObject({ rows: before.rows, deadLetters: 1, blocked: true });
    await sinks.started();
    // the new thread's first report: its own batch and dead letter on top of the dead one's
    await until(() => sinks.stats()[0]?.blocked === false && sinks.stats()[0]?.batches === 2);
    const after = sinks.stats()[0]!;
    expect(after.rows).toBeGreaterThanOrEqual(before.rows);
    expect(after.deadLetters).toBe(2);
  });

  test("an uncaught error in the thread is a death: restarted, not the process's failure", async () => {
    const { sinks, seen } = thread({ crashAfterMs: 50 });
    await until(() => seen.restarts >= 1);
    await sinks.stop();
    expect(seen.errors).toEqual([]);
  });

  test("a start that fails is retried like a death, and too many deaths in the period fail the node", async () => {
    const { seen } = thread({ failStart: true });
    await until(() => seen.errors.length === 1);
    expect(seen.restarts).toBe(3);
    expect(isPlatformError(seen.errors[0], "WORKER_CRASHED")).toBe(true);
  });

  test("a sink that stopped for good fails the node with its code", async () => {
    const { seen } = thread({ failSinkAfterMs: 20 });
    await until(() => seen.errors.length === 1);
    expect(isPlatformError(seen.errors[0], "SCHEMA_VIOLATION")).toBe(true);
    expect(seen.restarts).toBe(0);
  });

  test("stop waits for the sinks within its deadline, and says so when they do not stop in time", async () => {
    const quick = thread({ stopMs: 100 });
    await quick.sinks.started();
    await quick.sinks.stop();
    const slow = thread({ stopMs: 5000 });
    await slow.sinks.started();
    const started = Date.now();
    await expect(slow.sinks.stop()).rejects.toThrow(/gave up waiting 2000 ms/);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
