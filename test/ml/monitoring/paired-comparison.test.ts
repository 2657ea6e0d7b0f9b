import { expect, test } from "bun:test";
import { PairedComparison } from "../../../ml/monitoring/paired-comparison.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

/**
 * Two classifiers on the same 2,000 outcomes whose true P(1) is 0.7: the champion says 0.95
 * (overconfident), the challenger says 0.7 (calibrated). Absolute error rewards the champion's
 * extreme probability; log loss, a proper score, sees the challenger is the better forecast.
 */
function judge(score: "absolute-error" | "log-loss") {
  const random = new SeededRandom(11);
  const comparison = new PairedComparison({ margin: 0.02, minOutcomes: 200, maxOutcomes: 5_000, score });
  for (let i = 0; i < 2_000; i++) comparison.observe(0.95, 0.7, random.next() < 0.7 ? 1 : 0);
  return comparison.verdict();
}

test("on absolute error a calibrated challenger loses to an overconfident champion", () => {
  expect(judge("absolute-error").verdict).toBe("worse");
});

// regression: the market model's loop judged probabilities by |p - y| and would have kept the overconfident one
test("on log loss the calibrated challenger is not worse", () => {
  const verdict = judge("log-loss");
  expect(verdict.verdict).toBe("not-worse");
  if (verdict.verdict !== "pending") expect(verdict.challengerMae).toBeLessThan(verdict.championMae);
});

test("log loss skips an outcome whose actual is not 0 or 1", () => {
  const comparison = new PairedComparison({
    margin: 0.02,
    minOutcomes: 1,
    maxOutcomes: 10,
    score: "log-loss",
  });
  comparison.observe(0.6, 0.4, 0.5);
  expect(comparison.verdict()).toEqual({ verdict: "pending", outcomes: 0 });
});
