import { type LocationSentiment, NewsArticle, type NewsInsight } from "../../messages/news.ts";
import type { ArticleReader } from "../../sources/news/reader/article-reader.ts";
import type { Props } from "../../supervisor/actor.ts";
import { type RollingSentiment, rollSentiment } from "./rolling-sentiment.ts";
import { type DeskControl, parseDeskInput, sentimentDeskProps } from "./sentiment-desk.ts";

/**
 * news/<location>: the news desk of one place. It reads each new article of its place once
 * (through the ArticleReader port: Gemini with the local reader behind it), publishes the
 * insight, and keeps the place's rolling sentiment, an exponentially weighted mean over its
 * articles in the order they arrive, published after every article as a feature.
 *
 * An article searched for a company (it carries `symbol`) is read by the desk of the company's
 * name the same way; its insight names the symbols it is about, which the symbol desks take up
 * (symbol-news-desk.ts), and no place sentiment moves, as a company is not a place.
 *
 * One owner in the application: articles reach it through `news.articles.raw` keyed by place,
 * whose partitions the news consumer group divides among nodes (engine/repartitioned-aggregates.ts).
 * A record replayed after a crash is skipped by offset; the same story found again (another
 * poll, another source) is skipped by its article id, remembered for the last `rememberIds`
 * articles. Reading is I/O: the mailbox awaits it, so a slow model slows only its own place.
 */
export type NewsDeskMessage =
  | { readonly type: "article"; readonly article: NewsArticle; readonly offset: number }
  | DeskControl;

export type NewsDeskState = RollingSentiment;

/** a record of `news.articles.raw` as the desk's message */
export function newsDeskInputOf(value: unknown, offset: number): NewsDeskMessage {
  return { type: "article", article: parseDeskInput(NewsArticle, "a news article", value), offset };
}

export interface NewsDeskDeps {
  readonly reader: ArticleReader;
  readonly onInsight: (insight: NewsInsight) => void;
  readonly onSentiment: (sentiment: LocationSentiment) => void;
  /** an article no reader could read: a dead letter with the reason */
  readonly onUnreadable: (article: NewsArticle, reason: string) => void;
  readonly onState: (key: string, state: NewsDeskState) => void;
  readonly now: () => number;
  readonly passivateAfterMs: number;
  /** weight of the newest article in the rolling sentiment; default 0.2 */
  readonly sentimentWeight?: number;
  /** how many article ids a desk remembers for de-duplication; default 1,000 */
  readonly rememberIds?: number;
}

export function newsDeskProps(deps: NewsDeskDeps): Props<NewsDeskMessage, NewsDeskState> {
  const weight = deps.sentimentWeight ?? 0.2;
  return sentimentDeskProps<Extract<NewsDeskMessage, { type: "article" }>>({
    kind: "news",
    onState: deps.onState,
    passivateAfterMs: deps.passivateAfterMs,
    ...(deps.rememberIds !== undefined ? { rememberIds: deps.rememberIds } : {}),
    articleIdOf: (item) => item.article.id,
    async take(key, state, { article }) {
      let answer: Awaited<ReturnType<ArticleReader["read"]>>;
      try {
        answer = await deps.reader.read(article);
      } catch (error) {
        deps.onUnreadable(article, error instanceof Error ? error.message : String(error));
        return;
      }
      const now = deps.now();
      deps.onInsight({
        ...answer.reading,
        article_id: article.id,
        url: article.url,
        title: article.title,
        location: key,
        published_at: article.published_at,
        reader: answer.reader,
        model: answer.model,
        follow_up_queries: [...answer.followUpQueries],
        tokens: answer.tokens,
        fallback_reason: answer.fallbackReason,
        created_at: now,
      });
      if (article.symbol !== undefined) return; // a company's article: no place moved
      const sentiment = rollSentiment(state, answer.reading.sentiment.score, article.published_at, weight);
      deps.onSentiment({
        location: key,
        articles: state.articles,
        sentiment,
        last_article_at: state.lastArticleAt ?? article.published_at,
        at: now,
      });
    },
  });
}
