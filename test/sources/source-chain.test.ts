import { describe, expect, test } from "bun:test";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { SourceChain, type SourceChainEvent } from "../../sources/source-chain.ts";

interface FakeSource {
  readonly name: string;
  fail: PlatformError | Error | undefined;
}

const source = (name: string, fail?: PlatformError | Error): FakeSource => ({ name, fail });
const ask = (s: FakeSource) => (s.fail ? Promise.reject(s.fail) : Promise.resolve(s.name));

function chainOf(sources: FakeSource[]) {
  let now = 1_000_000;
  const events: SourceChainEvent[] = [];
  const chain = new SourceChain(sources, { now: () => now, onChange: (e) => events.push(e) });
  return { chain, events, advance: (ms: number) => (now += ms) };
}

describe("SourceChain", () => {
  test("the first source that answers serves the call", async () => {
    const { chain } = chainOf([source("a"), source("b")]);
    expect(await chain.call(ask)).toEqual({ value: "a", source: "a" });
    expect(chain.active).toBe("a");
  });

  test.each([
    [
      "a rate limit rests the source for its Retry-After",
      new PlatformError(ErrorCodes.RATE_LIMITED, "429", { details: { retryAfterMs: 30_000 } }),
      30_000,
    ],
    [
      "a missing key rests the source for an hour",
      new PlatformError(ErrorCodes.SOURCE_UNAUTHORIZED, "no key"),
      3_600_000,
    ],
    [
      "an outage rests the source for 1 s at first",
      new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, "down"),
      1_000,
    ],
    ["an unexpected error counts as an outage", new Error("bug"), 1_000],
  ])("%s, and the call hands over to the next", async (_name, error, restMs) => {
    const { chain, events } = chainOf([source("a", error), source("b")]);
    expect((await chain.call(ask)).source).toBe("b");
    expect(events[0]).toMatchObject({ type: "failed", source: "a", restMs });
    expect(chain.health().map((h) => h.state)).toEqual(["resting", "active"]);
  });

  test("after its rest the preferred source is tried first again: the chain fails back", async () => {
    const a = source("a", new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, "down"));
    const { chain, events, advance } = chainOf([a, source("b")]);
    expect((await chain.call(ask)).source).toBe("b");
    advance(500);
    expect((await chain.call(ask)).source).toBe("b"); // a still rests: not asked
    a.fail = undefined;
    advance(600);
    expect((await chain.call(ask)).source).toBe("a");
    expect(events.filter((e) => e.type === "switched")).toEqual([
      { type: "switched", from: undefined, to: "b" },
      { type: "switched", from: "b", to: "a" },
    ]);
  });

  test("back-off doubles with each consecutive failure and is capped", async () => {
    const a = source("a", new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, "down"));
    const { chain, events, advance } = chainOf([a, source("b")]);
    for (let i = 0; i < 12; i++) {
      await chain.call(ask);
      advance(400_000);
    }
    const rests = events.flatMap((e) => (e.type === "failed" ? [e.restMs] : []));
    expect(rests.slice(0, 4)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(Math.max(...rests)).toBe(300_000);
  });

  test("when no source answers the error names each one's reason", async () => {
    const { chain } = chainOf([
      source("a", new PlatformError(ErrorCodes.SOURCE_UNAUTHORIZED, "a has no key")),
      source("b", new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, "b timed out")),
    ]);
    const failure = chain.call(ask);
    await expect(failure).rejects.toThrow(
      /SOURCE_UNAVAILABLE: no source answered \(a: .*a has no key; b: .*b timed out\)/,
    );
  });
});
