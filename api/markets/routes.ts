import { Hono } from "hono";
import { ErrorCodes } from "../../messages/errors.ts";
import { SYMBOL_PATTERN, type Timeframe, timeframeOf } from "../../messages/market.ts";
import { shapedItems } from "../response-shape.ts";
import type { MarketView } from "./market-view.ts";

/**
 * Market routes, mounted at /api/markets:
 *   GET /:symbol/bars?timeframe=1m|5m|15m|1h|1d&from&to&limit   bars, oldest first
 *   GET /:symbol/indicators?timeframe&from&to&limit            indicator snapshots, oldest first
 *   GET /sources                                               the source chain's health
 * `from` / `to` are RFC-3339 times or epoch milliseconds; default the last day up to now; `limit` keeps
 * the newest (default 500, at most 5,000). Errors answer `{"error":{"code","message"}}`.
 */
export interface MarketRoutesDeps {
  readonly view: MarketView;
  readonly sources: () => unknown;
  readonly now?: () => number;
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });
const echo = (text: string) => (text.length > 40 ? `${text.slice(0, 40)}...` : text);

function timeParam(text: string | undefined, fallback: number): number | Error {
  if (text === undefined || text === "") return fallback;
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isNaN(ms) ? new Error(`'${echo(text)}' is not a time (RFC-3339 or epoch ms)`) : ms;
}

interface RangeQuery {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly from: number;
  readonly to: number;
  readonly limit: number;
}

export function marketRoutes(deps: MarketRoutesDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;

  const rangeOf = (c: {
    req: { param(n: string): string | undefined; query(n: string): string | undefined };
  }): RangeQuery | Error => {
    const symbol = c.req.param("symbol") ?? "";
    if (!SYMBOL_PATTERN.test(symbol))
      return new Error(`'${echo(symbol)}' is not a symbol (upper-case letters, digits, '.', '-')`);
    const tfText = c.req.query("timeframe") ?? "1m";
    const timeframe = timeframeOf(tfText);
    if (!timeframe) return new Error(`timeframe must be one of 1m, 5m, 15m, 1h, 1d; got '${echo(tfText)}'`);
    const to = timeParam(c.req.query("to"), now() + 1);
    if (to instanceof Error) return to;
    const from = timeParam(c.req.query("from"), Math.min(to, now()) - 86_400_000);
    if (from instanceof Error) return from;
    if (from > to) return new Error("from must not be after to");
    const limitText = c.req.query("limit") ?? "500";
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000)
      return new Error("limit must be an integer from 1 to 5000");
    return { symbol, timeframe, from, to, limit };
  };

  app.get("/sources", (c) => c.json({ sources: deps.sources() }));

  app.get("/:symbol/bars", (c) => {
    const q = rangeOf(c);
    if (q instanceof Error) return c.json(errorBody(ErrorCodes.BAD_REQUEST, q.message), 400);
    if (!deps.view.knows(q.symbol))
      return c.json(errorBody(ErrorCodes.NOT_FOUND, `no market data for '${q.symbol}' on this node`), 404);
    const bars = deps.view.barsOf(q.symbol, q.timeframe, q.from, q.to).slice(-q.limit);
    return shapedItems(c, "bars", bars, { symbol: q.symbol, timeframe: q.timeframe });
  });

  app.get("/:symbol/indicators", (c) => {
    const q = rangeOf(c);
    if (q instanceof Error) return c.json(errorBody(ErrorCodes.BAD_REQUEST, q.message), 400);
    if (!deps.view.knows(q.symbol))
      return c.json(errorBody(ErrorCodes.NOT_FOUND, `no market data for '${q.symbol}' on this node`), 404);
    const indicators = deps.view.indicatorsOf(q.symbol, q.timeframe, q.from, q.to).slice(-q.limit);
    return shapedItems(c, "indicators", indicators, {
      symbol: q.symbol,
      timeframe: q.timeframe,
      latest: indicators.at(-1) ?? null,
    });
  });

  return app;
}
