import { expect, test } from "bun:test";
import { type ArmStatistics, decide, emptyArm, observe } from "../../../ml/serving/sequential-test.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

const OPTIONS = { alpha: 0.05, minSamples: 100, maxSamples: 20_000 };

/** Feeds both arms alternately until the test decides; returns the decision and the outcomes used. */
function run(seed: number, meanA: number, meanB: number, limit = 40_000) {
  const random = new SeededRandom(seed);
  const arms: ArmStatistics[] = [emptyArm(), emptyArm()];
  for (let i = 0; i < limit; i++) {
    observe(arms[i % 2]!, Math.abs((i % 2 === 0 ? meanA : meanB) + random.nextGaussian()));
    const decision = decide(arms, OPTIONS);
    if (decision.decided) return { decision, outcomes: i + 1 };
  }
  return { decision: decide(arms, OPTIONS), outcomes: limit };
}

test.each([
  ["a challenger with a clearly lower error wins", 3, 2, 1],
  ["a challenger with a clearly higher error loses to the champion", 2, 3, 0],
])("%s", (_name, meanA, meanB, winner) => {
  const { decision } = run(1, meanA, meanB);
  expect(decision.decided).toBe(true);
  if (decision.decided) expect(decision.winner).toBe(winner);
});

test("with no difference the test runs to its limit and keeps the champion in most experiments (false positives <= alpha)", () => {
  let falsePositives = 0;
  const experiments = 40;
  for (let seed = 0; seed < experiments; seed++) {
    const { decision } = run(100 + seed, 2, 2, 4_000);
    if (decision.decided && decision.winner !== undefined) falsePositives++;
  }
  // the mSPRT bounds the rate at alpha = 5% for any number of looks; allow sampling noise
  expect(falsePositives / experiments).toBeLessThanOrEqual(0.1);
});

test("no decision before each arm has its minimum of outcomes, however different they look", () => {
  const arms = [emptyArm(), emptyArm()];
  for (let i = 0; i < 99; i++) {
    observe(arms[0]!, 10);
    observe(arms[1]!, 0);
  }
  expect(decide(arms, OPTIONS).decided).toBe(false);
});
