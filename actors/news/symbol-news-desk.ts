import type { SymbolMention, SymbolSentiment } from "../../messages/news.ts";
import type { Props } from "../../supervisor/actor.ts";
import {
  copySentiment,
  freshSentiment,
  type RollingSentiment,
  rememberArticle,
  rollSentiment,
} from "./rolling-sentiment.ts";

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
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" }
  | { readonly type: "wake" };

export type SymbolNewsState = RollingSentiment;

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
  const remember = deps.rememberIds ?? 1_000;
  return {
    kind: "symbol-news",
    mailbox: { capacity: 10_000, overflow: "backpressure" },
    passivateAfterMs: deps.passivateAfterMs,
    toSnapshot: copySentiment,
    initialState: (_key, snapshot) => (snapshot ? copySentiment(snapshot) : freshSentiment()),
    receive(ctx, message) {
      const state = ctx.state;
      switch (message.type) {
        case "checkpoint":
          deps.onState(ctx.key, copySentiment(state));
          return;
        case "evict":
          ctx.stop();
          return;
        case "wake":
          return;
        case "mention":
          break;
      }
      if (message.offset <= state.lastOffset) return; // replayed from the topic
      state.lastOffset = message.offset;
      const { mention } = message;
      if (!rememberArticle(state, mention.article_id, remember)) return; // the same article again
      const sentiment = rollSentiment(state, mention.score, mention.published_at, weight);
      deps.onSentiment({
        symbol: ctx.key,
        articles: state.articles,
        sentiment,
        last_article_at: state.lastArticleAt ?? mention.published_at,
        at: deps.now(),
      });
    },
  };
}
