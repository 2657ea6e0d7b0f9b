import { describe, expect, test } from "bun:test";
import { sliding } from "../../../stream/window/window-assigner.ts";
import { feed, operatorFor, type Row, windows } from "./operator-harness.ts";

/** Windows as Kafka writes them: [start; end] inclusive, with the values they hold summed. */
function kafkaWindows(rows: Row[], timeDifferenceMs: number) {
  const operator = operatorFor({
    assigner: sliding(timeDifferenceMs),
    watermark: { maxOutOfOrdernessMs: 60_000 },
  });
  const out = feed(operator, rows);
  operator.flush(out);
  return windows(out)
    .map(([, start, end, count, sum]) => [start, end - 1, count, sum])
    .sort((a, b) => (a[0] as number) - (b[0] as number));
}

describe("sliding windows (Kafka Streams SlidingWindows, KIP-450)", () => {
  test("the SlidingWindows javadoc example gives its five windows", () => {
    // time difference 5000 ms; values 1, 2, 3 at 8000, 9200, 12400 (values as powers of two
    // here, so the sum names the set: 1 = {1}, 3 = {1,2}, 7 = {1,2,3}, 6 = {2,3}, 4 = {3})
    const rows: Row[] = [
      [0, "A", 8_000, 1],
      [0, "A", 9_200, 2],
      [0, "A", 12_400, 4],
    ];
    expect(kafkaWindows(rows, 5_000)).toEqual([
      [3_000, 8_000, 1, 1],
      [4_200, 9_200, 2, 3],
      [7_400, 12_400, 3, 7],
      [8_001, 13_001, 2, 6],
      [9_201, 14_201, 1, 4],
    ]);
  });

  const cases: { name: string; rows: Row[]; windows: number[][] }[] = [
    {
      name: "a lone record has only its left window",
      rows: [[0, "A", 10_000, 1]],
      windows: [[5_000, 10_000, 1, 1]],
    },
    {
      name: "records further apart than the difference share no window",
      rows: [
        [0, "A", 10_000, 1],
        [0, "A", 15_001, 2],
      ],
      windows: [
        [5_000, 10_000, 1, 1],
        [10_001, 15_001, 1, 2],
      ],
    },
    {
      name: "records exactly the difference apart share the later left window",
      rows: [
        [0, "A", 10_000, 1],
        [0, "A", 15_000, 2],
      ],
      windows: [
        [5_000, 10_000, 1, 1],
        [10_000, 15_000, 2, 3],
        [10_001, 15_001, 1, 2],
      ],
    },
    {
      name: "an out-of-order record creates the windows it would have created in order",
      rows: [
        [0, "A", 10_000, 1],
        [0, "A", 12_000, 4],
        [0, "A", 11_000, 2],
      ],
      windows: [
        [5_000, 10_000, 1, 1],
        [6_000, 11_000, 2, 3],
        [7_000, 12_000, 3, 7],
        [10_001, 15_001, 2, 6],
        [11_001, 16_001, 1, 4],
      ],
    },
    {
      name: "records earlier than the difference use the window [0; d]",
      rows: [
        [0, "A", 1_000, 1],
        [0, "A", 3_000, 2],
      ],
      windows: [
        [0, 5_000, 2, 3],
        [1_001, 6_001, 1, 2],
      ],
    },
    {
      name: "records with the same timestamp share their windows",
      rows: [
        [0, "A", 10_000, 1],
        [0, "A", 10_000, 2],
        [0, "A", 12_000, 4],
      ],
      windows: [
        [5_000, 10_000, 2, 3],
        [7_000, 12_000, 3, 7],
        [10_001, 15_001, 1, 4],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(kafkaWindows(c.rows, 5_000)).toEqual(c.windows);
    });
  }

  test("a record whose windows have all closed goes to the late output", () => {
    const operator = operatorFor({ assigner: sliding(1_000), graceMs: 500 });
    const out = feed(operator, [
      [0, "A", 10_000, 1],
      [0, "A", 20_000, 2],
      [0, "A", 18_000, 4],
    ]);
    expect(out.late.map((r) => [r.eventTime, r.reason])).toEqual([[18_000, "window closed"]]);
    operator.flush(out);
    expect(windows(out).map(([, s, e, n]) => [s, e - 1, n])).toEqual([
      [9_000, 10_000, 1],
      [19_000, 20_000, 1],
    ]);
  });
});
