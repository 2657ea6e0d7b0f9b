import { BoundedSet } from "../../messages/bounded-map.ts";
import type { NewsArticle } from "../../messages/news.ts";
import type { SourceChain } from "../source-chain.ts";
import type { NewsSource, RejectedItem } from "./news-source.ts";

/**
 * Polls the news chain for every place, and every listed company it follows (by its names), on a
 * schedule and hands new articles over for the log.
 * A place's articles are asked for since its last successful poll (less an overlap, as
 * providers index late), page by page up to `maxPages`. An article is new when its id was not
 * delivered before (a bounded memory of ids; the news desks de-duplicate again after it, so a
 * forgotten id costs a repeat, never a loss). Ids are remembered only once `deliver` resolved,
 * i.e. once the articles are durable: a failed append is tried again at the next poll.
 */
export interface NewsPollerOptions {
  readonly chain: SourceChain<NewsSource>;
  readonly locations: readonly string[];
  /** listed companies to search news for: the symbol, the name it is filed under, its names */
  readonly companies?: readonly {
    readonly symbol: string;
    readonly name: string;
    readonly names: readonly string[];
  }[];
  readonly keywords: readonly string[];
  readonly intervalMs: number;
  /** how far back the first poll of a place looks; default 2 days */
  readonly lookbackMs?: number;
  /** how much each poll overlaps the previous one; default 15 min */
  readonly overlapMs?: number;
  readonly maxPages?: number;
  readonly pageSize?: number;
  /** ids remembered for de-duplication; default 50,000 */
  readonly rememberIds?: number;
  /** appends the articles (and dead-letters the rejected items); resolves once durable */
  readonly deliver: (
    articles: readonly NewsArticle[],
    rejected: readonly RejectedItem[],
    source: string,
  ) => Promise<void>;
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
}

export interface NewsPollStats {
  readonly polls: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly failures: number;
  readonly lastPollAt: number | undefined;
}

export class NewsPoller {
  readonly #options: NewsPollerOptions;
  readonly #now: () => number;
  /** the ids delivered most recently, oldest forgotten first: a story the next poll sees again */
  readonly #seen: BoundedSet<string>;
  readonly #since = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  #stats = {
    polls: 0,
    delivered: 0,
    duplicates: 0,
    rejected: 0,
    failures: 0,
    lastPollAt: undefined as number | undefined,
  };

  constructor(options: NewsPollerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#seen = new BoundedSet(options.rememberIds ?? 50_000);
  }

  /** poll now, then every `intervalMs` (a poll never overlaps the previous one) */
  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.pollOnce()
        .then(() => undefined, this.#options.onError)
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, this.#options.intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  stats(): NewsPollStats {
    return { ...this.#stats };
  }

  /**
   * one pass over every place and company; one whose sources all fail is counted and tried next
   * time
   */
  async pollOnce(): Promise<void> {
    const { chain, locations, keywords } = this.#options;
    const pageSize = this.#options.pageSize ?? 50;
    const maxPages = this.#options.maxPages ?? 3;
    this.#stats.polls++;
    const subjects = [
      ...locations.map((location) => ({ key: location, location, company: undefined })),
      ...(this.#options.companies ?? []).map((c) => ({
        key: `company:${c.symbol}`,
        location: c.name,
        company: { symbol: c.symbol, names: c.names },
      })),
    ];
    for (const { key, location, company } of subjects) {
      if (this.#stopped) return;
      const startedAt = this.#now();
      const from = this.#since.get(key) ?? startedAt - (this.#options.lookbackMs ?? 2 * 86_400_000);
      try {
        for (let page: number | undefined = 1; page !== undefined && page <= maxPages; ) {
          const current: number = page;
          const { value, source } = await chain.call((s) =>
            s.search({ location, ...(company ? { company } : {}), keywords, from, page: current, pageSize }),
          );
          const fresh = value.articles.filter((a) => !this.#seen.has(a.id));
          this.#stats.duplicates += value.articles.length - fresh.length;
          if (fresh.length > 0 || value.rejected.length > 0)
            await this.#options.deliver(fresh, value.rejected, source);
          for (const article of fresh) this.#seen.add(article.id);
          this.#stats.delivered += fresh.length;
          this.#stats.rejected += value.rejected.length;
          page = value.nextPage;
        }
        this.#since.set(key, startedAt - (this.#options.overlapMs ?? 15 * 60_000));
      } catch (error) {
        this.#stats.failures++;
        this.#options.onError(error);
      }
    }
    this.#stats.lastPollAt = this.#now();
  }
}
