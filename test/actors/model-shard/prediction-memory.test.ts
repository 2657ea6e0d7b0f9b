import { describe, expect, test } from "bun:test";
import {
  PredictionMemory,
  type RememberedPrediction,
} from "../../../actors/model-shard/prediction-memory.ts";

const prediction = (served: string): RememberedPrediction => ({
  served,
  values: new Map([[served, 1]]),
  arm: "served",
});

describe("the prediction memory", () => {
  // [case, capacity, operations (`remember id` or `take id`), ids still remembered]
  test.each([
    ["below the bound every prediction waits for its label", 3, ["remember a", "remember b"], ["a", "b"]],
    ["past the bound the oldest is forgotten", 2, ["remember a", "remember b", "remember c"], ["b", "c"]],
    // a prediction made again (a replay) is the newest again, as the Map's delete + set made it
    [
      "remembered again, a prediction is the newest",
      2,
      ["remember a", "remember b", "remember a", "remember c"],
      ["a", "c"],
    ],
    [
      "a label takes its prediction: its place is free",
      2,
      ["remember a", "remember b", "take a", "remember c"],
      ["b", "c"],
    ],
    ["a label for nothing remembered takes nothing", 2, ["remember a", "take z", "remember b"], ["a", "b"]],
  ] as [string, number, string[], string[]][])("%s", (_case, capacity, operations, remembered) => {
    const memory = new PredictionMemory(capacity);
    for (const operation of operations) {
      const [verb, id] = operation.split(" ") as [string, string];
      if (verb === "remember") memory.remember(id, prediction(id));
      else memory.take(id);
    }
    expect(memory.size).toBe(remembered.length);
    for (const id of remembered) expect(memory.get(id)?.served).toBe(id);
  });

  test("a label joins its prediction once", () => {
    const memory = new PredictionMemory(2);
    memory.remember("a", prediction("v1"));
    expect(memory.take("a")?.served).toBe("v1");
    expect(memory.take("a")).toBeUndefined();
  });

  // Regression: full, the memory forgot its oldest through the Map's first entry, which walks
  // past every entry forgotten before, so each forecast cost more than the last (labels that
  // never come fill it: 200,000 by default). The old code took 49.7 s here (0.7 s now); the
  // timeout leaves this one ~20x its time on a quiet machine.
  test("500,000 predictions past a full memory of 200,000 forget the oldest without slowing down", () => {
    const memory = new PredictionMemory(200_000);
    const remembered = prediction("v1");
    for (let k = 0; k < 700_000; k++)
      memory.remember(PredictionMemory.key("traffic", `s${k}`, k), remembered);
    expect(memory.size).toBe(200_000);
    expect(memory.get(PredictionMemory.key("traffic", "s499999", 499_999))).toBeUndefined();
    expect(memory.get(PredictionMemory.key("traffic", "s500000", 500_000))).toBe(remembered);
  }, 15_000);
});
