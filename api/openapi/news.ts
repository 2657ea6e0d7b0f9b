import { type RouteConfig, z } from "@hono/zod-openapi";
import { LocationSentiment, NewsInsight } from "../../messages/news.ts";
import { ErrorBody, errorResponses, jsonResponse, listResponse, pageQuery, shapeQuery } from "../openapi.ts";

/** api/news/routes.ts, mounted at /api/v1/news */
export const NEWS_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/",
    summary: "News insights, newest first, of one place or all",
    request: {
      query: z.object({
        location: z.string().optional().openapi({ description: "a place (GET /sentiment lists them)" }),
        ...pageQuery,
        ...shapeQuery,
      }),
    },
    responses: {
      200: listResponse("insights", NewsInsight, "a page of insights (with `location` in JSON)"),
      404: jsonResponse(ErrorBody, "no news for the place"),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/sentiment",
    summary: "Every place's rolling news sentiment",
    responses: {
      200: jsonResponse(z.object({ locations: z.array(LocationSentiment) }), "the places"),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/sources",
    summary: "The news sources' and readers' states",
    responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "the sources"), ...errorResponses },
  },
];
