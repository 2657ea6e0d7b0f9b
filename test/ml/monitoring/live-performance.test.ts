import { expect, test } from "bun:test";
import { LivePerformance } from "../../../ml/monitoring/live-performance.ts";

/** errors of `n` outcomes, each |predicted - actual| = size */
function feed(live: LivePerformance, n: number, size: number, from = 0): void {
  for (let i = 0; i < n; i++) live.observe(10, 10 + size, from + i);
}

test.each([
  ["too few outcomes: no ratio yet", [[50, 1]], undefined],
  ["a steady error: about 1", [[400, 1]], 1],
  // overall MAE (2000 x 1 + 500 x 2) / 2500 = 1.2, the recent 500 all 2
  [
    "the recent window's error doubled after a long steady run",
    [
      [2000, 1],
      [500, 2],
    ],
    2 / 1.2,
  ],
] as const)("the live error ratio: %s", (_name, phases, expected) => {
  const live = new LivePerformance({ window: 500 });
  let at = 0;
  for (const [n, size] of phases) {
    feed(live, n, size, at);
    at += n;
  }
  const ratio = live.errorRatio();
  if (expected === undefined) expect(ratio).toBeUndefined();
  else expect(ratio).toBeCloseTo(expected, 5);
});
