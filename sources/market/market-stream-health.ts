import { sessionAt } from "./calendar/nyse-calendar.ts";
import type { SourceHealth } from "./source-chain.ts";

/** a source streaming while the market is open sends something within this */
export const MAX_MARKET_SILENCE_MS = 120_000;

/**
 * Whether the market data streams: some source of the chain is active, and while the market is
 * open (NYSE sessions; the simulator around the clock when its hours are `always`) the active
 * source has sent something within `MAX_MARKET_SILENCE_MS`. A source that has sent nothing yet is
 * not judged silent: a fresh chain is still connecting. The verdict is the node's `/health`
 * `market` check.
 */
export function marketStreamVerdict(
  chain: { activeSource(): string | undefined; health(): readonly SourceHealth[] },
  now: number,
  options: { readonly simulatorAlwaysOpen: boolean },
): { readonly ok: boolean; readonly reason?: string } {
  const active = chain.activeSource();
  if (!active) return { ok: false, reason: "no market-data source streams (see /api/markets/sources)" };
  const last = chain.health().find((h) => h.name === active)?.lastEventAt ?? 0;
  const open = (active === "simulator" && options.simulatorAlwaysOpen) || sessionAt(now) !== undefined;
  if (open && last > 0 && now - last > MAX_MARKET_SILENCE_MS)
    return {
      ok: false,
      reason: `${active} has sent nothing for ${Math.round((now - last) / 1000)} s while the market is open`,
    };
  return { ok: true };
}
