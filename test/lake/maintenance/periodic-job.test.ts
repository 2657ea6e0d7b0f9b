import { describe, expect, test } from "bun:test";
import { PeriodicJob } from "../../../lake/maintenance/periodic-job.ts";

describe("a periodic job", () => {
  test("a run asked for while one runs joins it instead of overlapping", async () => {
    let running = 0;
    let most = 0;
    let release: () => void = () => undefined;
    const job = new PeriodicJob({
      name: "t",
      everyMs: 60_000,
      run: async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        running--;
        return "done";
      },
      onError: () => undefined,
    });
    const first = job.runNow();
    const second = job.runNow();
    expect(second).toBe(first);
    release();
    expect(await Promise.all([first, second])).toEqual(["done", "done"]);
    expect(most).toBe(1);
  });

  test("a failure goes to onError, never to the caller, and the next run goes ahead", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const job = new PeriodicJob({
      name: "t",
      everyMs: 60_000,
      run: async () => {
        calls++;
        if (calls === 1) throw new Error("disk full");
        return calls;
      },
      onError: (error) => errors.push(error),
    });
    expect(await job.runNow()).toBeUndefined();
    expect(await job.runNow()).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(["disk full"]);
  });

  test("the timer runs it on its period, and stop waits for the run in progress", async () => {
    const results: number[] = [];
    let calls = 0;
    const job = new PeriodicJob({
      name: "t",
      everyMs: 20,
      run: async () => {
        calls++;
        await Bun.sleep(30);
        return calls;
      },
      onResult: (n) => results.push(n),
      onError: () => undefined,
    });
    job.start();
    while (calls < 2) await Bun.sleep(5);
    await job.stop();
    const after = results.length;
    expect(after).toBe(calls);
    await Bun.sleep(60);
    expect(results.length).toBe(after);
  });

  test("a period that is not positive is refused", () => {
    expect(
      () => new PeriodicJob({ name: "t", everyMs: 0, run: async () => 1, onError: () => undefined }),
    ).toThrow(RangeError);
  });
});
