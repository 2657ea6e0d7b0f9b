import { describe, expect, test } from "bun:test";
import { BatchOutputs } from "../../../bench/peers/ours-windowed-aggregation.ts";
import type { WindowResult } from "../../../messages/window-result.ts";

/**
 * Our side writes each window's latest output of a poll batch: an update that a later output of
 * the same window follows (the final the batch's watermark closed it with) gives way to it, and
 * nothing else is dropped or reordered.
 */
describe("a poll batch's window outputs", () => {
  const result = (key: string, start: number, count: number, final: boolean): WindowResult => ({
    scope: "sensor",
    key,
    type: "traffic",
    window_start: start,
    window_end: start + 60_000,
    count,
    fields: {},
    final,
    emitted_at: 0,
  });
  const latest = (outputs: BatchOutputs) =>
    outputs.results
      .filter((r) => r !== undefined)
      .map((r) => `${r.key}@${r.window_start}:${r.count}${r.final ? " final" : ""}`);

  test.each<[string, [string, number, number, boolean][], string[]]>([
    [
      "an update, then the final of the same window",
      [
        ["a", 0, 2, false],
        ["a", 0, 2, true],
      ],
      ["a@0:2 final"],
    ],
    [
      "another sensor's output between them",
      [
        ["a", 0, 2, false],
        ["b", 0, 1, false],
        ["a", 0, 3, true],
      ],
      ["b@0:1", "a@0:3 final"],
    ],
    [
      "two windows of one sensor, only the first closes",
      [
        ["a", 0, 1, false],
        ["a", 60_000, 1, false],
        ["a", 0, 1, true],
      ],
      ["a@60000:1", "a@0:1 final"],
    ],
    [
      "the same start for different sensors",
      [
        ["a", 0, 1, false],
        ["b", 0, 1, true],
        ["c", 0, 4, false],
      ],
      ["a@0:1", "b@0:1 final", "c@0:4"],
    ],
    [
      "three outputs of one window",
      [
        ["a", 0, 1, false],
        ["a", 0, 2, false],
        ["a", 0, 2, true],
      ],
      ["a@0:2 final"],
    ],
  ])("%s: the latest per window, in the order they came", (_name, outputs, want) => {
    const batch = new BatchOutputs();
    for (const [key, start, count, final] of outputs) batch.add(result(key, start, count, final));
    expect(latest(batch)).toEqual(want);
  });

  test("a cleared batch forgets the outputs before it: the next batch's update stays", () => {
    const batch = new BatchOutputs();
    batch.add(result("a", 0, 1, false));
    batch.clear();
    expect(latest(batch)).toEqual([]);
    batch.add(result("a", 0, 2, true));
    batch.add(result("b", 0, 1, false));
    expect(latest(batch)).toEqual(["a@0:2 final", "b@0:1"]);
  });
});
