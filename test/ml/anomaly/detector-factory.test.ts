import { expect, test } from "bun:test";
import { isPlatformError } from "../../../messages/errors.ts";
import { createDetector, restoreDetector } from "../../../ml/anomaly/detector-factory.ts";

const badConfigs: Array<[string, unknown]> = [
  ["an unknown kind", { kind: "isolation-forest" }],
  ["no kind at all", { windowSize: 10 }],
  ["a window of 2", { kind: "robust-z", windowSize: 2 }],
  ["a warm-up longer than the window", { kind: "robust-z", windowSize: 20, warmUp: 50 }],
  ["an EWMA weight of 1", { kind: "robust-z", ewmaAlpha: 1 }],
  ["half-space trees without ranges", { kind: "half-space-trees" }],
  ["a range whose min is above its max", { kind: "half-space-trees", featureRanges: [[5, 1]] }],
  ["a depth of 40", { kind: "half-space-trees", featureRanges: [[0, 1]], depth: 40 }],
  ["a string", "robust-z"],
];
for (const [what, config] of badConfigs) {
  test(`refuses a config with ${what} (CONFIG_INVALID)`, () => {
    let caught: unknown;
    try {
      createDetector(config);
    } catch (error) {
      caught = error;
    }
    expect(isPlatformError(caught, "CONFIG_INVALID")).toBe(true);
  });
}

test("fills in defaults and names the detector kind", () => {
  expect(createDetector({ kind: "robust-z" }).kind).toBe("robust-z");
  const trees = createDetector({
    kind: "half-space-trees",
    featureRanges: [
      [0, 1],
      [0, 1],
      [0, 1],
    ],
  });
  expect([trees.kind, trees.dimensions]).toEqual(["half-space-trees", 3]);
});

const badSnapshots: Array<[string, unknown]> = [
  ["null", null],
  ["an unknown kind", { kind: "nope", config: {}, state: {} }],
  [
    "a robust-z state with a negative variance",
    { kind: "robust-z", config: {}, state: { window: [], count: 0, mean: 0, variance: -1 } },
  ],
  [
    "half-space-trees masses that do not fit the config",
    {
      kind: "half-space-trees",
      config: { featureRanges: [[0, 1]], depth: 2, nTrees: 1 },
      state: { count: 0, typicalRaw: 0, reference: [1], latest: [1], window: [] },
    },
  ],
];
for (const [what, snapshot] of badSnapshots) {
  test(`refuses to restore ${what} (CONFIG_INVALID)`, () => {
    expect(() => restoreDetector(snapshot)).toThrow(/CONFIG_INVALID/);
  });
}
