import { expect, test } from "bun:test";
import { DriftTrigger } from "../../../actors/retrain/drift-trigger.ts";

/**
 * Data drift triggers a model's loop once per change: on the look that first sees drifted
 * features, not on every look while it lasts, and again after the inputs came back.
 */
type Look = readonly string[] | "not served";

function run(looks: readonly Look[]) {
  const triggers: { model: string; reason: string; by: string; collect: number }[] = [];
  let current: Look = "not served";
  const trigger = new DriftTrigger(
    {
      driftOf: () =>
        current === "not served"
          ? undefined
          : {
              version: "3",
              features: ["speed", "count", "hour"].map((name) => ({
                name,
                drifted: (current as readonly string[]).includes(name),
              })) as never,
              prediction: undefined,
            },
    },
    {
      trigger: (model, reason, by, collect) => {
        triggers.push({ model, reason, by: by ?? "", collect: collect ?? 0 });
        return true;
      },
    },
  );
  const fired = looks.map((look) => {
    current = look;
    return trigger.check("m", 300);
  });
  return { fired, triggers };
}

test.each<[string, readonly Look[], readonly boolean[]]>([
  ["no drift never triggers", [[], [], []], [false, false, false]],
  ["a drift triggers on the look that sees it", [[], ["speed"]], [false, true]],
  ["a drift that lasts triggers once", [["speed"], ["speed"], ["speed", "count"]], [true, false, false]],
  ["a drift after the inputs came back triggers again", [["speed"], [], ["count"]], [true, false, true]],
  ["a model not served has no drift", ["not served", ["speed"]], [false, true]],
])("%s", (_name, looks, expected) => {
  expect(run(looks).fired).toEqual([...expected]);
});

test("the trigger names the drifted features and the version, as the monitor, collecting the post-change labels", () => {
  const { triggers } = run([["speed", "hour"]]);
  expect(triggers).toEqual([
    {
      model: "m",
      reason: "data drift on speed, hour (KS and PSI against version 3's training reference)",
      by: "monitor",
      collect: 300,
    },
  ]);
});

test("each model has its own edge", () => {
  const triggered: string[] = [];
  const trigger = new DriftTrigger(
    {
      driftOf: (model) => ({
        version: "1",
        features: [{ name: "x", drifted: model !== "calm" }] as never,
        prediction: undefined,
      }),
    },
    { trigger: (model) => triggered.push(model) > 0 },
  );
  for (const model of ["a", "b", "calm", "a", "b"]) trigger.check(model, 0);
  expect(triggered).toEqual(["a", "b"]);
});
