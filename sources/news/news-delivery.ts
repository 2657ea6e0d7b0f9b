import type { Log } from "../../log/log.ts";
import { type DeadLetter, deadLetter } from "../../messages/dead-letter.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import type { NewsArticle } from "../../messages/news.ts";
import { Topics } from "../../messages/topics.ts";
import type { RejectedItem } from "./news-source.ts";

/**
 * Where the news poller's finds go: each new article is appended to `news.articles.raw`, keyed by
 * the place or company it was searched for (so one news desk reads it) and stamped with its
 * publication time; each item a provider sent that is not an article becomes a dead letter with
 * the reason. The delivery resolves only once both are durable, so the poller remembers an
 * article's id only after it is in the log and tries a failed append again at its next poll.
 */
export interface NewsDeliveryDeps {
  readonly log: Log;
  readonly encode: (topic: string, value: unknown) => Promise<Uint8Array> | Uint8Array;
  /** the dead letters of the rejected items; `flush` makes them durable */
  readonly rejects: {
    deadLetter(letter: DeadLetter, sourceKind: string): void;
    flush(): Promise<void>;
  };
  /** articles appended from a source */
  readonly onDelivered?: (source: string, articles: number) => void;
}

export type NewsDelivery = (
  articles: readonly NewsArticle[],
  rejected: readonly RejectedItem[],
  source: string,
) => Promise<void>;

export function newsDelivery(deps: NewsDeliveryDeps): NewsDelivery {
  const { log, encode, rejects } = deps;
  return async (articles, rejected, source) => {
    const records = await Promise.all(
      articles.map(async (article) => ({
        topic: Topics.newsArticlesRaw,
        key: article.location,
        value: await encode(Topics.newsArticlesRaw, article),
        timestamp: Date.parse(article.published_at),
      })),
    );
    if (records.length > 0) await log.append(records);
    deps.onDelivered?.(source, articles.length);
    for (const item of rejected)
      rejects.deadLetter(
        deadLetter(`news:${source}`, ErrorCodes.SCHEMA_VIOLATION, item.reason, item.raw),
        "news",
      );
    if (rejected.length > 0) await rejects.flush();
  };
}
