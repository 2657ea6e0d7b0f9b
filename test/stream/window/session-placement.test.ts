import { describe, expect, test } from "bun:test";
import { session } from "../../../stream/window/window-assigner.ts";
import { createWindowOperator } from "../../../stream/window/window-operator.ts";
import { createWindowOutput } from "../../../stream/window/window-output.ts";
import { feed, operatorFor, type Row, windows } from "./operator-harness.ts";

describe("session windows", () => {
  const cases: {
    name: string;
    rows: Row[];
    sessions: [string, number, number, number, unknown, boolean][];
  }[] = [
    {
      name: "records within the gap form one session [first, last + gap)",
      rows: [
        [0, "a", 1_000, 1],
        [0, "a", 3_000, 2],
        [0, "a", 5_000, 4],
      ],
      sessions: [["a", 1_000, 10_000, 3, 7, true]],
    },
    {
      name: "a pause longer than the gap starts a new session",
      rows: [
        [0, "a", 1_000, 1],
        [0, "a", 6_001, 2],
      ],
      sessions: [
        ["a", 1_000, 6_000, 1, 1, true],
        ["a", 6_001, 11_001, 1, 2, true],
      ],
    },
    {
      name: "records exactly gap apart share a session",
      rows: [
        [0, "a", 1_000, 1],
        [0, "a", 6_000, 2],
      ],
      sessions: [["a", 1_000, 11_000, 2, 3, true]],
    },
    {
      name: "an out-of-order record that bridges two sessions merges them",
      rows: [
        [0, "a", 1_000, 1],
        [0, "a", 10_000, 2],
        [0, "a", 5_500, 4],
      ],
      sessions: [["a", 1_000, 15_000, 3, 7, true]],
    },
    {
      name: "an out-of-order record before a session extends its start",
      rows: [
        [0, "a", 10_000, 1],
        [0, "a", 7_000, 2],
      ],
      sessions: [["a", 7_000, 15_000, 2, 3, true]],
    },
    {
      name: "keys have independent sessions",
      rows: [
        [0, "a", 1_000, 1],
        [0, "b", 2_000, 2],
        [0, "a", 4_000, 4],
      ],
      sessions: [
        ["b", 2_000, 7_000, 1, 2, true],
        ["a", 1_000, 9_000, 2, 5, true],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const operator = operatorFor({ assigner: session(5_000), watermark: { maxOutOfOrdernessMs: 10_000 } });
      const out = feed(operator, c.rows);
      operator.flush(out);
      expect(windows(out)).toEqual(c.sessions);
    });
  }

  test("merging keeps variance and quantiles exact across the merged parts", () => {
    const operator = createWindowOperator({
      assigner: session(1_000),
      aggregators: { v: ["count", "mean", "variance", "min", "max", { quantiles: [0.5] }] },
      watermark: { maxOutOfOrdernessMs: 100_000 },
      clock: () => 1_000_000,
    });
    const out = createWindowOutput();
    for (const [t, v] of [
      [0, 1],
      [500, 2],
      [2_500, 10],
      [3_000, 20],
      [1_500, 5],
    ] as const) {
      operator.process(0, "k", t, { v }, out);
    }
    operator.flush(out);
    const values = [1, 2, 10, 20, 5];
    const mean = values.reduce((a, b) => a + b) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
    expect(out.emitted.length).toBe(1);
    const v = out.emitted[0]!.aggregates.v!;
    expect(v.count).toBe(5);
    expect(v.mean).toBeCloseTo(mean, 12);
    expect(v.variance).toBeCloseTo(variance, 10);
    expect([v.min, v.max, v.p50]).toEqual([1, 20, 5]);
  });

  test("a record whose session would already be closed goes to the late output", () => {
    const operator = operatorFor({ assigner: session(5_000), graceMs: 1_000 });
    const out = feed(operator, [
      [0, "a", 1_000, 1],
      [0, "a", 20_000, 2],
      [0, "a", 13_500, 4],
      [0, "a", 14_500, 8],
    ]);
    expect(out.late.map((r) => [r.eventTime, r.reason])).toEqual([[13_500, "before watermark"]]);
    operator.flush(out);
    expect(windows(out)).toEqual([
      ["a", 1_000, 6_000, 1, 1, true],
      ["a", 14_500, 19_500, 1, 8, true],
      ["a", 20_000, 25_000, 1, 2, true],
    ]);
  });
});
