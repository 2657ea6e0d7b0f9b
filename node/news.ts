import type { Hono } from "hono";
import { newsDeskInputOf, newsDeskProps } from "../actors/news/news-desk.ts";
import { mentionsOf, symbolNewsDeskProps, symbolNewsInputOf } from "../actors/news/symbol-news-desk.ts";
import type { HealthCheck } from "../api/health.ts";
import { NewsView } from "../api/news/news-view.ts";
import { newsRoutes } from "../api/news/routes.ts";
import { aggregateOf, RepartitionedAggregates } from "../engine/repartitioned-aggregates.ts";
import type { StopBudget } from "../engine/stop-deadline.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { LocationSentiment, NewsInsight } from "../messages/news.ts";
import { Topics } from "../messages/topics.ts";
import { SymbolNewsOutputs } from "../sinks/symbol-news-outputs.ts";
import { gdeltSource } from "../sources/news/gdelt.ts";
import { followUpSearch, newsChainVerdict } from "../sources/news/news-chain.ts";
import { newsDelivery } from "../sources/news/news-delivery.ts";
import { NewsPoller } from "../sources/news/news-poller.ts";
import type { NewsSource } from "../sources/news/news-source.ts";
import { newsApiSource } from "../sources/news/newsapi.ts";
import { CompanyDirectory } from "../sources/news/reader/company-directory.ts";
import { fallbackReader } from "../sources/news/reader/fallback-reader.ts";
import { Gazetteer } from "../sources/news/reader/gazetteer.ts";
import { geminiReader } from "../sources/news/reader/gemini-reader.ts";
import { localReader } from "../sources/news/reader/local-reader.ts";
import { replayCorpusSource } from "../sources/news/replay-corpus.ts";
import { BERLIN_GRID } from "../sources/reference/city-districts.ts";
import { US_LARGE_CAPS } from "../sources/reference/symbol-metadata.ts";
import { SourceChain, type SourceChainEvent } from "../sources/source-chain.ts";
import { createActorSystem, InMemorySnapshotStore } from "../supervisor/index.ts";
import { marketSymbolsOf } from "./market.ts";
import { type NodeContext, openChangelog } from "./node-context.ts";

/**
 * A node's news: the poller asks the news chain (NEWS_SOURCES, NewsAPI then the replay corpus by
 * default) about every place and every company the market room follows (MARKET_SYMBOLS, by the
 * names in the symbol metadata) and appends new articles to `news.articles.raw`, keyed by the
 * place or company name; the news desks (one actor per name, single owner through the
 * `<app>-news` consumer group, state in `<app>.news.changelog`) read each article once with
 * Gemini, or the local reader behind it, and emit insights and the place's rolling sentiment
 * through the output router. Each (article, symbol it is about) is re-keyed by symbol to the
 * symbol news desks (`symbol-news/<SYMBOL>`, the same engine, state in
 * `<app>.symbol-news.changelog`), which publish the company's rolling sentiment to
 * `news.symbol-sentiment`.
 */
export const NEWS_PARTITIONS = 3;

export interface NewsOutputs {
  newsInsight(insight: NewsInsight): void;
  locationSentiment(sentiment: LocationSentiment): void;
  deadLetter(letter: DeadLetter, sourceKind: string, topic?: string): void;
  flush(): Promise<void>;
}

export interface NodeNews {
  readonly view: NewsView;
  readonly routes: Hono;
  readonly health: HealthCheck;
  /** poll every place once now (tests and drills) */
  pollOnce(): Promise<void>;
  /** within the node's stop budget: past it, work not done is abandoned uncommitted */
  stop(budget?: StopBudget): Promise<void>;
}

export async function startNews(node: NodeContext, outputs: NewsOutputs): Promise<NodeNews | undefined> {
  const { config, log, codec, metrics, failures, feeds } = node;
  if (config.news === "off") return undefined;
  const districts = BERLIN_GRID.names.flat();
  const gazetteer = new Gazetteer(districts);
  const companies = new CompanyDirectory(US_LARGE_CAPS);
  // the companies followed are the market's symbols that the directory has names for
  const followed = marketSymbolsOf(config).flatMap((symbol) => companies.company(symbol) ?? []);
  const locations = config.newsLocations
    ? config.newsLocations
        .split(",")
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
    : districts;
  const keywords = config.newsKeywords
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);

  const STATES = ["active", "standby", "resting"] as const;
  const reportStates = () => {
    const readers = reader.health().map((r) => ({ ...r, name: `reader:${r.name}` }));
    for (const h of [...chain.health(), ...readers])
      for (const state of STATES)
        metrics.newsSourceState.set({ source: h.name, state }, h.state === state ? 1 : 0);
  };
  const onChange = (event: SourceChainEvent) => {
    if (event.type === "switched") console.log(`news: now reading from ${event.to}`);
    else console.warn(`news: ${event.source} rests ${Math.round(event.restMs / 1000)} s (${event.reason})`);
  };
  const chain = new SourceChain<NewsSource>(
    config.newsSources.split(",").map((name) => newsSourceOf(name, node, districts)),
    { onChange },
  );
  // a follow-up search that finds nothing leaves the model with what it has
  const search = followUpSearch(chain, (error) =>
    console.warn(`news: follow-up search failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  const reader = fallbackReader(
    config.geminiApiKey
      ? geminiReader({
          apiKey: config.geminiApiKey,
          model: config.geminiModel,
          ...(config.geminiBaseUrl ? { baseUrl: config.geminiBaseUrl } : {}),
          gazetteer,
          companies,
          search,
        })
      : undefined,
    localReader(gazetteer, companies),
    { onChange },
  );

  for (const topic of [
    Topics.newsArticlesRaw,
    Topics.newsInsights,
    Topics.newsSentiment,
    Topics.newsSymbolSentiment,
    // where the news engine's undecodable records go (onDeadLetter below)
    Topics.deadLettersOf(Topics.newsArticlesRaw),
    Topics.deadLettersOf(Topics.repartitionOf(config.applicationId, "symbol-news")),
  ])
    await log.createTopic({ name: topic, partitions: NEWS_PARTITIONS });
  const mentionsTopic = Topics.repartitionOf(config.applicationId, "symbol-news");
  const symbolOutputs = new SymbolNewsOutputs({
    log,
    mentionsTopic,
    encode: codec.encode,
    live: (sentiment) => feeds.publish("news", { type: "symbol-sentiment", sentiment }),
    onError: failures.logUnavailable,
  });
  const view = new NewsView();
  const snapshots = new InMemorySnapshotStore();
  const system = createActorSystem({ name: "news", snapshots });
  system.events.subscribe((event) => {
    if (event.type === "supervision")
      metrics.restarts.inc({ decision: event.decision, strategy: event.strategy });
  });
  let engine: RepartitionedAggregates | undefined;
  system.register(
    newsDeskProps({
      reader,
      onInsight: (insight) => {
        view.insight(insight);
        metrics.newsReadings.inc({
          reader: insight.reader,
          fallback: String(insight.fallback_reason !== null),
        });
        outputs.newsInsight(insight);
        for (const mention of mentionsOf(insight)) symbolOutputs.mention(mention, insight.created_at);
      },
      onSentiment: (sentiment) => {
        view.sentiment(sentiment);
        outputs.locationSentiment(sentiment);
      },
      onUnreadable: (article, reason) =>
        outputs.deadLetter(
          deadLetter(
            `actor:news/${article.location}`,
            ErrorCodes.ACTOR_FAILED,
            reason,
            JSON.stringify(article),
          ),
          "news",
        ),
      onState: (key, state) => engine?.saveState("news", key, state),
      now: Date.now,
      passivateAfterMs: config.sensorIdleMs,
    }),
  );
  system.register(
    symbolNewsDeskProps({
      onSentiment: (sentiment) => symbolOutputs.symbolSentiment(sentiment),
      onState: (key, state) => engine?.saveState("symbol-news", key, state),
      now: Date.now,
      passivateAfterMs: config.sensorIdleMs,
    }),
  );
  engine = new RepartitionedAggregates({
    log,
    groupId: `${config.applicationId}-news`,
    partitions: NEWS_PARTITIONS,
    system,
    snapshots,
    commitIntervalMs: config.commitIntervalMs,
    aggregates: [
      aggregateOf({
        topic: Topics.newsArticlesRaw,
        kind: "news",
        store: await openChangelog(node, "news", { partitions: NEWS_PARTITIONS }),
        decode: codec.decode,
        input: newsDeskInputOf,
        wake: { type: "wake" },
      }),
      aggregateOf({
        topic: mentionsTopic,
        kind: "symbol-news",
        store: await openChangelog(node, "symbol-news", { partitions: NEWS_PARTITIONS }),
        decode: codec.decode,
        input: symbolNewsInputOf,
        wake: { type: "wake" },
      }),
    ],
    onDeadLetter: (letter, topic) => outputs.deadLetter(letter, "log", Topics.deadLettersOf(topic)),
    onTransientError: failures.retrying,
    onError: failures.fail,
    // the place desks' insights and sentiments, and the mentions they re-keyed
    flushOutputs: async () => {
      await Promise.all([outputs.flush(), symbolOutputs.flush()]);
    },
    now: Date.now,
  });
  await engine.start();

  const deliver = newsDelivery({
    log,
    encode: codec.encode,
    rejects: outputs,
    onDelivered: (source, articles) => metrics.newsArticles.inc({ source }, articles),
  });
  const poller = new NewsPoller({
    chain,
    locations,
    companies: followed.map((c) => ({ symbol: c.symbol, name: c.searchTerms[0]!, names: c.searchTerms })),
    keywords,
    intervalMs: config.newsPollMs,
    deliver,
    onError: (error) => {
      // every source failing is a source problem, not the node's: said, and tried next poll
      console.warn(`news: ${error instanceof Error ? error.message : String(error)}`);
      reportStates();
    },
  });
  poller.start();

  return {
    view,
    routes: newsRoutes({
      view,
      sources: () => ({
        sources: chain.health(),
        readers: reader.health(),
        poll: poller.stats(),
        cache: reader.stats(),
      }),
    }),
    health: {
      name: "news",
      check: () => {
        reportStates();
        return newsChainVerdict(chain);
      },
    },
    pollOnce: () => poller.pollOnce(),
    async stop(budget) {
      await poller.stop();
      await engine?.stop(budget).catch(failures.stopIncomplete);
      await symbolOutputs.flush().catch(failures.logUnavailable);
      await system.stop(budget ? Math.min(5_000, budget.forWorkMs()) : undefined);
    },
  };
}

function newsSourceOf(name: string, { config }: NodeContext, districts: readonly string[]): NewsSource {
  switch (name) {
    case "newsapi":
      return newsApiSource({
        apiKey: config.newsapiKey,
        ...(config.newsapiUrl ? { baseUrl: config.newsapiUrl } : {}),
      });
    case "gdelt":
      return gdeltSource(config.gdeltUrl ? { baseUrl: config.gdeltUrl } : {});
    case "replay":
      return replayCorpusSource({ districts, companies: new CompanyDirectory(US_LARGE_CAPS).companies });
    default:
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `unknown news source '${name}' in NEWS_SOURCES`);
  }
}
