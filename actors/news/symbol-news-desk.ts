import { type NewsInsight, SymbolMention, type SymbolSentiment } from "../../messages/news.ts";
import type { Props } from "../../supervisor/actor.ts";
import { type RollingSentiment, rollSentiment } from "./rolling-sentiment.ts";
import { type DeskControl, parseDeskInput, sentimentDeskProps } from "./sentiment-desk.ts";

/**
 * symbol-news/<SYMBOL>: the news desk of one listed company. It reads no article itself: the
 * place and company desks read each article once and name the symbols it is about; every
 * (article, symbol) pair is re-keyed by symbol (`<app>-symbol-news-repartition`, Kafka Streams'
 * re-key) and reaches this desk, which keeps the company's rolling sentiment (the same
 * exponentially weighted mean as a place's) and publishes it after every article, as a feature.
 *
 * One owner in the application, on the news engine beside the place desks: a mention replayed
 * after a crash is skipped by offset, and the same article reaching the symbol twice (found by a
 * place search and by the company search, read by two desks) counts once, by its id.
 */
export type SymbolNewsMessage =
  | { readonly type: "mention"; readonly mention: SymbolMention; readonly offset: number }
  | DeskControl;

export type SymbolNewsState = RollingSentiment;

/** the (article, symbol) pairs an insight names: each is re-keyed by symbol to its desk */
export function mentionsOf(insight: NewsInsight): SymbolMention[] {
  return (insight.symbols ?? []).map((symbol) => ({
    symbol,
    article_id: insight.article_id,
    title: insight.title,
    published_at: insight.published_at,
    score: insight.sentiment.score,
    reader: insight.reader,
  }));
}

/** a record of the symbol-news repartition topic as the desk's message */
export function symbolNewsInputOf(value: unknown, offset: number): SymbolNewsMessage {
  return { type: "mention", mention: parseDeskInput(SymbolMention, "a symbol mention", value), offset };
}

export interface SymbolNewsDeps {
  readonly onSentiment: (sentiment: SymbolSentiment) => void;
  readonly onState: (key: string, state: SymbolNewsState) => void;
  readonly now: () => number;
  readonly passivateAfterMs: number;
  /** weight of the newest article in the rolling sentiment; default 0.2 */
  readonly sentimentWeight?: number;
  /** how many article ids a desk remembers for de-duplication; default 1,000 */
  readonly rememberIds?: number;
}

export function symbolNewsDeskProps(deps: SymbolNewsDeps): Props<SymbolNewsMessage, SymbolNewsState> {
  const weight = deps.sentimentWeight ?? 0.2;
  return sentimentDeskProps<Extract<SymbolNewsMessage, { type: "mention" }>>({
    kind: "symbol-news",
    onState: deps.onState,
    passivateAfterMs: deps.passivateAfterMs,
    ...(deps.rememberIds !== undefined ? { rememberIds: deps.rememberIds } : {}),
    articleIdOf: (item) => item.mention.article_id,
    take(key, state, { mention }) {
      const sentiment = rollSentiment(state, mention.score, mention.published_at, weight);
      deps.onSentiment({
        symbol: key,
        articles: state.articles,
        sentiment,
        last_article_at: state.lastArticleAt ?? mention.published_at,
        at: deps.now(),
      });
    },
  });
}
