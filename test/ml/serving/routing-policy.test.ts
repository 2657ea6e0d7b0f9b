import { describe, expect, test } from "bun:test";
import { ErrorCodes } from "../../../messages/errors.ts";
import {
  keyPosition,
  nextCanaryStep,
  parseRoutingPolicy,
  type RoutingPolicy,
  route,
  versionsOf,
} from "../../../ml/serving/routing-policy.ts";

const KEYS = Array.from({ length: 20_000 }, (_, i) => `traffic_${i}`);

function shareTo(policy: RoutingPolicy, version: string): number {
  return KEYS.filter((key) => route("traffic", policy, key).serve === version).length / KEYS.length;
}

describe("routing policies", () => {
  test.each([
    ["single serves one version", { kind: "single", version: "3" }, { "3": 1 }],
    ["shadow serves only the champion", { kind: "shadow", champion: "3", shadow: "4" }, { "3": 1, "4": 0 }],
    [
      "canary at 0 serves only the champion",
      { kind: "canary", champion: "3", canary: "4", share: 0 },
      { "3": 1, "4": 0 },
    ],
    [
      "canary at 1 serves only the canary",
      { kind: "canary", champion: "3", canary: "4", share: 1 },
      { "3": 0, "4": 1 },
    ],
    [
      "canary at 10% sends about a tenth of keys",
      { kind: "canary", champion: "3", canary: "4", share: 0.1 },
      { "3": 0.9, "4": 0.1 },
    ],
    [
      "A/B splits by weight",
      {
        kind: "ab",
        arms: [
          { version: "3", weight: 1 },
          { version: "4", weight: 1 },
        ],
      },
      { "3": 0.5, "4": 0.5 },
    ],
    [
      "A/B with three arms 2:1:1",
      {
        kind: "ab",
        arms: [
          { version: "3", weight: 2 },
          { version: "4", weight: 1 },
          { version: "5", weight: 1 },
        ],
      },
      { "3": 0.5, "4": 0.25, "5": 0.25 },
    ],
  ] as const)("%s", (_name, input, shares) => {
    const policy = parseRoutingPolicy(input);
    for (const [version, share] of Object.entries(shares)) {
      expect(Math.abs(shareTo(policy, version) - share)).toBeLessThan(0.015);
    }
  });

  test("the shadow scores every request and is never served", () => {
    const policy = parseRoutingPolicy({ kind: "shadow", champion: "1", shadow: "2" });
    for (const key of KEYS.slice(0, 100))
      expect(route("traffic", policy, key)).toEqual({ serve: "1", shadow: ["2"], arm: "1" });
  });

  test("stepping a canary up only adds keys: a key that saw the canary keeps seeing it", () => {
    let policy = parseRoutingPolicy({ kind: "canary", champion: "1", canary: "2", share: 0.05 });
    let before = new Set(KEYS.filter((key) => route("traffic", policy, key).serve === "2"));
    const shares = [policy.kind === "canary" ? policy.share : -1];
    for (let next = nextCanaryStep(policy as RoutingPolicy & { kind: "canary" }); next; ) {
      policy = next;
      const now = new Set(KEYS.filter((key) => route("traffic", policy, key).serve === "2"));
      for (const key of before) expect(now.has(key)).toBe(true);
      before = now;
      shares.push(policy.kind === "canary" ? policy.share : -1);
      next = policy.kind === "canary" ? nextCanaryStep(policy) : undefined;
    }
    expect(shares).toEqual([0.05, 0.25, 0.5, 1]);
  });

  test("an A/B entity is sticky: the same key always gets the same arm", () => {
    const policy = parseRoutingPolicy({
      kind: "ab",
      arms: [
        { version: "1", weight: 1 },
        { version: "2", weight: 1 },
      ],
    });
    for (const key of KEYS.slice(0, 500)) {
      const first = route("traffic", policy, key).serve;
      for (let i = 0; i < 3; i++) expect(route("traffic", policy, key).serve).toBe(first);
    }
  });

  test("two models' canaries take different keys (the hash is salted by model)", () => {
    const same =
      KEYS.filter((key) => keyPosition("a", key) < 0.1 && keyPosition("b", key) < 0.1).length / KEYS.length;
    expect(same).toBeLessThan(0.02);
  });

  test.each([
    ["an unknown kind", { kind: "blue-green", version: "1" }],
    ["a share above 1", { kind: "canary", champion: "1", canary: "2", share: 1.5 }],
    ["a NaN share", { kind: "canary", champion: "1", canary: "2", share: Number.NaN }],
    ["a canary equal to the champion", { kind: "canary", champion: "1", canary: "1", share: 0.1 }],
    ["steps that go down", { kind: "canary", champion: "1", canary: "2", share: 0.1, steps: [0.5, 0.1] }],
    ["a version that is not a number", { kind: "single", version: "../../etc" }],
    ["one A/B arm", { kind: "ab", arms: [{ version: "1", weight: 1 }] }],
    [
      "two A/B arms on one version",
      {
        kind: "ab",
        arms: [
          { version: "1", weight: 1 },
          { version: "1", weight: 1 },
        ],
      },
    ],
    [
      "a zero weight",
      {
        kind: "ab",
        arms: [
          { version: "1", weight: 0 },
          { version: "2", weight: 1 },
        ],
      },
    ],
    ["an unknown field", { kind: "single", version: "1", extra: true }],
    ["a shadow equal to the champion", { kind: "shadow", champion: "1", shadow: "1" }],
    ["not an object", "canary"],
  ])("refuses %s as ROUTING_POLICY_INVALID", (_name, input) => {
    let code: string | undefined;
    try {
      parseRoutingPolicy(input);
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe(ErrorCodes.ROUTING_POLICY_INVALID);
  });

  test("versionsOf lists what must be loaded", () => {
    expect(versionsOf(parseRoutingPolicy({ kind: "shadow", champion: "1", shadow: "2" }))).toEqual([
      "1",
      "2",
    ]);
    expect(versionsOf(parseRoutingPolicy({ kind: "single", version: "7" }))).toEqual(["7"]);
  });
});
