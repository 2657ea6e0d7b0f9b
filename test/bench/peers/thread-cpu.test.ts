import { describe, expect, test } from "bun:test";
import { type ThreadCpu, threadCpu, threadCpuPerRecord } from "../../../bench/peers/thread-cpu.ts";

const main = String(process.pid);

describe("thread CPU per record", () => {
  test("names this process's own thread main, lists the busiest first and sums the process", () => {
    const before: ThreadCpu = new Map([
      [main, { name: "bun", ms: 100 }],
      ["7", { name: "Worker", ms: 10 }],
    ]);
    const after: ThreadCpu = new Map([
      [main, { name: "bun", ms: 1_100 }],
      ["7", { name: "Worker", ms: 2_010 }],
      ["8", { name: "JITWorker", ms: 500 }],
    ]);
    expect(threadCpuPerRecord(before, after, 1_000_000)).toBe(
      "Worker 2,000, main 1,000, JITWorker 500 = 3,500 ns/record",
    );
  });

  test("sums the threads under 1 % of the process as others", () => {
    const after: ThreadCpu = new Map([
      [main, { name: "bun", ms: 1_000 }],
      ["9", { name: "HeapHelper", ms: 5 }],
    ]);
    expect(threadCpuPerRecord(new Map(), after, 1_000_000)).toBe("main 1,000, others 5 = 1,005 ns/record");
  });

  test("reads this process's threads, its own among them", () => {
    expect(threadCpu().has(main)).toBe(process.platform === "linux");
  });
});
