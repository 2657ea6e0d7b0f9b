import { describe, expect, test } from "bun:test";
import { Silences } from "../../alerting/silences.ts";
import type { LabelMatcher, Silence } from "../../messages/alert.ts";
import { isPlatformError } from "../../messages/errors.ts";

const m = (name: string, value: string, isRegex = false, isEqual = true): LabelMatcher => ({
  name,
  value,
  isRegex,
  isEqual,
});
const input = (overrides: Partial<Parameters<Silences["create"]>[0]> = {}) => ({
  matchers: [m("alertname", "disk-low")],
  startsAt: 1000,
  endsAt: 10_000,
  createdBy: "ops@city",
  comment: "disk swap tonight",
  ...overrides,
});

describe("silences", () => {
  test("a silence is pending before its start, active until its end, then expired", () => {
    const silences = new Silences();
    silences.create(input(), 0);
    const labels = { alertname: "disk-low", node: "n1" };
    expect(silences.list(500)[0]?.state).toBe("pending");
    expect(silences.mutedBy(labels, 500)).toEqual([]);
    expect(silences.mutedBy(labels, 1000)).toHaveLength(1);
    expect(silences.mutedBy({ alertname: "memory-high" }, 1000)).toEqual([]);
    expect(silences.list(10_000)[0]?.state).toBe("expired");
    expect(silences.mutedBy(labels, 10_000)).toEqual([]);
  });

  test("a start in the past means now, as in Alertmanager", () => {
    expect(new Silences().create(input({ startsAt: 0 }), 5000).startsAt).toBe(5000);
  });

  test("expiring a silence ends it now and keeps it listed", () => {
    const silences = new Silences();
    const s = silences.create(input(), 2000);
    const expired = silences.expire(s.id, 3000);
    expect(expired.endsAt).toBe(3000);
    expect(silences.list(3000).map((e) => e.state)).toEqual(["expired"]);
    expect(() => silences.expire(s.id, 4000)).toThrow("already expired");
  });

  test("expired silences are dropped after their retention", () => {
    const silences = new Silences([], { retentionMs: 1000 });
    silences.create(input(), 0);
    expect(silences.list(10_999)).toHaveLength(1);
    expect(silences.list(11_000)).toHaveLength(0);
  });

  test("every change hands the whole set over for keeping, and a restored set is honoured", () => {
    let kept: readonly Silence[] = [];
    const silences = new Silences([], { onChange: (all) => (kept = all) });
    silences.create(input(), 0);
    expect(kept).toHaveLength(1);
    const restored = new Silences(kept);
    expect(restored.mutedBy({ alertname: "disk-low" }, 2000)).toHaveLength(1);
  });

  test.each([
    ["an end before the start", input({ startsAt: 5000, endsAt: 4000 }), "after startsAt", "BAD_REQUEST"],
    ["an end in the past", input({ startsAt: 0, endsAt: 100 }), "in the past", "BAD_REQUEST"],
    [
      "matchers that match every alert",
      input({ matchers: [m("node", ".*", true)] }),
      "empty string",
      "BAD_REQUEST",
    ],
    ["a broken regex", input({ matchers: [m("node", "(", true)] }), "valid regex", "BAD_REQUEST"],
  ] as const)("%s is refused", (_name, bad, why, code) => {
    try {
      new Silences().create(bad, 1000);
      throw new Error("expected a refusal");
    } catch (error) {
      expect(isPlatformError(error, code)).toBe(true);
      expect((error as Error).message).toContain(why);
    }
  });

  test("an unknown id is NOT_FOUND", () => {
    expect(() => new Silences().expire("nope", 0)).toThrow("NOT_FOUND");
  });

  test("the number of silences is bounded", () => {
    const silences = new Silences([], { maxSilences: 3 });
    for (let i = 0; i < 3; i++) silences.create(input(), 0);
    expect(() => silences.create(input(), 0)).toThrow("at most 3");
  });
});
