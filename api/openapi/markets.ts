import { type RouteConfig, z } from "@hono/zod-openapi";
import { IndicatorSnapshot, MarketBar } from "../../messages/market.ts";
import {
  ErrorBody,
  errorResponses,
  jsonResponse,
  pathParams,
  shapedResponse,
  shapeQuery,
} from "../openapi.ts";

/** api/markets/routes.ts, mounted at /api/v1/markets */
const range = z.object({
  timeframe: z.enum(["1m", "5m", "15m", "1h", "1d"]).optional(),
  from: z.string().optional().openapi({ description: "RFC 3339 or epoch ms; default a day before `to`" }),
  to: z.string().optional().openapi({ description: "RFC 3339 or epoch ms; default now" }),
  limit: z.string().optional().openapi({ description: "the newest this many, 1..5000 (default 500)" }),
  ...shapeQuery,
});
const noSymbol = { 404: jsonResponse(ErrorBody, "no market data for the symbol on this node") };

export const MARKET_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/sources",
    summary: "The market source chain's health",
    responses: { 200: jsonResponse(z.object({ sources: z.unknown() }), "the sources"), ...errorResponses },
  },
  {
    method: "get",
    path: "/{symbol}/bars",
    summary: "A symbol's bars, oldest first",
    request: { params: pathParams("symbol"), query: range },
    responses: {
      200: shapedResponse(
        z.object({ symbol: z.string(), timeframe: z.string(), bars: z.array(MarketBar) }),
        "the bars (fields= keeps those fields of each bar)",
      ),
      ...noSymbol,
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/{symbol}/indicators",
    summary: "A symbol's indicator snapshots, oldest first, and the latest",
    request: { params: pathParams("symbol"), query: range },
    responses: {
      200: shapedResponse(
        z.object({
          symbol: z.string(),
          timeframe: z.string(),
          latest: IndicatorSnapshot.nullable(),
          indicators: z.array(IndicatorSnapshot),
        }),
        "the snapshots",
      ),
      ...noSymbol,
      ...errorResponses,
    },
  },
];
