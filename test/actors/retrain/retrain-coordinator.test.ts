import { afterEach, expect, test } from "bun:test";
import { RetrainCoordinator } from "../../../actors/retrain/retrain-coordinator.ts";
import { DEFAULT_RETRAIN_POLICY, type RetrainPolicy } from "../../../actors/retrain/retrain-policy.ts";
import { loadModelVersion } from "../../../ml/lifecycle/model-artifacts.ts";
import { CHALLENGER, CHAMPION } from "../../../ml/registry/model-registry.ts";
import {
  historyBySensor,
  type LifecycleBench,
  lifecycleBench,
  nextRow,
} from "../../../testkit/model-lifecycle.ts";
import { trafficWindowHistory } from "../../../testkit/traffic-windows.ts";

const MODEL = "traffic-forecast";
const SENSORS = 6;
const BEFORE = 1_500;
const WINDOW_MS = 15 * 60_000;
const START = Date.UTC(2026, 0, 5);

const POLICY: RetrainPolicy = {
  ...DEFAULT_RETRAIN_POLICY,
  experiment: "traffic-forecast",
  learner: { kind: "gradient-boosting", params: { nTrees: 80, maxDepth: 5, maxBins: 64, learningRate: 0.1 } },
  comparison: { margin: 0.02, minOutcomes: 150, maxOutcomes: 3_000 },
  probationOutcomes: 200,
};

let bench: LifecycleBench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

/**
 * Plays windows `from`..`to` (per-sensor index) in time order: each sensor's next window is
 * predicted through the serving layer (key = sensor, at = window start), then its label arrives
 * and the window joins the training source. Between windows the loop's pending steps finish, so
 * the test sees the same sequence on a slow machine.
 */
async function play(
  b: LifecycleBench,
  coordinator: RetrainCoordinator,
  all: ReturnType<typeof trafficWindowHistory>,
  from: number,
  to: number,
) {
  const byIndex = new Map<number, typeof all>();
  for (const row of all) {
    const index = (row.windowStart - START) / WINDOW_MS;
    if (index < from || index >= to) continue;
    const list = byIndex.get(index);
    if (list) list.push(row);
    else byIndex.set(index, [row]);
  }
  let failed = 0;
  for (let index = from; index < to; index++) {
    const rows = byIndex.get(index) ?? [];
    const history = historyBySensor(b.windows);
    const request = rows.map((row) => ({
      key: row.key,
      at: row.windowStart,
      features: nextRow(history.get(row.key)!),
    }));
    try {
      await b.serving.predict(MODEL, { rows: request });
    } catch (error) {
      failed++;
      throw error;
    }
    await b.serving.settled();
    for (const row of rows) {
      b.serving.label(MODEL, row.key, row.windowStart, row.vehicleCountMean);
      b.windows.push(row);
    }
    await coordinator.settled();
  }
  return { failed };
}

function setup(b: LifecycleBench): RetrainCoordinator {
  const coordinator = new RetrainCoordinator({
    serving: b.serving,
    registry: b.registry,
    tracking: b.tracking,
    source: b.source,
    now: Date.now,
    onEvent: (event) => b.events.push(event),
  });
  coordinator.manage(MODEL, POLICY);
  return coordinator;
}

test("drift injected: the error drifts, a challenger is trained and shadowed, promoted when not worse, and the feed shows every step", async () => {
  const b = lifecycleBench();
  bench = b;
  const coordinator = setup(b);
  const after = 700;
  const all = trafficWindowHistory({
    sensors: SENSORS,
    windows: BEFORE + after,
    start: START,
    drift: { from: START + BEFORE * WINDOW_MS, scale: 1.8, peakShiftHours: -3 },
  });
  b.windows.push(...all.filter((row) => row.windowStart < START + BEFORE * WINDOW_MS));
  expect(coordinator.trigger(MODEL, "first training", "operator")).toBe(true);
  await coordinator.settled();
  expect((await b.registry.versionByAlias(MODEL, CHAMPION))?.version).toBe("1");

  const { failed } = await play(b, coordinator, all, BEFORE, BEFORE + after);
  expect(failed).toBe(0);
  const steps = b.events.filter(
    (e) => e.type !== "error-drift" && e.type !== "policy-changed" && e.type !== "deployed",
  );
  const sequence = steps.map((e) => `${e.type}${e.version ? `:${e.version}` : ""}`);
  expect(sequence.slice(0, 3)).toEqual(["retrain-triggered", "registered:1", "promoted:1"]);
  expect(sequence.slice(3, 7)).toEqual([
    "retrain-triggered",
    "registered:2",
    "shadow-started:2",
    "promoted:2",
  ]);
  if (process.env.DEBUG_LOOP) for (const e of b.events) console.log(e.type, e.version ?? "", e.by, e.reason);
  expect(steps[3]!.by).toBe("monitor");
  // the loop keeps going while the drift settles: the champion is the last version it promoted
  const promoted = b.events.filter((e) => e.type === "promoted").map((e) => e.version);
  const rolledBack = b.events.filter((e) => e.type === "rolled-back").map((e) => e.version);
  const champion = (await b.registry.versionByAlias(MODEL, CHAMPION))!.version;
  expect(champion).toBe(
    rolledBack.length > 0 && b.events.at(-1)?.type === "rolled-back" ? rolledBack.at(-1)! : promoted.at(-1)!,
  );
  expect(Number(champion)).toBeGreaterThan(1);
  const transitions = await b.registry.transitions(MODEL);
  expect(transitions.slice(0, 4).map((t) => [t.alias, t.from, t.to])).toEqual([
    [CHAMPION, undefined, "1"],
    [CHALLENGER, undefined, "2"],
    [CHAMPION, "1", "2"],
    [CHALLENGER, "2", undefined],
  ]);
  expect(transitions.every((t) => t.by.length > 0 && t.reason.length > 0)).toBe(true);

  // the loop closed: on the last drifted windows the serving champion errs less than the start-up version
  const last = all.filter((row) => row.windowStart >= START + (BEFORE + after - 100) * WINDOW_MS);
  const history = historyBySensor(all);
  const maeOf = (version: string) => {
    const model = b.serving.loadedModel(MODEL, version)?.ensemble;
    if (!model) throw new Error(`version ${version} is not loaded`);
    let sum = 0;
    for (const row of last) {
      const list = history.get(row.key)!;
      const index = list.indexOf(row);
      sum += Math.abs(model.predict(nextRow(list.slice(0, index))) - row.vehicleCountMean);
    }
    return sum / last.length;
  };
  const first = await loadModelVersion(b.tracking, b.registry, MODEL, "1");
  let firstSum = 0;
  for (const row of last) {
    const list = history.get(row.key)!;
    firstSum += Math.abs(
      first.ensemble.predict(nextRow(list.slice(0, list.indexOf(row)))) - row.vehicleCountMean,
    );
  }
  expect(maeOf(champion)).toBeLessThan(firstSum / last.length);
  expect(b.serving.policyOf(MODEL)?.kind).toMatch(/single|shadow/);
  // the restarted node's view: the policy is kept with the model
  expect(JSON.parse((await b.registry.getModel(MODEL)).tags["platform.routing-policy"]!)).toEqual(
    b.serving.policyOf(MODEL),
  );
}, 240_000);

test("a worse challenger is rolled back: the champion keeps serving and the challenger is marked rejected", async () => {
  const b = lifecycleBench();
  bench = b;
  const coordinator = setup(b);
  const all = trafficWindowHistory({ sensors: SENSORS, windows: BEFORE + 400, start: START, seed: 5 });
  b.windows.push(...all.filter((row) => row.windowStart < START + BEFORE * WINDOW_MS));
  coordinator.trigger(MODEL, "first training", "operator");
  await coordinator.settled();
  // the next training set is broken: its labels are shuffled, so its model learns nothing useful
  b.source.override = (set) => {
    const labels = Float64Array.from(set.labels);
    for (let i = labels.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [labels[i], labels[j]] = [labels[j]!, labels[i]!];
    }
    return { ...set, labels };
  };
  expect(coordinator.trigger(MODEL, "operator asked", "operator")).toBe(true);
  expect(coordinator.trigger(MODEL, "a second trigger while one is in flight", "operator")).toBe(false);
  await coordinator.settled();
  expect(coordinator.stageOf(MODEL)).toBe("shadow");
  await play(b, coordinator, all, BEFORE, BEFORE + 400);
  const types = b.events.map((e) => e.type);
  expect(types).toContain("retrain-skipped");
  expect(types).toContain("rolled-back");
  expect(b.events.filter((e) => e.type === "promoted").map((e) => e.version)).toEqual(["1"]);
  // after the rollback the loop rests instead of retraining on every outcome
  expect(types.filter((t) => t === "rolled-back").length).toBe(1);
  expect((await b.registry.versionByAlias(MODEL, CHAMPION))?.version).toBe("1");
  expect((await b.registry.getVersion(MODEL, "2")).tags["platform.rejected"]).toMatch(/worse/);
  expect(b.serving.policyOf(MODEL)).toEqual({ kind: "single", version: "1" });
}, 240_000);

test("a restarted node's loop resumes the shadow it was running: the kept policy is judged again instead of served for ever", async () => {
  const b = lifecycleBench();
  bench = b;
  const before = setup(b);
  b.windows.push(...trafficWindowHistory({ sensors: SENSORS, windows: BEFORE, start: START }));
  expect(before.trigger(MODEL, "first training", "operator")).toBe(true);
  await before.settled();
  expect(before.trigger(MODEL, "a second opinion", "operator")).toBe(true);
  await before.settled();
  expect(before.stageOf(MODEL)).toBe("shadow");
  expect(b.serving.policyOf(MODEL)).toEqual({ kind: "shadow", champion: "1", shadow: "2" });

  // the restart: a new loop over the same registry, with the kept policy deployed
  const after = setup(b);
  expect(after.stageOf(MODEL)).toBe("idle");
  await after.resume(MODEL);
  expect(after.stageOf(MODEL)).toBe("shadow");
  const resumed = b.events.filter((e) => e.type === "shadow-started").at(-1);
  expect(resumed?.version).toBe("2");
  expect(resumed?.reason).toContain("resumed after a restart");
  // a trigger now is refused: the resumed comparison is the retrain in flight
  expect(after.trigger(MODEL, "again", "operator")).toBe(false);
}, 120_000);

test("a restarted loop whose model serves one version stays idle", async () => {
  const b = lifecycleBench();
  bench = b;
  const before = setup(b);
  b.windows.push(...trafficWindowHistory({ sensors: SENSORS, windows: BEFORE, start: START }));
  before.trigger(MODEL, "first training", "operator");
  await before.settled();
  const after = setup(b);
  await after.resume(MODEL);
  expect(after.stageOf(MODEL)).toBe("idle");
}, 120_000);
