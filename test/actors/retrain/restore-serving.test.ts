import { expect, test } from "bun:test";
import { restoreServing } from "../../../actors/retrain/restore-serving.ts";
import { POLICY_TAG } from "../../../actors/retrain/retrain-coordinator.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";

/** A restarted node serves what it served: the kept policy, else the champion, else nothing. */
type Kept = { aliases: Record<string, string>; tags: Record<string, string> } | "unknown";

async function restore(kept: Kept, deployable: (policy: unknown) => boolean = () => true) {
  const deployed: unknown[] = [];
  await restoreServing(
    {
      deploy: async (_name, policy) => {
        if (!deployable(policy)) throw new PlatformError(ErrorCodes.ROUTING_POLICY_INVALID, "version gone");
        deployed.push(policy);
      },
    },
    {
      getModel: async (name) => {
        if (kept === "unknown") throw new PlatformError(ErrorCodes.MODEL_NOT_FOUND, `no ${name}`);
        return { name, aliases: kept.aliases, tags: kept.tags } as never;
      },
    },
    "m",
  );
  return deployed;
}

const canary = { kind: "canary", champion: "1", candidate: "2", share: 0.1 };

test.each<[string, Kept, readonly unknown[]]>([
  ["a model the registry does not know serves nothing", "unknown", []],
  ["a model with no champion and no kept policy serves nothing", { aliases: {}, tags: {} }, []],
  [
    "the champion alone when no policy was kept",
    { aliases: { champion: "4" }, tags: {} },
    [{ kind: "single", version: "4" }],
  ],
  [
    "the kept policy before the champion",
    { aliases: { champion: "1" }, tags: { [POLICY_TAG]: JSON.stringify(canary) } },
    [canary],
  ],
  [
    "a kept policy that is not JSON falls back to the champion",
    { aliases: { champion: "1" }, tags: { [POLICY_TAG]: "{not json" } },
    [{ kind: "single", version: "1" }],
  ],
])("%s", async (_name, kept, expected) => {
  expect(await restore(kept)).toEqual([...expected]);
});

test("a kept policy whose versions are gone falls back to the champion", async () => {
  const kept = { aliases: { champion: "1" }, tags: { [POLICY_TAG]: JSON.stringify(canary) } };
  expect(await restore(kept, (p) => (p as { kind: string }).kind === "single")).toEqual([
    { kind: "single", version: "1" },
  ]);
});

test("a registry that fails otherwise fails the restore", async () => {
  await expect(
    restoreServing(
      { deploy: async () => {} },
      {
        getModel: async () => {
          throw new PlatformError(ErrorCodes.TRACKING_UNAVAILABLE, "down");
        },
      },
      "m",
    ),
  ).rejects.toThrow(/down/);
});
