import { describe, expect, test } from "bun:test";
import { backoffDelay } from "../../../supervisor/supervision/backoff.ts";

const spec = { minMs: 10, maxMs: 1_000, jitter: 0 };

describe("backoffDelay", () => {
  test.each([
    [0, 10],
    [1, 20],
    [2, 40],
    [3, 80],
    [6, 640],
    [7, 1_000],
    [50, 1_000],
  ])("without jitter, attempt %i waits %i ms (doubling, capped at maxMs)", (attempt, expected) => {
    expect(backoffDelay(spec, attempt, () => 0.5)).toBe(expected);
  });

  test("with jitter the delay stays within [ceiling * (1 - jitter), ceiling]", () => {
    const jittered = { minMs: 100, maxMs: 10_000, jitter: 0.5 };
    for (let attempt = 0; attempt < 10; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** attempt);
      expect(backoffDelay(jittered, attempt, () => 0)).toBe(Math.round(ceiling * 0.5));
      expect(backoffDelay(jittered, attempt, () => 1)).toBe(ceiling);
      for (let i = 0; i < 20; i++) {
        const delay = backoffDelay(jittered, attempt, Math.random);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling * 0.5));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  test("jittered delays still grow exponentially on average", () => {
    const jittered = { minMs: 10, maxMs: 100_000, jitter: 0.3 };
    const mean = (attempt: number) => {
      let sum = 0;
      for (let i = 0; i < 200; i++) sum += backoffDelay(jittered, attempt, Math.random);
      return sum / 200;
    };
    expect(mean(4) / mean(2)).toBeGreaterThan(3);
    expect(mean(4) / mean(2)).toBeLessThan(5);
  });

  test("no back-off spec means restart at once", () => {
    expect(backoffDelay(undefined, 5, Math.random)).toBe(0);
  });
});
