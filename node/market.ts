import type { Hono } from "hono";
import { lastMinuteBars, warmUpHistory } from "../actors/symbol/history-warmup.ts";
import { symbolInputOf, symbolProps } from "../actors/symbol/symbol.ts";
import type { HealthCheck } from "../api/health.ts";
import { MarketView } from "../api/markets/market-view.ts";
import { marketRoutes } from "../api/markets/routes.ts";
import { aggregateOf, RepartitionedAggregates } from "../engine/repartitioned-aggregates.ts";
import type { StopBudget } from "../engine/stop-deadline.ts";
import type { DeadLetter } from "../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { IndicatorSnapshot } from "../messages/market.ts";
import { Topics } from "../messages/topics.ts";
import type { SchemaRegistry } from "../registries/schema-registry.ts";
import { MarketOutputs } from "../sinks/market-outputs.ts";
import { AlpacaSource } from "../sources/market/alpaca/alpaca-source.ts";
import type { MarketDataSource } from "../sources/market/market-data-source.ts";
import { MarketIngest } from "../sources/market/market-ingest.ts";
import { provisionMarket } from "../sources/market/market-provisioning.ts";
import { marketStreamVerdict } from "../sources/market/market-stream-health.ts";
import { ReplaySource } from "../sources/market/replay/replay-source.ts";
import { MarketModel } from "../sources/market/simulator/market-model.ts";
import { SimulatorSource } from "../sources/market/simulator-source.ts";
import { MarketSourceChain } from "../sources/market/source-chain.ts";
import { US_LARGE_CAPS } from "../sources/reference/symbol-metadata.ts";
import { createActorSystem, InMemorySnapshotStore } from "../supervisor/index.ts";
import type { NodeConfig } from "./config.ts";
import { type NodeContext, openChangelog } from "./node-context.ts";

/**
 * A node's market data: the source chain (MARKET_SOURCES, Alpaca then replay then the simulator
 * by default) feeds the ingest (`market.trades.raw`, `market.quotes.raw`, `market.bars.raw`);
 * the symbol actors, one per symbol, single owner through the `<app>-markets` consumer group
 * over `market.trades.raw`, state in `<app>.symbol.changelog`, build bars, indicators and
 * anomalies into `market.bars.<tf>`, `market.indicators`, `market.anomalies`, the read model
 * behind /api/markets and the `bars` feed; quotes go to the `quotes` feed.
 */
export interface NodeMarket {
  readonly view: MarketView;
  readonly routes: Hono;
  readonly health: HealthCheck;
  readonly chain: MarketSourceChain;
  readonly ingest: MarketIngest;
  /** each indicator snapshot the symbol actors emit (the market model's minutes); returns the unsubscribe */
  onIndicator(listener: (snapshot: IndicatorSnapshot) => void): () => void;
  /** within the node's stop budget: past it, work not done is abandoned uncommitted */
  stop(budget?: StopBudget): Promise<void>;
}

const DEFAULT_SYMBOL_COUNT = 12;
const SYMBOL_PASSIVATE_AFTER_MS = 600_000;

export function marketSymbolsOf(config: NodeConfig): string[] {
  if (config.marketSymbols) return [...new Set(config.marketSymbols.split(","))];
  return US_LARGE_CAPS.slice(0, DEFAULT_SYMBOL_COUNT).map((listing) => listing.symbol);
}

/** the warm-up runs only where the market model can learn from it: its rooms on, minutes asked */
export function warmUpWanted(config: NodeConfig): boolean {
  return (
    config.marketModel === "on" &&
    config.models === "on" &&
    config.features === "on" &&
    config.lake === "on" &&
    config.marketModelWarmupMinutes > 0
  );
}

export async function startMarket(
  node: NodeContext,
  registry: SchemaRegistry,
): Promise<NodeMarket | undefined> {
  const { config, log, metrics, feeds, failures, partitions } = node;
  if (config.market === "off") return undefined;
  const symbols = marketSymbolsOf(config);

  const codec = await provisionMarket(log, registry, partitions);

  const deadLetters = (letter: DeadLetter, topic: string) => {
    metrics.deadLetters.inc({ source: letter.source.split(":")[0] ?? "market", code: letter.code });
    log
      .append([
        {
          topic: Topics.deadLettersOf(topic),
          key: null,
          value: new TextEncoder().encode(JSON.stringify(letter)),
        },
      ])
      .catch(failures.logUnavailable);
  };
  const counted = (topic: string, n: number) => metrics.messagesByTopic.inc({ topic, direction: "out" }, n);
  const view = new MarketView({ maxBars: 2000, maxSymbols: Math.max(1000, symbols.length) });
  const ingest = new MarketIngest({
    log,
    encode: codec.frameValidated,
    onDeadLetter: deadLetters,
    onAppended: counted,
    onError: failures.logUnavailable,
  });

  const snapshots = new InMemorySnapshotStore();
  const system = createActorSystem({ name: "market", snapshots });
  system.events.subscribe((event) => {
    feeds.publish("supervisor", event);
    if (event.type === "supervision")
      metrics.restarts.inc({ decision: event.decision, strategy: event.strategy });
  });
  const indicatorListeners = new Set<(snapshot: IndicatorSnapshot) => void>();
  const outputs = new MarketOutputs({
    log,
    encode: codec.frameValidated,
    live: {
      bar: (bar) => {
        view.bar(bar);
        feeds.publish("bars", bar);
      },
      indicator: (snapshot) => {
        view.indicator(snapshot);
        for (const listener of indicatorListeners) listener(snapshot);
      },
      anomaly: (anomaly) =>
        metrics.marketEvents.inc({ kind: `anomaly:${anomaly.kind}`, outcome: "detected" }),
    },
    onAppended: counted,
    onError: failures.logUnavailable,
  });
  const engine: RepartitionedAggregates = new RepartitionedAggregates({
    log,
    groupId: `${config.applicationId}-markets`,
    partitions,
    system,
    snapshots,
    commitIntervalMs: config.commitIntervalMs,
    aggregates: [
      aggregateOf({
        topic: Topics.marketTradesRaw,
        kind: "symbol",
        store: await openChangelog(node, "symbol", { partitions, restoreConcurrency: 2 }),
        decode: codec.decode,
        input: symbolInputOf,
        wake: { type: "tick" },
      }),
    ],
    flushOutputs: () => outputs.flush(),
    onDeadLetter: deadLetters,
    onTransientError: failures.retrying,
    onError: failures.fail,
    now: Date.now,
  });
  system.register(
    symbolProps({
      onBar: (bar) => outputs.bar(bar),
      onIndicators: (snapshot) => outputs.indicator(snapshot),
      onAnomaly: (anomaly) => outputs.anomaly(anomaly),
      onLate: (symbol) => metrics.lateRecords.inc({ stream: `market:${symbol}` }),
      onState: (key, state) => engine.saveState("symbol", key, state),
      latenessMs: 2000,
      idleCloseMs: 5000,
      tickMs: 1000,
      passivateAfterMs: SYMBOL_PASSIVATE_AFTER_MS,
      now: Date.now,
    }),
  );
  await engine.start();

  const model = new MarketModel({
    seed: config.seed,
    hours: config.marketSimHours,
    tradesPerMinute: config.marketSimTradesPerMinute,
  });
  const sources = config.marketSources.split(",").map((name) => marketSourceOf(name, node, model));
  // a fresh node's market model needs minutes to learn from: recent history, ahead of the live feed
  const warmUp = async (lastMinutes: Map<string, number>) => {
    if (!warmUpWanted(config)) return lastMinutes;
    try {
      return await warmUpHistory({
        ...{ sources, symbols, lastMinutes, minutes: config.marketModelWarmupMinutes, now: Date.now() },
        bar: (bar) => ingest.bar(bar),
      });
    } catch (error) {
      // the model then waits for live minutes; the market streams all the same
      failures.logUnavailable(error);
      return lastMinutes;
    }
  };
  const reportStates = () => {
    for (const h of chain.health())
      for (const state of ["active", "standby", "failed", "unauthorized"] as const)
        metrics.marketSourceState.set({ source: h.name, state }, h.state === state ? 1 : 0);
  };
  const chain = new MarketSourceChain({
    sources,
    symbols,
    lastMinutes: await warmUp(await lastMinuteBars(log, codec, symbols)),
    failbackEveryMs: config.marketFailbackMs,
    events: {
      trade: (trade) => ingest.trade(trade),
      quote: (quote) => {
        ingest.quote(quote);
        view.quote(quote);
        feeds.publish("quotes", quote);
      },
      bar: (bar) => {
        ingest.bar(bar);
        if (bar.source.startsWith("backfill:")) view.bar(bar);
      },
      handover: ({ from, to, reason }) => {
        console.log(`market: now streaming from ${to}${from ? ` (was ${from}: ${reason})` : ""}`);
        metrics.marketHandovers.inc({ to, reason: reason.split(":")[0] ?? reason });
        reportStates();
      },
      backfilled: ({ source, bars }) => metrics.marketEvents.inc({ kind: "backfill", outcome: source }, bars),
      onError: (error) =>
        console.warn(`market: ${error instanceof PlatformError ? error.message : "source chain error"}`),
    },
  });
  await chain.start();
  reportStates();

  const health: HealthCheck = {
    name: "market",
    check(now) {
      reportStates();
      return marketStreamVerdict(chain, now, { simulatorAlwaysOpen: config.marketSimHours === "always" });
    },
  };

  return {
    view,
    routes: marketRoutes({ view, sources: () => chain.health() }),
    health,
    chain,
    ingest,
    onIndicator(listener) {
      indicatorListeners.add(listener);
      return () => indicatorListeners.delete(listener);
    },
    async stop(budget) {
      await chain.stop();
      await ingest.flush().catch(failures.logUnavailable);
      const forWork = () => Math.min(10_000, budget?.forWorkMs() ?? 10_000);
      // a system still busy past its share of the stop is left: what it did not process is uncommitted
      await system.drain(forWork()).catch(failures.stopIncomplete);
      await engine.stop(budget).catch(failures.stopIncomplete);
      await outputs.flush().catch(failures.logUnavailable);
      await system.stop(budget ? forWork() : undefined);
    },
  };
}

function marketSourceOf(name: string, node: NodeContext, model: MarketModel): MarketDataSource {
  const { config } = node;
  switch (name) {
    case "alpaca":
      return new AlpacaSource({
        ...(config.alpacaKeyId ? { keyId: config.alpacaKeyId } : {}),
        ...(config.alpacaSecretKey ? { secret: config.alpacaSecretKey } : {}),
        ...(config.alpacaDataUrl ? { dataUrl: config.alpacaDataUrl } : {}),
        ...(config.alpacaStreamUrl ? { streamUrl: config.alpacaStreamUrl } : {}),
        feed: config.alpacaFeed,
      });
    case "replay":
      return new ReplaySource({ log: node.log, decode: node.codec.decode });
    case "simulator":
      return new SimulatorSource(model);
    default:
      throw new PlatformError(ErrorCodes.CONFIG_INVALID, `unknown market source '${name}'`);
  }
}
