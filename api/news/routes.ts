import { Hono } from "hono";
import { ErrorCodes } from "../../messages/errors.ts";
import { pageOf, pageRequestOf } from "../pagination.ts";
import { shapedList } from "../response-shape.ts";
import type { NewsView } from "./news-view.ts";

/**
 * News over HTTP, mounted at /api/news:
 *
 *   GET /api/news?location=Mitte&limit=50&offset=0   insights, newest first (all places without
 *                                                    `location`); 404 for a place with no news
 *   GET /api/news/sentiment                          every place's rolling sentiment
 *   GET /api/news/sources                            the news sources' and readers' states
 */
export interface NewsRoutesDeps {
  readonly view: NewsView;
  readonly sources: () => unknown;
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });
const echo = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}...` : text);

export function newsRoutes(deps: NewsRoutesDeps): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const location = c.req.query("location");
    if (location !== undefined && (location.length === 0 || location.length > 200))
      return c.json(errorBody(ErrorCodes.BAD_REQUEST, "location must be 1 to 200 characters"), 400);
    const request = pageRequestOf((name) => c.req.query(name), 50);
    if (request instanceof Error) return c.json(errorBody(ErrorCodes.BAD_REQUEST, request.message), 400);
    const insights = deps.view.insights(location);
    if (insights === undefined)
      return c.json(
        errorBody(
          ErrorCodes.NOT_FOUND,
          `no news for location '${echo(location ?? "")}' (GET /api/news/sentiment lists the places)`,
        ),
        404,
      );
    const { items, page } = pageOf(insights, request);
    return shapedList(c, "insights", items, page, { location: location ?? null });
  });
  app.get("/sentiment", (c) => c.json({ locations: deps.view.sentiments() }));
  app.get("/sources", (c) => c.json(deps.sources()));
  return app;
}
