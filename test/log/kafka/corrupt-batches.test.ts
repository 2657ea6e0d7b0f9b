import { describe, expect, test } from "bun:test";
import { CORRUPT_BATCH_REFETCHES, corruptBatchVerdict } from "../../../log/kafka/corrupt-batches.ts";

describe("a consumer meeting a corrupt batch", () => {
  test.each([
    { name: "the first fetch to meet it", before: 0, movedBefore: false, after: 1, fail: false },
    {
      name: "met after whole batches moved the position",
      before: 2,
      movedBefore: true,
      after: 1,
      fail: false,
    },
    { name: "the refetches not used up", before: 1, movedBefore: false, after: 2, fail: false },
    { name: "still corrupt after the refetches", before: 2, movedBefore: false, after: 0, fail: true },
  ])("$name: fails the poll $fail", ({ before, movedBefore, after, fail }) => {
    expect(corruptBatchVerdict(before, movedBefore)).toEqual({ fetchesInARow: after, fail });
  });

  test("fetches it again a bounded number of times, then fails, and again after that (never skipped, never spinning)", () => {
    let inARow = 0;
    const verdicts: boolean[] = [];
    for (let fetch = 0; fetch < 2 * (CORRUPT_BATCH_REFETCHES + 1); fetch++) {
      const verdict = corruptBatchVerdict(inARow, false);
      inARow = verdict.fetchesInARow;
      verdicts.push(verdict.fail);
    }
    expect(verdicts).toEqual([false, false, true, false, false, true]);
  });
});
