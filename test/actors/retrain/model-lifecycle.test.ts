import { expect, test } from "bun:test";
import type { ModelEvent } from "../../../actors/model-shard/model-events.ts";
import { ModelLifecycle } from "../../../actors/retrain/model-lifecycle.ts";
import { POLICY_TAG } from "../../../actors/retrain/retrain-coordinator.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";

/**
 * An operator's commands on a model: each policy change is deployed, then kept as the model's
 * tag; promote and roll back move the champion alias with who and why; what cannot be done is a
 * clear error with its code.
 */
function bench(
  start: { champion?: string; history?: { from: string; to: string }[]; policy?: unknown } = {},
) {
  const deployed: unknown[] = [];
  const tags: Record<string, string> = {};
  const aliases: { to: string; by: string; reason: string; expected: string | null }[] = [];
  const events: ModelEvent[] = [];
  let champion = start.champion;
  let policy = start.policy;
  const lifecycle = new ModelLifecycle({
    serving: {
      policyOf: () => policy,
      deploy: async (_name: string, next: unknown) => {
        deployed.push(next);
        policy = next;
      },
    } as never,
    registry: {
      versionByAlias: async () => (champion ? { version: champion } : undefined),
      setAlias: async (
        _n: string,
        _a: string,
        to: string,
        how: { by: string; reason: string; expected: string | null },
      ) => {
        aliases.push({ to, ...how });
        champion = to;
      },
      transitions: async () => (start.history ?? []).map((t) => ({ alias: "champion", ...t })),
      setModelTag: async (_n: string, key: string, value: string) => {
        tags[key] = value;
      },
    } as never,
    loopOf: () =>
      ({ stageOf: (name: string) => (name === "looped" ? "idle" : undefined), trigger: () => true }) as never,
    events: () => events,
    onEvent: (event) => events.push(event),
    now: () => 7,
  });
  return { lifecycle, deployed, tags, aliases, events };
}

test("promote moves the champion alias, serves the version alone and keeps that policy", async () => {
  const b = bench({ champion: "1" });
  expect(await b.lifecycle.promote("m", "2", "ops", "better")).toEqual({
    model: "m",
    champion: "2",
    previous: "1",
  });
  expect(b.aliases).toEqual([{ to: "2", by: "ops", reason: "better", expected: "1" }]);
  expect(b.deployed).toEqual([{ kind: "single", version: "2" }]);
  expect(JSON.parse(b.tags[POLICY_TAG]!)).toEqual({ kind: "single", version: "2" });
  expect(b.events.map((e) => [e.type, e.version, e.previous, e.at])).toEqual([["promoted", "2", "1", 7]]);
});

test("rollback returns to the champion before the current one", async () => {
  const b = bench({
    champion: "3",
    history: [
      { from: "1", to: "2" },
      { from: "2", to: "3" },
    ],
  });
  expect(await b.lifecycle.rollback("m", "ops", "worse")).toEqual({
    model: "m",
    champion: "2",
    previous: "3",
  });
  expect(b.deployed).toEqual([{ kind: "single", version: "2" }]);
  expect(b.events.map((e) => e.type)).toEqual(["rolled-back"]);
});

test.each<[string, (l: ModelLifecycle) => unknown, string]>([
  [
    "a canary step on a model not in a canary",
    (l) => l.stepCanary("m", "ops"),
    ErrorCodes.ROUTING_POLICY_INVALID,
  ],
  ["a rollback with no earlier champion", (l) => l.rollback("m", "ops", "why"), ErrorCodes.MODEL_NOT_FOUND],
  ["a retrain of a model with no loop", (l) => l.retrain("m", "ops", "why"), ErrorCodes.MODEL_NOT_FOUND],
  [
    "a policy that is not one",
    (l) => l.setPolicy("m", { kind: "nonsense" }, "ops"),
    ErrorCodes.ROUTING_POLICY_INVALID,
  ],
])("%s is refused with its code", async (_name, command, code) => {
  const b = bench({ champion: "1", policy: { kind: "single", version: "1" } });
  let error: unknown;
  try {
    await command(b.lifecycle);
  } catch (e) {
    error = e;
  }
  expect(isPlatformError(error, code as never)).toBe(true);
  expect(b.deployed).toEqual([]);
});

test("a retrain reaches the model's own loop", () => {
  expect(bench().lifecycle.retrain("looped", "ops", "why")).toEqual({ started: true });
});
