import { expect, test } from "bun:test";
import { LiveClassification } from "../../../ml/monitoring/live-classification.ts";
import { evaluateClassification, rocAuc } from "../../../ml/tree/classification-metrics.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";

function stream(seed: number, length: number, separation: number) {
  const random = new SeededRandom(seed);
  return Array.from({ length }, () => {
    const actual = random.next() < 0.4 ? 1 : 0;
    // a score that leans towards the class by `separation`
    const p = Math.min(1, Math.max(0, random.next() * (1 - separation) + (actual === 1 ? separation : 0)));
    return { p, actual };
  });
}

test("over a whole stream, precision, recall and F1 equal the batch figures and AUC is within 0.002", () => {
  const outcomes = stream(1, 20_000, 0.3);
  const live = new LiveClassification({ window: 500 });
  for (const o of outcomes) live.observe(o.p, o.actual);
  const batch = evaluateClassification(
    outcomes.map((o) => o.actual),
    outcomes.map((o) => o.p),
  );
  const snapshot = live.snapshot();
  expect(snapshot.outcomes).toBe(20_000);
  expect(snapshot.positives).toBe(batch.positives);
  expect(snapshot.precision).toBeCloseTo(batch.precision, 12);
  expect(snapshot.recall).toBeCloseTo(batch.recall, 12);
  expect(snapshot.f1).toBeCloseTo(batch.f1, 12);
  expect(Math.abs(snapshot.auc - batch.auc)).toBeLessThan(0.002);
});

test("the recent figures cover the last outcomes only, exactly, and see a change the whole-service ones hide", () => {
  const good = stream(2, 5_000, 0.6);
  const bad = stream(3, 300, 0);
  const live = new LiveClassification({ window: 300 });
  for (const o of [...good, ...bad]) live.observe(o.p, o.actual);
  const snapshot = live.snapshot();
  const recent = evaluateClassification(
    bad.map((o) => o.actual),
    bad.map((o) => o.p),
  );
  expect(snapshot.recentCount).toBe(300);
  expect(snapshot.recentAuc).toBeCloseTo(recent.auc, 12);
  expect(snapshot.recentPrecision).toBeCloseTo(recent.precision, 12);
  expect(snapshot.recentRecall).toBeCloseTo(recent.recall, 12);
  expect(snapshot.recentAuc).toBeLessThan(0.6);
  expect(snapshot.auc).toBeGreaterThan(0.85);
});

const refused: Array<[string, number, number]> = [
  ["a probability above 1", 1.5, 1],
  ["a negative probability", -0.1, 0],
  ["NaN", Number.NaN, 1],
  ["a label of 2", 0.5, 2],
  ["a fractional label", 0.5, 0.5],
];
for (const [name, p, actual] of refused) {
  test(`an outcome with ${name} is refused and counts nowhere`, () => {
    const live = new LiveClassification();
    expect(live.observe(p, actual)).toBe(false);
    expect(live.snapshot().outcomes).toBe(0);
  });
}

test("AUC is undefined (NaN) until both classes were seen; precision and recall are 0 without a denominator", () => {
  const live = new LiveClassification();
  live.observe(0.2, 0);
  live.observe(0.3, 0);
  const snapshot = live.snapshot();
  expect(snapshot.auc).toBeNaN();
  expect(snapshot.recentAuc).toBeNaN();
  expect(snapshot.precision).toBe(0);
  expect(snapshot.recall).toBe(0);
});

const aucCases: Array<[string, number[], number[], number]> = [
  ["a perfect ranking", [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1],
  ["an inverted ranking", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0],
  ["all tied", [0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5],
  ["one tie across the classes", [0, 1, 1], [0.3, 0.3, 0.9], 0.75],
];
for (const [name, labels, scores, expected] of aucCases) {
  test(`ROC AUC of ${name} is ${expected}`, () => {
    expect(rocAuc(labels, scores)).toBeCloseTo(expected, 12);
  });
}
