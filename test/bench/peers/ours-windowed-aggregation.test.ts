import { describe, expect, test } from "bun:test";
import { InputProgress } from "../../../bench/peers/ours-windowed-aggregation.ts";

/**
 * Our side's clock and end: the input (a fresh topic, offsets from 0) is all polled once the
 * highest offsets polled per partition add up to the records, and done once the committed do;
 * a replay (offsets polled again) counts once.
 */
describe("our side's input progress", () => {
  type Step =
    | ["poll", [partition: number, offset: number][]]
    | ["commit", [partition: number, offset: number][]];
  test.each<[string, Step[], { allPolled: number; short: number; complete: boolean }]>([
    [
      "polled and committed in one go",
      [
        [
          "poll",
          [
            [0, 0],
            [0, 1],
            [1, 0],
          ],
        ],
        [
          "commit",
          [
            [0, 2],
            [1, 1],
          ],
        ],
      ],
      { allPolled: 1, short: 0, complete: true },
    ],
    [
      "a replay polls offsets again: counted once",
      [
        [
          "poll",
          [
            [0, 0],
            [0, 1],
          ],
        ],
        [
          "poll",
          [
            [0, 0],
            [0, 1],
            [1, 0],
          ],
        ],
        [
          "commit",
          [
            [0, 2],
            [1, 1],
          ],
        ],
      ],
      { allPolled: 1, short: 0, complete: true },
    ],
    [
      "a commit short of the end after all was polled asks again",
      [
        [
          "poll",
          [
            [0, 0],
            [0, 1],
            [1, 0],
          ],
        ],
        ["commit", [[0, 2]]],
        ["commit", [[1, 1]]],
      ],
      { allPolled: 1, short: 1, complete: true },
    ],
    [
      "a commit before all was polled is not short: the end's checkpoint is still to come",
      [
        ["poll", [[0, 0]]],
        ["commit", [[0, 1]]],
      ],
      { allPolled: 0, short: 0, complete: false },
    ],
  ])("%s", (_name, steps, want) => {
    const progress = new InputProgress(3);
    let allPolled = 0;
    let short = 0;
    let complete = false;
    progress.onAllPolled = () => allPolled++;
    progress.onCommitShort = () => short++;
    progress.onComplete = () => {
      complete = true;
    };
    for (const [kind, positions] of steps)
      if (kind === "poll")
        progress.polledRecords(positions.map(([partition, offset]) => ({ partition, offset })));
      else progress.committed(positions.map(([partition, offset]) => ({ topic: "in", partition, offset })));
    expect({ allPolled, short, complete }).toEqual(want);
    if (complete) expect(progress.completedAt).toBeGreaterThanOrEqual(progress.firstPolledAt);
  });
});
