import type { Aggregator } from "./aggregator.ts";
import { TDigest, type TDigestJson } from "./t-digest.ts";

/** `0.5` -> `p50`, `0.999` -> `p99.9`: the names quantiles are reported under. */
export function quantileName(q: number): string {
  return `p${Number((q * 100).toFixed(6))}`;
}

/** Approximate quantiles of a field per window, on a merging t-digest. */
export function quantilesAggregator(
  quantiles: readonly number[],
  compression = 100,
): Aggregator<TDigest, Readonly<Record<string, number>>> {
  const names = quantiles.map(quantileName);
  return {
    create: () => new TDigest(compression),
    add: (digest, value) => {
      digest.add(value);
      return digest;
    },
    merge: (into, other) => {
      into.merge(other);
      return into;
    },
    result: (digest) => {
      const out: Record<string, number> = {};
      for (let i = 0; i < quantiles.length; i++) out[names[i]!] = digest.quantile(quantiles[i]!);
      return out;
    },
    toJSON: (digest) => digest.toJSON(),
    fromJSON: (json) => TDigest.fromJSON(json as TDigestJson),
  };
}
