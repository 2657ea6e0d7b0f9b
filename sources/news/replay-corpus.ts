import { z } from "zod";
import { NewsArticle } from "../../messages/news.ts";
import corpus from "./corpus/city-news.json" with { type: "json" };
import companyCorpus from "./corpus/company-news.json" with { type: "json" };
import { articleIdOf, type NewsPage, type NewsQuery, type NewsSource } from "./news-source.ts";

/**
 * The offline news source: a small bundled corpus (`corpus/city-news.json`, story templates)
 * told about every district of the simulated city, so `bun run cluster` with no key and no
 * network still has news, and the readers, actors and feeds have something real to read. It
 * answers the same query shape as NewsAPI, paged, newest first.
 *
 * Company stories (`corpus/company-news.json`) are told the same way about every listed company
 * the node follows, answering a company query (by any of its names) with articles that carry
 * its symbol.
 *
 * Publication times are the template's `hoursAgo` before the source was created (rounded down
 * to the hour), so an article's identity and time are stable for the life of a node and the
 * same story is never counted twice.
 */
export interface ReplayCorpusOptions {
  /** every place the corpus tells stories about; the first one also gets the city-wide ones */
  readonly districts: readonly string[];
  /** the listed companies the corpus tells stories about (none when absent) */
  readonly companies?: readonly { readonly symbol: string; readonly searchTerms: readonly string[] }[];
  readonly now?: () => number;
}

const Story = z.object({
  slug: z.string().regex(/^[a-z0-9-]+$/),
  hoursAgo: z.number().nonnegative(),
  source: z.string(),
  title: z.string(),
  description: z.string(),
  content: z.string(),
});
const Corpus = z.object({ stories: z.array(Story).min(1) });
/** a company hears the stories whose position modulo this differs from its own */
const COMPANY_STORY_CYCLE = 5;
const HOUR_MS = 3_600_000;

export function replayCorpusSource(options: ReplayCorpusOptions): NewsSource {
  const now = options.now ?? Date.now;
  const stories = Corpus.parse(corpus).stories;
  const anchor = Math.floor(now() / HOUR_MS) * HOUR_MS;
  const byLocation = new Map<string, NewsArticle[]>();
  options.districts.forEach((district, i) => {
    const other = options.districts[(i + 1) % options.districts.length] ?? district;
    const fill = (text: string) => text.replaceAll("{district}", district).replaceAll("{other}", other);
    const articles = stories.map((story) => {
      const url = `https://news.replay.invalid/${slugOf(district)}/${story.slug}`;
      return NewsArticle.parse({
        id: articleIdOf(url),
        url,
        title: fill(story.title),
        description: fill(story.description),
        content: fill(story.content),
        source: story.source,
        author: null,
        published_at: new Date(anchor - story.hoursAgo * HOUR_MS).toISOString(),
        location: district,
        provider: "replay",
        fetched_at: 0,
      });
    });
    byLocation.set(district.toLowerCase(), articles);
  });
  const byCompany = new Map<string, NewsArticle[]>();
  const companyStories = Corpus.parse(companyCorpus).stories;
  const companies = options.companies ?? [];
  companies.forEach((company, i) => {
    const name = company.searchTerms[0] ?? company.symbol;
    const other = companies[(i + 1) % companies.length]?.searchTerms[0] ?? name;
    const fill = (text: string) =>
      text.replaceAll("{company}", name).replaceAll("{symbol}", company.symbol).replaceAll("{other}", other);
    const articles = companyStories
      .filter((_story, s) => s % COMPANY_STORY_CYCLE !== i % COMPANY_STORY_CYCLE)
      .map((story) => {
        const url = `https://news.replay.invalid/companies/${slugOf(company.symbol)}/${story.slug}`;
        return NewsArticle.parse({
          id: articleIdOf(url),
          url,
          title: fill(story.title),
          description: fill(story.description),
          content: fill(story.content),
          source: story.source,
          author: null,
          published_at: new Date(anchor - story.hoursAgo * HOUR_MS).toISOString(),
          location: name,
          symbol: company.symbol,
          provider: "replay",
          fetched_at: 0,
        });
      });
    byCompany.set(company.symbol, articles);
  });
  // a place by name, or (a follow-up search such as "Mitte road works") the places it names
  const articlesAbout = (text: string): NewsArticle[] => {
    const exact = byLocation.get(text.toLowerCase());
    if (exact) return exact;
    const lower = text.toLowerCase();
    return [...byLocation].flatMap(([place, articles]) => (lower.includes(place) ? articles : []));
  };
  return {
    name: "replay",
    async search(query: NewsQuery): Promise<NewsPage> {
      const keywords = query.company
        ? []
        : query.keywords.map((k) => k.toLowerCase()).filter((k) => k.length > 0);
      const found = query.company
        ? (byCompany.get(query.company.symbol) ?? [])
        : articlesAbout(query.location);
      const matching = found.filter(
        (a) =>
          (query.from === undefined || Date.parse(a.published_at) >= query.from) &&
          (keywords.length === 0 ||
            keywords.some((k) => `${a.title} ${a.description} ${a.content}`.toLowerCase().includes(k))),
      );
      const start = (query.page - 1) * query.pageSize;
      const fetchedAt = now();
      return {
        articles: matching.slice(start, start + query.pageSize).map((a) => ({ ...a, fetched_at: fetchedAt })),
        rejected: [],
        nextPage: start + query.pageSize < matching.length ? query.page + 1 : undefined,
      };
    },
  };
}

const slugOf = (name: string) =>
  name
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-");
