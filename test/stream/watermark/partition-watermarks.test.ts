import { describe, expect, test } from "bun:test";
import { PartitionWatermarks } from "../../../stream/watermark/partition-watermarks.ts";
import { tumbling } from "../../../stream/window/window-assigner.ts";
import { createWindowOutput } from "../../../stream/window/window-output.ts";
import { operatorFor, testClock } from "../window/operator-harness.ts";

/** Steps: a record [partition, eventTime] at processing time `at`, or an idle check at `at`. */
type Step = { at: number; record?: [number, number]; expect: number | null };

describe("operator watermark over partitions", () => {
  const cases: { name: string; bound: number; idleMs: number; steps: Step[] }[] = [
    {
      name: "the watermark is max event time minus the bound on a single partition",
      bound: 500,
      idleMs: Number.POSITIVE_INFINITY,
      steps: [
        { at: 0, record: [0, 1_000], expect: 500 },
        { at: 1, record: [0, 800], expect: 500 },
        { at: 2, record: [0, 2_000], expect: 1_500 },
      ],
    },
    {
      name: "the slowest active partition holds the watermark back",
      bound: 0,
      idleMs: Number.POSITIVE_INFINITY,
      steps: [
        { at: 0, record: [0, 1_000], expect: 1_000 },
        { at: 1, record: [1, 400], expect: 1_000 },
        { at: 2, record: [0, 5_000], expect: 1_000 },
        { at: 3, record: [1, 3_000], expect: 3_000 },
      ],
    },
    {
      name: "one quiet partition does not stall event time once it is idle",
      bound: 0,
      idleMs: 1_000,
      steps: [
        { at: 0, record: [0, 1_000], expect: 1_000 },
        { at: 0, record: [1, 1_000], expect: 1_000 },
        { at: 500, record: [0, 5_000], expect: 1_000 },
        { at: 999, expect: 1_000 },
        { at: 1_000, expect: 5_000 },
        { at: 1_200, record: [0, 9_000], expect: 9_000 },
      ],
    },
    {
      name: "an idle partition that gets data again holds the watermark again, without moving it back",
      bound: 0,
      idleMs: 1_000,
      steps: [
        { at: 0, record: [0, 1_000], expect: 1_000 },
        { at: 0, record: [1, 1_000], expect: 1_000 },
        { at: 1_000, record: [0, 5_000], expect: 1_000 },
        { at: 1_000, expect: 5_000 },
        { at: 1_100, record: [1, 2_000], expect: 5_000 },
        { at: 1_200, record: [0, 9_000], expect: 5_000 },
        { at: 1_300, record: [1, 7_000], expect: 7_000 },
      ],
    },
    {
      name: "when every partition is idle the watermark moves to the highest partition watermark",
      bound: 0,
      idleMs: 100,
      steps: [
        { at: 0, record: [0, 1_000], expect: 1_000 },
        { at: 0, record: [1, 3_000], expect: 1_000 },
        { at: 50, record: [1, 4_000], expect: 1_000 },
        { at: 100, expect: 4_000 },
        { at: 1_000, expect: 4_000 },
      ],
    },
    {
      name: "a fully idle stream releases the watermark held by its slowest partition",
      bound: 0,
      idleMs: 100,
      steps: [
        { at: 0, record: [0, 1_000], expect: 1_000 },
        { at: 0, record: [1, 3_000], expect: 1_000 },
        { at: 99, expect: 1_000 },
        { at: 200, expect: 3_000 },
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const watermarks = new PartitionWatermarks(c.bound, c.idleMs);
      const seen = c.steps.map((step) => {
        if (step.record) watermarks.observe(step.record[0], step.record[1], step.at);
        else watermarks.checkIdle(step.at);
        const current = watermarks.current;
        return current === Number.NEGATIVE_INFINITY ? null : current;
      });
      expect(seen).toEqual(c.steps.map((step) => step.expect));
    });
  }
});

describe("idleness only while input flows", () => {
  test.each([
    ["by default, a stall of every partition releases the watermark to the highest partition", false, 5000],
    [
      "with idleOnlyWhileInputFlows, a stall makes nothing idle: the first partition back cannot lift it",
      true,
      1000,
    ],
  ])("%s", (_name, idleOnlyWhileInputFlows, expected) => {
    const watermarks = new PartitionWatermarks(0, 100, { idleOnlyWhileInputFlows });
    watermarks.observe(0, 1000, 0);
    watermarks.observe(1, 1000, 0);
    watermarks.checkIdle(500); // nothing arrived from anywhere for five idle timeouts
    watermarks.observe(0, 5000, 600); // partition 0 delivers its backlog first
    watermarks.checkIdle(610);
    expect(watermarks.current).toBe(expected);
  });

  test("with idleOnlyWhileInputFlows, a partition still goes idle while the others send", () => {
    const watermarks = new PartitionWatermarks(0, 100, { idleOnlyWhileInputFlows: true });
    watermarks.observe(0, 1000, 0);
    watermarks.observe(1, 1000, 0);
    for (let t = 50; t <= 300; t += 50) watermarks.observe(0, 1000 + t, t);
    watermarks.checkIdle(300);
    expect(watermarks.current).toBe(1300);
  });
});

describe("idleness by lag (a reader that knows how far it is behind the log)", () => {
  // partition 0 keeps sending; partition 1 sent once at 0 and then nothing; the idle timeout is 100
  const lagCases: { lag: number | undefined; quietFor: number; idle: boolean }[] = [
    { lag: 0, quietFor: 100, idle: true },
    { lag: 0, quietFor: 99, idle: false },
    { lag: 3, quietFor: 100, idle: false },
    { lag: 3, quietFor: 99, idle: false },
    { lag: undefined, quietFor: 100, idle: false },
    { lag: undefined, quietFor: 99, idle: false },
  ];
  test.each(lagCases)("lag $lag, quiet for $quietFor ms: idle is $idle", ({ lag, quietFor, idle }) => {
    const watermarks = new PartitionWatermarks(0, 100, { lagOf: (partition) => (partition === 1 ? lag : 0) });
    watermarks.observe(0, 1000, 0);
    watermarks.observe(1, 1000, 0);
    watermarks.checkIdle(0);
    watermarks.observe(0, 3000, quietFor / 2); // partition 0 keeps sending
    watermarks.observe(0, 5000, quietFor);
    watermarks.checkIdle(quietFor);
    expect(watermarks.partitions().map((p) => p.idle)).toEqual([false, idle]);
    expect(watermarks.current).toBe(idle ? 5000 : 1000);
  });

  test("a partition is idle only after it has been read to its end for the whole timeout, however long it was quiet before", () => {
    let lag: number | undefined = 2;
    const watermarks = new PartitionWatermarks(0, 100, { lagOf: (partition) => (partition === 1 ? lag : 0) });
    watermarks.observe(0, 1000, 0);
    watermarks.observe(1, 1000, 0);
    watermarks.checkIdle(500); // quiet for five timeouts, but behind the log's end
    lag = 0;
    watermarks.observe(0, 5000, 510);
    watermarks.checkIdle(510); // seen read to its end from 510 on
    watermarks.checkIdle(590);
    expect(watermarks.current).toBe(1000);
    watermarks.checkIdle(610);
    expect(watermarks.current).toBe(5000);
  });

  test("an idle partition whose lag rises holds event time again before any of its new records is observed", () => {
    let lag = 0;
    const watermarks = new PartitionWatermarks(0, 100, { lagOf: (partition) => (partition === 1 ? lag : 0) });
    watermarks.observe(0, 1000, 0);
    watermarks.observe(1, 1000, 0);
    watermarks.checkIdle(0);
    for (let t = 50; t <= 300; t += 50) {
      watermarks.observe(0, 1000 + 10 * t, t);
      watermarks.checkIdle(t);
    }
    expect(watermarks.partitions().map((p) => p.idle)).toEqual([false, true]);
    expect(watermarks.current).toBe(4000);
    lag = 4; // a fetch shows records on partition 1; partition 0's are observed first
    watermarks.observe(0, 9000, 350);
    expect(watermarks.current).toBe(4000);
    lag = 0;
    watermarks.observe(1, 5000, 360);
    expect(watermarks.current).toBe(5000);
  });

  test("when records come again after the whole input was silent for the timeout, every partition holds again until it is read to its end for another timeout", () => {
    const watermarks = new PartitionWatermarks(0, 100, { lagOf: () => 0 });
    watermarks.observe(0, 2000, 0);
    watermarks.observe(1, 1000, 0);
    watermarks.checkIdle(0);
    watermarks.checkIdle(200); // a quiet stream: both idle, its last windows may close
    expect(watermarks.current).toBe(2000);
    // partition 0 is back first; partition 1's readings may still be on their way to the log
    watermarks.observe(0, 9000, 300);
    watermarks.checkIdle(300);
    expect(watermarks.current).toBe(2000);
    watermarks.checkIdle(399);
    expect(watermarks.current).toBe(2000);
    watermarks.checkIdle(400);
    expect(watermarks.current).toBe(9000);
  });

  test("without a reading of the lag, silence alone makes a partition idle (an operator that does not see the log)", () => {
    const watermarks = new PartitionWatermarks(0, 100);
    watermarks.observe(0, 1000, 0);
    watermarks.observe(1, 1000, 0);
    watermarks.observe(0, 5000, 100);
    watermarks.checkIdle(100);
    expect(watermarks.current).toBe(5000);
  });
});

describe("idle partitions in the window operator", () => {
  test("windows close while one partition is quiet, after the idle timeout", () => {
    const clock = testClock(0);
    const operator = operatorFor({ assigner: tumbling(10_000), watermark: { idleTimeoutMs: 5_000 } }, clock);
    const out = createWindowOutput();
    operator.process(0, "a", 1_000, { v: 1 }, out);
    operator.process(1, "b", 1_000, { v: 1 }, out);
    for (let t = 2_000; t <= 30_000; t += 1_000) {
      clock.now = t;
      operator.process(0, "a", t, { v: 1 }, out);
    }
    expect(out.emitted).toEqual([]); // partition 1 holds event time at 1 s
    clock.now = 36_000;
    operator.advanceProcessingTime(clock.now, out);
    expect(out.emitted.map((w) => [w.key, w.windowStart])).toEqual([
      ["a", 0],
      ["b", 0],
      ["a", 10_000],
      ["a", 20_000],
    ]);
    expect(operator.stats().partitions.map((p) => p.idle)).toEqual([true, true]);
  });
});
