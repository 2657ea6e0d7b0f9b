import { expect, test } from "bun:test";
import { TokenBuckets } from "../../../api/gateway/rate-limiter.ts";

test.each([
  // [perSecond, burst, requests at t=0, expected allowed, retry after of the first refused]
  [10, 5, 5, 5, undefined],
  [10, 5, 6, 5, 100],
  [1, 1, 3, 1, 1000],
  [0.5, 2, 3, 2, 2000],
] as const)(
  "a bucket of %d/s, burst %d, asked %d times at once, lets %d through",
  (perSecond, burst, asks, allowed, retry) => {
    const buckets = new TokenBuckets({ perSecond, burst, now: () => 0 });
    const answers = Array.from({ length: asks }, () => buckets.take("k"));
    expect(answers.filter((a) => a.allowed)).toHaveLength(allowed);
    const refused = answers.find((a) => !a.allowed);
    expect(refused && !refused.allowed ? refused.retryAfterMs : undefined).toBe(retry);
  },
);

test("a bucket refills with time, up to its burst", () => {
  let now = 0;
  const buckets = new TokenBuckets({ perSecond: 2, burst: 2, now: () => now });
  expect([buckets.take("k"), buckets.take("k"), buckets.take("k")].map((a) => a.allowed)).toEqual([
    true,
    true,
    false,
  ]);
  now = 500;
  expect(buckets.take("k").allowed).toBe(true);
  expect(buckets.take("k").allowed).toBe(false);
  now = 60_000;
  expect([buckets.take("k"), buckets.take("k"), buckets.take("k")].map((a) => a.allowed)).toEqual([
    true,
    true,
    false,
  ]);
});

test("keys have their own buckets, and a flood of new keys keeps the map at its cap", () => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1, maxKeys: 100, now: () => 0 });
  expect(buckets.take("a").allowed).toBe(true);
  expect(buckets.take("b").allowed).toBe(true);
  expect(buckets.take("a").allowed).toBe(false);
  for (let i = 0; i < 10_000; i++) buckets.take(`flood-${i}`);
  expect(buckets.size).toBe(100);
});
