import { z } from "zod";

/**
 * Durations in configuration files are written as Prometheus writes them (`30s`, `5m`, `1h30m`,
 * `250ms`) or as a number of milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit ?? ""] ?? 0);
  return total;
}

/** a duration field: `"30s"` or `30000`, in milliseconds once parsed */
export const Duration = z.union([z.number(), z.string()]).transform((input, ctx) => {
  const ms = typeof input === "number" ? input : parseDuration(input);
  if (ms === undefined || !Number.isInteger(ms) || ms < 0) {
    ctx.addIssue({
      code: "custom",
      message: `'${String(input).slice(0, 40)}' is not a duration like 30s, 5m, 1h or a number of ms`,
    });
    return z.NEVER;
  }
  return ms;
});
