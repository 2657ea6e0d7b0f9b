import { describe, expect, test } from "bun:test";
import { NewsView } from "../../../api/news/news-view.ts";
import { newsRoutes } from "../../../api/news/routes.ts";
import type { NewsInsight } from "../../../messages/news.ts";

const insight = (id: string, title: string, at: number) =>
  ({
    article_id: id,
    title,
    location: "Mitte",
    created_at: at,
    published_at: new Date(at * 1000).toISOString(),
    sentiment: 0.5,
  }) as unknown as NewsInsight;

describe("the news routes' shaping", () => {
  const view = new NewsView();
  view.insight(insight("a1", "=cmd|' /C calc'!A0", 1));
  view.insight(insight("a2", "Road works, again", 2));
  const app = newsRoutes({ view, sources: () => ({}) });

  test("fields= keeps those fields of each insight, with the place and the page", async () => {
    const body = (await (await app.request("/?location=Mitte&fields=article_id")).json()) as Record<
      string,
      unknown
    >;
    expect(body.location).toBe("Mitte");
    expect(body.insights).toEqual([{ article_id: "a2" }, { article_id: "a1" }]);
    expect(body.page).toMatchObject({ total: 2 });
  });

  test("format=csv answers the insights as CSV, a formula-like title defused", async () => {
    const response = await app.request("/?format=csv&fields=article_id,title");
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("x-total-count")).toBe("2");
    expect(await response.text()).toBe(
      `article_id,title\r\na2,"Road works, again"\r\na1,'=cmd|' /C calc'!A0\r\n`,
    );
  });
});
