import { afterEach, beforeEach, expect, test } from "bun:test";
import { FORECAST_FEATURES, forecastTrainingSet } from "../../../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../../../ml/lifecycle/train-model.ts";
import { CLOCK_FEATURES } from "../../../ml/monitoring/feature-drift.ts";
import { CHAMPION } from "../../../ml/registry/model-registry.ts";
import { type LifecycleBench, lifecycleBench } from "../../../testkit/model-lifecycle.ts";
import { trafficWindowHistory } from "../../../testkit/traffic-windows.ts";

const MODEL = "traffic-forecast";
let b: LifecycleBench;
let rows: number[][];

beforeEach(async () => {
  b = lifecycleBench();
  const set = forecastTrainingSet(trafficWindowHistory({ sensors: 4, windows: 800 }), {
    table: "gold_traffic_windows",
    tableVersion: 1,
    views: [],
  });
  rows = set.rows.slice(0, 200).map((row) => Array.from(row));
  for (const nTrees of [30, 60, 90]) {
    await trainTrackAndRegister(b.tracking, b.registry, {
      model: MODEL,
      experiment: MODEL,
      set,
      learner: { kind: "gradient-boosting", params: { nTrees, maxDepth: 4, maxBins: 32 } },
      by: "test",
      reason: `version with ${nTrees} trees`,
    });
  }
  await b.registry.setAlias(MODEL, CHAMPION, "1", { by: "test", reason: "setup" });
  await b.serving.deploy(MODEL, { kind: "single", version: "1" }, { by: "test", reason: "setup" });
});

afterEach(async () => {
  await b.close();
});

test("one row and a batch are answered with the version that answered", async () => {
  const one = await b.serving.predict(MODEL, { row: rows[0] });
  expect(one.predictions).toHaveLength(1);
  expect(one.predictions[0]!.version).toBe("1");
  const expected = b.serving.loadedModel(MODEL, "1")!.ensemble.predict(rows[0]!);
  expect(one.predictions[0]!.value).toBeCloseTo(expected, 12);
  const batch = await b.serving.predict(MODEL, {
    rows: rows.map((features, i) => ({ key: `s${i}`, features })),
  });
  expect(batch.predictions.map((p) => p.version)).toEqual(rows.map(() => "1"));
});

test("hot swap under load: every request is answered, first by the old version, then by the new one, none fails", async () => {
  const answers: string[][] = [];
  let failures = 0;
  const load = async (count: number) => {
    for (let i = 0; i < count; i++) {
      try {
        const answer = await b.serving.predict(MODEL, { rows: rows.slice(0, 20) });
        answers.push(answer.predictions.map((p) => p.version));
      } catch (error) {
        failures++;
        throw error;
      }
    }
  };
  // four clients keep requests queued on the old shard while the policy switches twice
  const clients = [load(60), load(60), load(60), load(60)];
  await b.serving.deploy(MODEL, { kind: "single", version: "2" }, { by: "test", reason: "swap" });
  await b.serving.deploy(MODEL, { kind: "single", version: "3" }, { by: "test", reason: "swap again" });
  await Promise.all(clients);
  expect(failures).toBe(0);
  expect(answers).toHaveLength(240);
  // a request is answered by one version; the versions seen move forward only
  for (const versions of answers) expect(new Set(versions).size).toBe(1);
  expect(answers.at(-1)![0]).toBe("3");
  const after = await b.serving.predict(MODEL, { row: rows[0] });
  expect(after.predictions[0]!.version).toBe("3");
  // the retired versions' trees are released once their queues are answered
  await b.system.drain();
  expect(b.serving.loadedModel(MODEL, "1")).toBeUndefined();
});

test("shadow: the challenger scores every input and its values are kept for the label, never served", async () => {
  await b.serving.deploy(
    MODEL,
    { kind: "shadow", champion: "1", shadow: "2" },
    { by: "test", reason: "shadow" },
  );
  const seen: Map<string, number>[] = [];
  b.serving.onOutcome((outcome) => seen.push(new Map(outcome.values)));
  const answer = await b.serving.predict(MODEL, {
    rows: rows.slice(0, 50).map((features, i) => ({ key: `s${i}`, at: 1_000, features })),
  });
  expect(answer.predictions.every((p) => p.version === "1")).toBe(true);
  await b.serving.settled();
  for (let i = 0; i < 50; i++) expect(b.serving.label(MODEL, `s${i}`, 1_000, 10)).toBe(true);
  // a label is joined once
  expect(b.serving.label(MODEL, "s0", 1_000, 10)).toBe(false);
  expect(seen).toHaveLength(50);
  for (const values of seen) expect([...values.keys()].sort()).toEqual(["1", "2"]);
  expect(b.serving.statsOf(MODEL).get("2")!.shadowRows).toBe(50);
  expect(b.serving.liveOf(MODEL, "2")!.outcomes).toBe(50);
});

test("canary: the share of keys the policy names goes to the canary, the same keys every time", async () => {
  await b.serving.deploy(
    MODEL,
    { kind: "canary", champion: "1", canary: "2", share: 0.25, steps: [0.25, 1] },
    { by: "test", reason: "canary" },
  );
  const request = {
    rows: Array.from({ length: 2000 }, (_, i) => ({ key: `sensor-${i}`, features: rows[i % rows.length]! })),
  };
  const first = await b.serving.predict(MODEL, request);
  const second = await b.serving.predict(MODEL, request);
  const share = first.predictions.filter((p) => p.version === "2").length / 2000;
  expect(Math.abs(share - 0.25)).toBeLessThan(0.04);
  expect(second.predictions.map((p) => p.version)).toEqual(first.predictions.map((p) => p.version));
});

test("A/B: per-arm live error feeds the sequential test, which decides, stops the experiment and serves the winner", async () => {
  await b.serving.deploy(
    MODEL,
    {
      kind: "ab",
      arms: [
        { version: "1", weight: 1 },
        { version: "3", weight: 1 },
      ],
      minSamples: 50,
      maxSamples: 5_000,
    },
    { by: "test", reason: "ab" },
  );
  // labels that version 3 predicts exactly and version 1 does not: 3 must win
  for (let round = 0; round < 40 && b.serving.policyOf(MODEL)?.kind === "ab"; round++) {
    const request = rows.map((features, i) => ({ key: `e${i}`, at: round, features }));
    const answer = await b.serving.predict(MODEL, { rows: request });
    const exact = b.serving.loadedModel(MODEL, "3")!.ensemble;
    answer.predictions.forEach((_p, i) => {
      b.serving.label(MODEL, `e${i}`, round, exact.predict(rows[i]!) + (i % 2 === 0 ? 0.01 : -0.01));
    });
    await b.system.drain();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const decided = b.events.find((e) => e.type === "ab-decided");
  expect(decided?.version).toBe("3");
  expect(b.serving.policyOf(MODEL)).toEqual({ kind: "single", version: "3" });
});

test.each([
  ["no body", undefined, "BAD_REQUEST"],
  ["an array body", [1, 2], "BAD_REQUEST"],
  ["both row and rows", { row: [1], rows: [[1]] }, "BAD_REQUEST"],
  ["an empty batch", { rows: [] }, "BAD_REQUEST"],
  ["too few features", { row: [1, 2, 3] }, "FEATURE_MISSING"],
  ["a string feature", { row: ["1", ...FORECAST_FEATURES.slice(1).map(() => 1)] }, "BAD_REQUEST"],
  ["a missing named feature", { row: { hour_sin: 1 } }, "FEATURE_MISSING"],
  [
    "an unknown named feature",
    { row: { ...Object.fromEntries(FORECAST_FEATURES.map((f) => [f, 1])), extra: 1 } },
    "BAD_REQUEST",
  ],
  [
    "an infinite named feature",
    {
      row: {
        ...Object.fromEntries(FORECAST_FEATURES.map((f) => [f, 1])),
        hour_sin: Number.POSITIVE_INFINITY,
      },
    },
    "BAD_REQUEST",
  ],
  [
    "a key that is not a string",
    { rows: [{ key: 5, features: FORECAST_FEATURES.map(() => 1) }] },
    "BAD_REQUEST",
  ],
  ["a huge batch", { rows: Array.from({ length: 10_001 }, () => [1]) }, "BAD_REQUEST"],
])("refuses %s with %s and scores nothing", async (_name, body, code) => {
  const before = b.serving.statsOf(MODEL).get("1")!.rows;
  let caught: string | undefined;
  try {
    await b.serving.predict(MODEL, body);
  } catch (error) {
    caught = (error as { code?: string }).code;
  }
  expect(caught).toBe(code);
  expect(b.serving.statsOf(MODEL).get("1")!.rows).toBe(before);
});

test("a null feature is a missing value: scored down the side the trees learned for missing values", async () => {
  const row = FORECAST_FEATURES.map((_, j) => (j === 3 ? null : 1));
  const answer = await b.serving.predict(MODEL, { row });
  const expected = b.serving
    .loadedModel(MODEL, "1")!
    .ensemble.predict(Float64Array.from(row, (v) => (v === null ? Number.NaN : v)));
  expect(answer.predictions[0]!.value).toBeCloseTo(expected, 12);
});

test("an unknown model is MODEL_NOT_FOUND", async () => {
  let caught: string | undefined;
  try {
    await b.serving.predict("absent", { row: [1] });
  } catch (error) {
    caught = (error as { code?: string }).code;
  }
  expect(caught).toBe("MODEL_NOT_FOUND");
});

test("data and prediction drift: recent inputs against the version's training reference, per feature", async () => {
  const reference = b.serving.loadedModel(MODEL, "1")!.reference;
  const sample = (shift: number) =>
    Array.from({ length: 500 }, (_, i) => ({
      key: `d${i}`,
      at: shift,
      features: FORECAST_FEATURES.map(
        (name, j) => reference[name]![(i * 4) % reference[name]!.length]! + (j === 3 ? shift : 0),
      ),
    }));
  expect(b.serving.driftOf(MODEL)?.features).toEqual([]);
  await b.serving.predict(MODEL, { rows: sample(0) });
  const calm = b.serving.driftOf(MODEL)!;
  // every feature the training set held values of (the district ones were all missing here),
  // but the clock's (hour, day): they differ from any training period by construction
  const measured = FORECAST_FEATURES.filter(
    (name) => !CLOCK_FEATURES.has(name) && reference[name]!.some((v) => Number.isFinite(v)),
  );
  expect(calm.features.map((f) => f.name)).toEqual(measured);
  expect(calm.features.filter((f) => f.drifted)).toEqual([]);
  // the next 2000 forecasts see vehicle_count_lag1 shifted far past anything in training
  for (let i = 0; i < 4; i++) await b.serving.predict(MODEL, { rows: sample(500) });
  const drifted = b.serving.driftOf(MODEL)!;
  expect(drifted.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(["vehicle_count_lag1"]);
  const lag = drifted.features.find((f) => f.name === "vehicle_count_lag1")!;
  expect(lag.wasserstein).toBeCloseTo(500, 0);
  expect(lag.psi).toBeGreaterThan(1);
  expect(lag.js).toBeGreaterThan(0.5);
  expect(drifted.prediction?.sampleSize).toBe(2000);
});
