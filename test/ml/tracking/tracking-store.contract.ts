import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ErrorCodes } from "../../../messages/errors.ts";
import { ensureExperiment, PARENT_RUN_TAG, type TrackingStore } from "../../../ml/tracking/tracking-store.ts";

/**
 * One contract for every TrackingStore: the embedded store and a real MLflow tracking server
 * answer the same calls the same way. Each suite works in its own experiment, so runs against a
 * long-lived MLflow server never see each other.
 */
export function trackingStoreContract(label: string, open: () => Promise<TrackingStore>): void {
  describe(`TrackingStore contract: ${label}`, () => {
    let store: TrackingStore;
    let experimentId: string;
    const experimentName = `contract-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;

    beforeAll(async () => {
      store = await open();
      experimentId = (await ensureExperiment(store, experimentName)).id;
    });
    afterAll(async () => {
      await store.close();
    });

    test("an experiment is found by its name and a second one of the same name is refused", async () => {
      const found = await store.experimentByName(experimentName);
      expect(found?.id).toBe(experimentId);
      expect(await store.experimentByName(`${experimentName}-absent`)).toBeUndefined();
      await expectCode(store.createExperiment(experimentName), ErrorCodes.TRACKING_INVALID);
      expect((await ensureExperiment(store, experimentName)).id).toBe(experimentId);
    });

    test("a run keeps its parameters, tags, status and every metric point by step", async () => {
      const run = await store.createRun({
        experimentId,
        name: "gbt-train",
        tags: { model: "traffic" },
        startTime: 1_000,
      });
      expect(run.status).toBe("RUNNING");
      expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
      await store.logParams(run.runId, {
        nTrees: 100,
        learningRate: 0.1,
        kind: "gradient-boosting",
        early: false,
      });
      await store.logMetrics(run.runId, [
        { key: "train_rmse", value: 3, step: 0, timestamp: 2_000 },
        { key: "train_rmse", value: 2, step: 1, timestamp: 2_001 },
        { key: "train_rmse", value: 1.5, step: 2, timestamp: 2_002 },
        { key: "holdout_rmse", value: 1.75, step: 0, timestamp: 2_003 },
      ]);
      await store.setTags(run.runId, {
        "training_set.table": "gold_traffic_training",
        "training_set.version": "7",
      });
      await store.endRun(run.runId, "FINISHED", 3_000);

      const read = await store.getRun(run.runId);
      expect(read.info).toMatchObject({
        experimentId,
        name: "gbt-train",
        status: "FINISHED",
        startTime: 1_000,
        endTime: 3_000,
      });
      expect(read.info.parentRunId).toBeUndefined();
      expect(read.params).toEqual({
        nTrees: "100",
        learningRate: "0.1",
        kind: "gradient-boosting",
        early: "false",
      });
      expect(read.tags).toMatchObject({
        model: "traffic",
        "training_set.table": "gold_traffic_training",
        "training_set.version": "7",
      });
      expect(read.metrics.train_rmse).toEqual({ key: "train_rmse", value: 1.5, step: 2, timestamp: 2_002 });
      expect(read.metrics.holdout_rmse?.value).toBe(1.75);
      const history = await store.metricHistory(run.runId, "train_rmse");
      expect(history.map((p) => [p.step, p.value])).toEqual([
        [0, 3],
        [1, 2],
        [2, 1.5],
      ]);
    });

    test("a parameter is written once: the same value again is fine, another value is refused", async () => {
      const run = await store.createRun({ experimentId, name: "params-once" });
      await store.logParams(run.runId, { maxDepth: 6 });
      await store.logParams(run.runId, { maxDepth: "6" });
      await expectCode(store.logParams(run.runId, { maxDepth: 7 }), ErrorCodes.TRACKING_INVALID);
      expect((await store.getRun(run.runId)).params.maxDepth).toBe("6");
    });

    test("nested runs: tuning trials are found under their parent", async () => {
      const parent = await store.createRun({ experimentId, name: "tuning" });
      const trials = [];
      for (let i = 0; i < 3; i++) {
        trials.push(
          await store.createRun({
            experimentId,
            name: `trial-${i}`,
            parentRunId: parent.runId,
            startTime: 10_000 + i,
          }),
        );
      }
      const children = await store.searchRuns(experimentId, { parentRunId: parent.runId });
      expect(children.map((run) => run.info.name)).toEqual(["trial-2", "trial-1", "trial-0"]);
      for (const child of children) {
        expect(child.info.parentRunId).toBe(parent.runId);
        expect(child.tags[PARENT_RUN_TAG]).toBe(parent.runId);
      }
      const all = await store.searchRuns(experimentId);
      expect(all.map((run) => run.info.runId)).toEqual(
        expect.arrayContaining([parent.runId, ...trials.map((t) => t.runId)]),
      );
      await expectCode(
        store.createRun({ experimentId, name: "orphan", parentRunId: "0".repeat(32) }),
        ErrorCodes.TRACKING_NOT_FOUND,
      );
    });

    test("artifacts round-trip byte for byte, nested paths are listed, a missing one is not found", async () => {
      const run = await store.createRun({ experimentId, name: "artifacts" });
      const model = new TextEncoder().encode(JSON.stringify({ kind: "gradient-boosting", trees: [1, 2, 3] }));
      const binary = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) % 256);
      await store.logArtifact(run.runId, "model/model.json", model);
      await store.logArtifact(run.runId, "feature_importance.json", binary);
      expect(await store.readArtifact(run.runId, "model/model.json")).toEqual(model);
      expect(await store.readArtifact(run.runId, "feature_importance.json")).toEqual(binary);
      expect(await store.listArtifacts(run.runId)).toEqual([
        { path: "feature_importance.json", size: binary.length },
        { path: "model/model.json", size: model.length },
      ]);
      await expectCode(store.readArtifact(run.runId, "model/absent.json"), ErrorCodes.TRACKING_NOT_FOUND);
    });

    test.each([
      [
        "an absolute artifact path",
        (s: TrackingStore, id: string) => s.logArtifact(id, "/etc/passwd", new Uint8Array(1)),
      ],
      [
        "a path that climbs out of the run",
        (s: TrackingStore, id: string) => s.logArtifact(id, "../../x", new Uint8Array(1)),
      ],
      ["a reading path that climbs out", (s: TrackingStore, id: string) => s.readArtifact(id, "a/../../b")],
      [
        "a NaN metric",
        (s: TrackingStore, id: string) =>
          s.logMetrics(id, [{ key: "loss", value: Number.NaN, step: 0, timestamp: 1 }]),
      ],
      [
        "a negative step",
        (s: TrackingStore, id: string) =>
          s.logMetrics(id, [{ key: "loss", value: 1, step: -1, timestamp: 1 }]),
      ],
      [
        "a metric key with a quote",
        (s: TrackingStore, id: string) => s.logMetrics(id, [{ key: "a'b", value: 1, step: 0, timestamp: 1 }]),
      ],
      [
        "an oversized parameter",
        (s: TrackingStore, id: string) => s.logParams(id, { big: "x".repeat(7000) }),
      ],
      [
        "too many metric points in one call",
        (s: TrackingStore, id: string) =>
          s.logMetrics(
            id,
            Array.from({ length: 1001 }, (_, i) => ({ key: "m", value: i, step: i, timestamp: 1 })),
          ),
      ],
    ])("refuses %s as TRACKING_INVALID", async (_name, call) => {
      const run = await store.createRun({ experimentId, name: "hostile" });
      await expectCode(call(store, run.runId), ErrorCodes.TRACKING_INVALID);
    });

    test("an unknown run is TRACKING_NOT_FOUND, whatever its id looks like", async () => {
      for (const id of ["0".repeat(32), "not-a-run", "'; DROP TABLE runs; --"]) {
        await expectCode(store.getRun(id), ErrorCodes.TRACKING_NOT_FOUND);
      }
    });
  });
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as { code?: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, the call succeeded`);
}
