import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ErrorCodes } from "../../../messages/errors.ts";
import { CHALLENGER, CHAMPION, type ModelRegistry } from "../../../ml/registry/model-registry.ts";

/**
 * One contract for every ModelRegistry: embedded and MLflow's Model Registry. `runIds` hands out
 * run ids the versions point at (real runs of the same backend's tracking store).
 */
export function modelRegistryContract(
  label: string,
  open: () => Promise<ModelRegistry>,
  runId: () => Promise<string>,
): void {
  describe(`ModelRegistry contract: ${label}`, () => {
    let registry: ModelRegistry;
    const suffix = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    const name = `traffic-${suffix}`;
    const by = { by: "contract-test", reason: "first training" };

    beforeAll(async () => {
      registry = await open();
      await registry.createModel(name, {
        description: "next-window congestion",
        tags: { domain: "traffic" },
      });
    });
    afterAll(async () => {
      await registry.close();
    });

    test("a registered model is found by name with its tags, and its name cannot be taken twice", async () => {
      const model = await registry.getModel(name);
      expect(model).toMatchObject({ name, description: "next-window congestion", aliases: {} });
      expect(model.tags.domain).toBe("traffic");
      expect((await registry.listModels()).map((m) => m.name)).toContain(name);
      await expectCode(registry.createModel(name), ErrorCodes.MODEL_REGISTRY_CONFLICT);
      await expectCode(registry.getModel(`${name}-absent`), ErrorCodes.MODEL_NOT_FOUND);
    });

    test("a model tag is set and replaced", async () => {
      await registry.setModelTag(name, "platform.routing-policy", '{"kind":"single","version":"1"}');
      await registry.setModelTag(name, "platform.routing-policy", '{"kind":"single","version":"2"}');
      expect((await registry.getModel(name)).tags["platform.routing-policy"]).toBe(
        '{"kind":"single","version":"2"}',
      );
    });

    test("versions are numbered from 1, point at their run and keep their tags", async () => {
      const run = await runId();
      const first = await registry.createVersion(name, {
        runId: run,
        source: `runs:/${run}/model`,
        tags: { holdout_rmse: "1.5" },
      });
      const second = await registry.createVersion(name, { runId: run, source: `runs:/${run}/model` });
      expect(first).toMatchObject({ name, version: "1", runId: run, source: `runs:/${run}/model` });
      expect(first.tags.holdout_rmse).toBe("1.5");
      expect(second.version).toBe("2");
      await registry.setVersionTag(name, "2", "validation", "passed");
      expect((await registry.getVersion(name, "2")).tags.validation).toBe("passed");
      expect((await registry.listVersions(name)).map((v) => v.version)).toEqual(["1", "2"]);
      await expectCode(registry.getVersion(name, "99"), ErrorCodes.MODEL_NOT_FOUND);
      await expectCode(registry.getVersion(name, "../1"), ErrorCodes.MODEL_NOT_FOUND);
    });

    test("aliases name one version each, and every change is a transition with who and why", async () => {
      expect(await registry.versionByAlias(name, CHAMPION)).toBeUndefined();
      await registry.setAlias(name, CHAMPION, "1", by);
      await registry.setAlias(name, CHALLENGER, "2", {
        by: "retrain",
        reason: "drift on vehicle_count_mean",
      });
      expect((await registry.versionByAlias(name, CHAMPION))?.version).toBe("1");
      await registry.setAlias(name, CHAMPION, "2", {
        by: "promoter",
        reason: "challenger not worse",
        expected: "1",
      });
      await registry.deleteAlias(name, CHALLENGER, { by: "promoter", reason: "promoted" });
      expect((await registry.getModel(name)).aliases).toEqual({ [CHAMPION]: "2" });
      const history = await registry.transitions(name);
      expect(history.map((t) => [t.seq, t.alias, t.from, t.to, t.by])).toEqual([
        [1, CHAMPION, undefined, "1", "contract-test"],
        [2, CHALLENGER, undefined, "2", "retrain"],
        [3, CHAMPION, "1", "2", "promoter"],
        [4, CHALLENGER, "2", undefined, "promoter"],
      ]);
      expect(history[2]!.reason).toBe("challenger not worse");
    });

    test("a promotion that expected another champion is refused and changes nothing", async () => {
      await expectCode(
        registry.setAlias(name, CHAMPION, "1", { by: "late-promoter", reason: "stale view", expected: "1" }),
        ErrorCodes.MODEL_REGISTRY_CONFLICT,
      );
      expect((await registry.versionByAlias(name, CHAMPION))?.version).toBe("2");
      expect((await registry.transitions(name)).length).toBe(4);
    });

    test.each([
      [
        "an alias that looks like a version",
        () => registry.setAlias(name, "v3", "1", by),
        ErrorCodes.TRACKING_INVALID,
      ],
      [
        "the reserved alias latest",
        () => registry.setAlias(name, "latest", "1", by),
        ErrorCodes.TRACKING_INVALID,
      ],
      [
        "a transition without a reason",
        () => registry.setAlias(name, CHAMPION, "1", { by: "x", reason: " " }),
        ErrorCodes.TRACKING_INVALID,
      ],
      [
        "an alias on a version that does not exist",
        () => registry.setAlias(name, CHAMPION, "42", by),
        ErrorCodes.MODEL_NOT_FOUND,
      ],
      [
        "removing an alias that is not set",
        () => registry.deleteAlias(name, "shadow", by),
        ErrorCodes.MODEL_NOT_FOUND,
      ],
      ["a model name with a slash", () => registry.getModel("a/b"), ErrorCodes.TRACKING_INVALID],
    ])("refuses %s", async (_case, call, code) => {
      await expectCode(call(), code);
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
