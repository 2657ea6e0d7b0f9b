import { expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { trainGradientBoosting } from "../../../ml/tree/gradient-boosting.ts";
import { TreeEnsemble } from "../../../ml/tree/tree-ensemble.ts";
import { knownFunctionSet } from "./tree-learner.case.ts";

const set = knownFunctionSet(500, 8);
const model = trainGradientBoosting(set, { nTrees: 10, maxDepth: 3 }, new Date("2026-03-01T12:30:00.123Z"));

test("the version names the learner, a content hash and the training time", () => {
  expect(model.version).toMatch(/^gbt-[0-9a-f]{16}-20260301T123000Z$/);
});

test("the same trees trained at another time keep the hash but change the version", () => {
  const later = trainGradientBoosting(set, { nTrees: 10, maxDepth: 3 }, new Date("2026-03-02T00:00:00Z"));
  expect(later.version.split("-")[1]).not.toBe(model.version.split("-")[1]);
  expect(later.predictBatch(set.rows)).toEqual(model.predictBatch(set.rows));
});

test("predictBatch over a flat row-major matrix equals predict row by row", () => {
  const flat = new Float64Array(set.rows.length * 4);
  set.rows.forEach((row, i) => {
    flat.set(Array.from(row), i * 4);
  });
  const out = new Float64Array(set.rows.length);
  model.predictBatch(flat, out);
  expect(Array.from(out)).toEqual(set.rows.map((row) => model.predict(row)));
});

const corruptions: Array<[string, (json: Record<string, unknown>) => unknown, string]> = [
  [
    "an edited leaf value",
    (json) => ({ ...json, value: (json.value as number[]).map((v) => v + 1) }),
    "DECODE_FAILED",
  ],
  ["a missing field", ({ threshold: _threshold, ...json }) => json, "DECODE_FAILED"],
  ["another format", (json) => ({ ...json, format: "tree-ensemble/v9" }), "DECODE_FAILED"],
  ["text that is not JSON", () => "{not json", "MALFORMED_JSON"],
];
for (const [what, corrupt, code] of corruptions) {
  test(`refuses a serialised model with ${what} (${code})`, () => {
    const json = JSON.parse(JSON.stringify(model.toJSON())) as Record<string, unknown>;
    let caught: unknown;
    try {
      TreeEnsemble.fromJSON(corrupt(json));
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, code as "DECODE_FAILED")).toBe(true);
  });
}

test("a flat batch whose length is not a multiple of the feature count is refused", () => {
  expect(() => model.predictBatch(new Float64Array(7))).toThrow(/FEATURE_MISSING/);
});
