import { describe, expect, test } from "bun:test";
import { createPrng } from "../../../sources/iot/prng.ts";
import { TDigest } from "../../../stream/aggregate/t-digest.ts";

/** a seeded PRNG (mulberry32, the simulator's), so a case can be replayed */
function random(seed: number): () => number {
  const generator = createPrng(seed);
  return () => generator.next();
}

const distributions: Record<string, (r: () => number) => number> = {
  uniform: (r) => r() * 1000,
  normal: (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()) * 15 + 50,
  exponential: (r) => -Math.log(1 - r()) * 40,
  "heavy-tailed (pareto)": (r) => 1 / (1 - r()) ** 1.5,
};

/** Rank of `x` in sorted data as a fraction: the exact CDF the estimate is judged against. */
function rankOf(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  let upper = lo;
  while (upper < sorted.length && sorted[upper] === x) upper++;
  return (lo + upper) / 2 / sorted.length;
}

// Stated accuracy at compression 100 on 100k values: rank error <= 0.005 in the body,
// <= 0.003 in the tails (q <= 0.01 or q >= 0.99). The k1 scale makes tails the accurate part.
const QUANTILES = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];
const rankTolerance = (q: number): number => (q <= 0.01 || q >= 0.99 ? 0.003 : 0.005);

describe("t-digest accuracy against exact quantiles on 100k values", () => {
  for (const [name, draw] of Object.entries(distributions)) {
    test(`quantiles of a ${name} sample are within the stated rank error`, () => {
      const r = random(42);
      const values = new Float64Array(100_000);
      const digest = new TDigest(100);
      for (let i = 0; i < values.length; i++) {
        values[i] = draw(r);
        digest.add(values[i]!);
      }
      const sorted = values.slice().sort();
      for (const q of QUANTILES) {
        const error = Math.abs(rankOf(sorted, digest.quantile(q)) - q);
        expect({ q, error, ok: error <= rankTolerance(q) }).toEqual({ q, error, ok: true });
      }
      expect(digest.quantile(0)).toBe(sorted[0]!);
      expect(digest.quantile(1)).toBe(sorted[sorted.length - 1]!);
      expect(digest.count).toBe(100_000);
    });
  }
});

describe("t-digest merging", () => {
  test("a digest merged from ten parts is as accurate as one built from all values", () => {
    const r = random(7);
    const values = new Float64Array(100_000);
    const parts = Array.from({ length: 10 }, () => new TDigest(100));
    for (let i = 0; i < values.length; i++) {
      values[i] = distributions.normal!(r);
      parts[i % 10]!.add(values[i]!);
    }
    const merged = new TDigest(100);
    for (const part of parts) merged.merge(part);
    const sorted = values.slice().sort();
    for (const q of QUANTILES) {
      const error = Math.abs(rankOf(sorted, merged.quantile(q)) - q);
      expect({ q, ok: error <= rankTolerance(q) * 2 }).toEqual({ q, ok: true });
    }
    expect(merged.count).toBe(100_000);
  });

  test("the number of centroids stays bounded by the compression", () => {
    const digest = new TDigest(100);
    const r = random(3);
    for (let i = 0; i < 100_000; i++) digest.add(r());
    digest.compress();
    expect(digest.toJSON().means.length).toBeLessThanOrEqual(100);
  });

  test("a JSON round trip gives the same quantiles", () => {
    const digest = new TDigest(50);
    const r = random(9);
    for (let i = 0; i < 5_000; i++) digest.add(distributions.exponential!(r));
    const copy = TDigest.fromJSON(JSON.parse(JSON.stringify(digest.toJSON())));
    for (const q of QUANTILES) expect(copy.quantile(q)).toBe(digest.quantile(q));
  });

  test("small samples give exact answers at the ends and an empty digest gives NaN", () => {
    const digest = new TDigest(100);
    expect(digest.quantile(0.5)).toBeNaN();
    for (const v of [5, 1, 3]) digest.add(v);
    expect(digest.quantile(0)).toBe(1);
    expect(digest.quantile(1)).toBe(5);
    expect(digest.quantile(0.5)).toBe(3);
  });
});
