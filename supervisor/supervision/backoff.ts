import type { BackoffSpec } from "../actor.ts";

/**
 * Exponential back-off with jitter between restarts ("Exponential Backoff And Jitter", AWS
 * Architecture Blog, 2015): the ceiling doubles per recent restart from `minMs` up to `maxMs`,
 * and the share `jitter` of it is random, so the delay lies in
 * [ceiling * (1 - jitter), ceiling]. `attempt` 0 is the first restart.
 */
export function backoffDelay(spec: BackoffSpec | undefined, attempt: number, random: () => number): number {
  if (spec === undefined || spec.maxMs <= 0) return 0;
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const ceiling = Math.min(spec.maxMs, spec.minMs * 2 ** exponent);
  const jitter = Math.min(Math.max(spec.jitter, 0), 1);
  return Math.round(ceiling * (1 - jitter) + ceiling * jitter * random());
}
