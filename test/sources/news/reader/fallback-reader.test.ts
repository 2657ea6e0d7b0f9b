import { describe, expect, test } from "bun:test";
import type { NewsArticle } from "../../../../messages/news.ts";
import type { ArticleReader } from "../../../../sources/news/reader/article-reader.ts";
import { fallbackReader } from "../../../../sources/news/reader/fallback-reader.ts";
import { localReader } from "../../../../sources/news/reader/local-reader.ts";
import { corpusArticles, gazetteer } from "../news-fixture.ts";

/** the local reader, counting the articles it is asked to read (the cache's misses) */
function countingLocalReader(): { reader: ArticleReader; read: string[] } {
  const local = localReader(gazetteer);
  const read: string[] = [];
  return {
    read,
    reader: {
      name: "local",
      read: (article, signal) => {
        read.push(article.id);
        return local.read(article, signal);
      },
    },
  };
}

describe("the fallback reader's cache", () => {
  // [case, cache entries, articles read in order (by index), articles the reader was asked for]
  test.each([
    ["a story read again is answered from the cache", 2, [0, 1, 0], [0, 1]],
    ["past the bound the least recently used is read again", 2, [0, 1, 2, 0], [0, 1, 2, 0]],
    // a hit renews: 1 was used longest ago when 2 came, so 1 went and 0 stayed
    ["a hit renews the answer", 2, [0, 1, 0, 2, 0, 1], [0, 1, 2, 1]],
  ] as [string, number, number[], number[]][])("%s", async (_case, cacheEntries, order, asked) => {
    const articles: NewsArticle[] = await corpusArticles();
    const { reader, read } = countingLocalReader();
    const cached = fallbackReader(undefined, reader, { cacheEntries });
    for (const index of order) await cached.read(articles[index]!);
    expect(read).toEqual(asked.map((index) => articles[index]!.id));
    expect(cached.stats().size).toBe(Math.min(cacheEntries, new Set(order).size));
  });
});
