import type { Candidate } from "./search-space.ts";

/**
 * Successive halving (Jamieson & Talwalkar 2016; the rung schedule of Hyperband, Li et al.
 * 2018): every candidate is trained with the smallest resource (trees), the best 1/eta go on
 * with eta times the resource, until one is left or the largest resource is reached. Losers are
 * stopped early, so most of the budget goes to the promising ones. The whole search keeps to a
 * deadline: a rung that would start after it does not start, and the best trial so far wins.
 */
export interface Trial {
  readonly candidate: Candidate;
  readonly rung: number;
  readonly resource: number;
  /** the holdout error (lower is better) */
  readonly loss: number;
  readonly millis: number;
}

export interface HalvingOptions {
  readonly minResource: number;
  readonly maxResource: number;
  readonly eta?: number;
  readonly deadline: number;
  readonly now: () => number;
}

export function successiveHalving(
  candidates: readonly Candidate[],
  evaluate: (candidate: Candidate, resource: number) => number,
  options: HalvingOptions,
  onTrial: (trial: Trial) => void = () => {},
): { best: Trial | undefined; trials: Trial[] } {
  const eta = options.eta ?? 3;
  const trials: Trial[] = [];
  let survivors = [...candidates];
  let resource = options.minResource;
  let best: Trial | undefined;
  for (let rung = 0; survivors.length > 0; rung++) {
    const results: Trial[] = [];
    for (const candidate of survivors) {
      if (options.now() >= options.deadline) break;
      const started = options.now();
      const measured = evaluate(candidate, resource);
      const loss = Number.isFinite(measured) ? measured : Number.POSITIVE_INFINITY;
      const trial: Trial = { candidate, rung, resource, loss, millis: options.now() - started };
      trials.push(trial);
      results.push(trial);
      onTrial(trial);
      // a larger resource counts as better evidence: a later rung's best replaces an earlier one
      if (!best || rung > best.rung || (rung === best.rung && loss < best.loss)) best = trial;
    }
    if (resource >= options.maxResource || results.length <= 1 || options.now() >= options.deadline) break;
    results.sort((a, b) => a.loss - b.loss);
    survivors = results.slice(0, Math.max(1, Math.floor(results.length / eta))).map((t) => t.candidate);
    resource = Math.min(options.maxResource, resource * eta);
  }
  return { best, trials };
}
