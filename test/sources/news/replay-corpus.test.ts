import { expect, test } from "bun:test";
import { NewsArticle } from "../../../messages/news.ts";
import { replayCorpusSource } from "../../../sources/news/replay-corpus.ts";
import { companyArticles, DISTRICTS, FIXED_NOW } from "./news-fixture.ts";

const source = () => replayCorpusSource({ districts: DISTRICTS, now: () => FIXED_NOW });

test("every district has the corpus's stories, valid articles with stable identities", async () => {
  const [a, b] = [source(), source()];
  for (const location of DISTRICTS) {
    const page = await a.search({ location, keywords: [], page: 1, pageSize: 100 });
    expect(page.articles.length).toBe(12);
    for (const article of page.articles) expect(NewsArticle.safeParse(article).success).toBe(true);
    const again = await b.search({ location, keywords: [], page: 1, pageSize: 100 });
    expect(again.articles.map((x) => x.id)).toEqual(page.articles.map((x) => x.id));
  }
});

test.each([
  ["pages of 5", { page: 3, pageSize: 5 }, 2, undefined],
  ["keywords match title or text", { keywords: ["tram"] }, 2, undefined],
  ["only articles since `from`", { from: FIXED_NOW - 10 * 3_600_000 }, 3, undefined],
  ["an unknown place has none", { location: "Atlantis" }, 0, undefined],
])("%s", async (_name, change, count, nextPage) => {
  const page = await source().search({ location: "Mitte", keywords: [], page: 1, pageSize: 100, ...change });
  expect(page.articles.length).toBe(count);
  expect(page.nextPage).toBe(nextPage);
});

test("a company query answers the corpus's company stories, carrying the symbol; companies hear different ones", async () => {
  const apple = await companyArticles("AAPL");
  const microsoft = await companyArticles("MSFT");
  expect(apple.length).toBe(4);
  for (const article of [...apple, ...microsoft]) expect(NewsArticle.safeParse(article).success).toBe(true);
  expect(apple.every((a) => a.symbol === "AAPL" && a.location === "Apple")).toBe(true);
  expect(apple.map((a) => a.url)).not.toEqual(microsoft.map((a) => a.url.replace("msft", "aapl")));
  // a place query never answers company stories
  const mitte = await source().search({ location: "Apple", keywords: [], page: 1, pageSize: 100 });
  expect(mitte.articles).toEqual([]);
});
