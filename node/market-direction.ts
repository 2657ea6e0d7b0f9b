import { Gauge } from "prom-client";
import { RetrainCoordinator } from "../actors/retrain/retrain-coordinator.ts";
import { DEFAULT_RETRAIN_POLICY, type RetrainPolicy } from "../actors/retrain/retrain-policy.ts";
import type { ProducerRecord } from "../log/log.ts";
import type { IndicatorSnapshot } from "../messages/market.ts";
import type { ModelOutcome } from "../messages/prediction.ts";
import { Topics } from "../messages/topics.ts";
import { directionFeatures, directionLabel, MARKET_DIRECTION } from "../ml/market/direction-features.ts";
import { DirectionTrainingSource } from "../ml/market/direction-training-source.ts";
import { LiveClassification } from "../ml/monitoring/live-classification.ts";
import type { NodeFeatures } from "./features.ts";
import type { NodeMarket } from "./market.ts";
import { type NodeModels, restoreServing } from "./models.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The market room's model (MARKET_MODEL=off turns it off): the direction of each symbol's next
 * minute, a log-loss gradient-boosted classifier on the models room's serving, registry and
 * tracking, with a retraining loop of its own whose training source is the feature store
 * (`ml/market/direction-training-source.ts`).
 *
 * Every closed minute of a symbol (its indicator snapshot from the symbol actor) is first the
 * label of the forecast made one minute before (up or not), then the input of the forecast for
 * the next minute. Labels and forecasts are applied in one serial queue, forecasts of a batch
 * before its labels and after the shadows scored them, so a burst of back-filled minutes labels
 * each forecast, the shadow's included, as a live minute would. Each version's live precision,
 * recall, F1 and AUC (recent outcomes) go to /metrics and, every 10 s, to the `models` feed.
 */
export interface NodeMarketDirection {
  stop(): Promise<void>;
}

const MINUTE = 60_000;
const TICK_MS = 10_000;
const FIRST_TRAINING_RETRY_MS = 15_000;
/** symbols whose last minute is kept for labels; a market streams hundreds, not this many */
const MAX_SYMBOLS = 10_000;

export const MARKET_DIRECTION_POLICY: RetrainPolicy = {
  ...DEFAULT_RETRAIN_POLICY,
  experiment: MARKET_DIRECTION,
  learner: {
    kind: "gradient-boosting",
    params: {
      loss: "log-loss",
      nTrees: 100,
      maxDepth: 4,
      learningRate: 0.05,
      minSamplesLeaf: 40,
      maxBins: 64,
      subsample: 0.8,
    },
  },
  // a challenger is judged on log loss, a proper score for probabilities (see PairedComparison)
  comparison: { ...DEFAULT_RETRAIN_POLICY.comparison, score: "log-loss" },
  triggers: {
    ...DEFAULT_RETRAIN_POLICY.triggers,
    // a direction forecast's absolute error is |p - y|, about 0.5 for a coin: a drop shows early
    performanceRatio: 1.15,
    postChangeLabels: 300,
  },
};

export async function startMarketDirection(
  node: NodeContext,
  rooms: { readonly market: NodeMarket; readonly models: NodeModels; readonly features: NodeFeatures },
): Promise<NodeMarketDirection | undefined> {
  const { config, log, codec, metrics, feeds, failures } = node;
  if (config.marketModel === "off") return undefined;
  const { market, models, features } = rooms;
  const serving = models.serving;
  const source = new DirectionTrainingSource(features.store, {
    minRows: Math.ceil(config.marketModelFirstTrainingRows / 2),
  });
  const loop = new RetrainCoordinator({
    serving,
    registry: models.registry,
    tracking: models.tracking,
    source,
    now: Date.now,
    onEvent: models.onEvent,
  });
  loop.manage(MARKET_DIRECTION, MARKET_DIRECTION_POLICY);
  models.addLoop(MARKET_DIRECTION, loop);
  await restoreServing(serving, models.registry, MARKET_DIRECTION);
  await loop.resume(MARKET_DIRECTION);

  const quality = new Map<string, LiveClassification>();
  let outcomes: ModelOutcome[] = [];
  serving.onOutcome((outcome) => {
    if (outcome.model !== MARKET_DIRECTION) return;
    outcomes.push({
      outcome_id: `${outcome.model}|${outcome.key}|${outcome.at}`,
      model: outcome.model,
      key: outcome.key,
      at: outcome.at,
      served_version: outcome.served,
      value: outcome.values.get(outcome.served)!,
      actual: outcome.actual,
      values: Object.fromEntries(outcome.values),
      labelled_at: Date.now(),
    });
    for (const [version, probability] of outcome.values) {
      const live = quality.get(version) ?? new LiveClassification();
      quality.set(version, live);
      live.observe(probability, outcome.actual);
    }
  });

  const lastMinute = new Map<string, { start: number; close: number }>();
  let pending: {
    labels: [string, number, 0 | 1][];
    rows: { key: string; at: number; features: number[] }[];
  } = { labels: [], rows: [] };
  let work: Promise<void> = Promise.resolve();
  let scheduled = false;
  let forecastFailures = 0;
  let lastFirstTrigger = 0;
  let checkingFirst = false;

  const flush = async () => {
    scheduled = false;
    const { labels, rows } = pending;
    pending = { labels: [], rows: [] };
    if (rows.length > 0) {
      try {
        await serving.predict(MARKET_DIRECTION, { rows });
        await serving.settled();
      } catch (error) {
        // a forecast that failed is counted; its minute goes unlabelled, the next ones go on
        forecastFailures += rows.length;
        failures.logUnavailable(error);
      }
    }
    for (const [symbol, at, up] of labels) serving.label(MARKET_DIRECTION, symbol, at, up);
    await storeOutcomes();
  };

  /** the labelled forecasts to `ml.outcomes`, keyed by symbol: the stored record of the live error */
  const storeOutcomes = async () => {
    if (outcomes.length === 0) return;
    const batch = outcomes;
    outcomes = [];
    try {
      const records: ProducerRecord[] = [];
      for (const outcome of batch)
        records.push({
          topic: Topics.outcomes,
          key: outcome.key,
          value: await codec.encode(Topics.outcomes, outcome),
          timestamp: outcome.at,
        });
      await log.append(records);
    } catch (error) {
      // the live figures already counted them; a log that is down loses only their record
      failures.logUnavailable(error);
    }
  };

  const observe = (snapshot: IndicatorSnapshot) => {
    if (snapshot.timeframe !== "1m") return;
    const before = lastMinute.get(snapshot.symbol);
    // a minute older than the one already seen (a revision, a replay) is neither label nor input
    if (before && snapshot.bar_start <= before.start) return;
    const consecutive = before?.start === snapshot.bar_start - MINUTE ? before : undefined;
    lastMinute.delete(snapshot.symbol);
    lastMinute.set(snapshot.symbol, { start: snapshot.bar_start, close: snapshot.close });
    if (lastMinute.size > MAX_SYMBOLS) lastMinute.delete(lastMinute.keys().next().value!);
    if (serving.policyOf(MARKET_DIRECTION) === undefined) return;
    if (consecutive)
      pending.labels.push([
        snapshot.symbol,
        snapshot.bar_start,
        directionLabel(consecutive.close, snapshot.close),
      ]);
    pending.rows.push({
      key: snapshot.symbol,
      at: snapshot.bar_start + MINUTE,
      features: directionFeatures(snapshot, consecutive?.close),
    });
    if (!scheduled) {
      scheduled = true;
      // the minutes of one close (every symbol at once) or of a back-fill go as one batch
      work = work.then(() => new Promise((resolve) => setTimeout(resolve, 50))).then(flush);
    }
  };

  /**
   * No version yet: train once the offline store holds enough minutes. The lake is asked, not
   * the minutes this room saw: the warm-up's minutes reach the lake before this room listens,
   * and a restarted node's lake already holds what the last run saw.
   */
  const firstTraining = async () => {
    const now = Date.now();
    if (
      checkingFirst ||
      serving.policyOf(MARKET_DIRECTION) !== undefined ||
      loop.stageOf(MARKET_DIRECTION) !== "idle" ||
      now - lastFirstTrigger < FIRST_TRAINING_RETRY_MS
    )
      return;
    checkingFirst = true;
    try {
      const rows = await source.rowsAvailable();
      if (rows < config.marketModelFirstTrainingRows) return;
      lastFirstTrigger = now;
      loop.trigger(MARKET_DIRECTION, `first training: ${rows} indicator rows in the offline store`, "node");
    } finally {
      checkingFirst = false;
    }
  };
  const unsubscribe = market.onIndicator(observe);

  let driftedBefore = false;
  const tick = setInterval(() => {
    loop.tick();
    if (serving.policyOf(MARKET_DIRECTION) === undefined) {
      firstTraining().catch(failures.logUnavailable);
      return;
    }
    const drift = serving.driftOf(MARKET_DIRECTION);
    const drifted = drift?.features.filter((f) => f.drifted).map((f) => f.name) ?? [];
    if (drifted.length > 0 && !driftedBefore)
      loop.trigger(
        MARKET_DIRECTION,
        `data drift on ${drifted.join(", ")} (KS and PSI against version ${drift!.version}'s training reference)`,
        "monitor",
        MARKET_DIRECTION_POLICY.triggers.postChangeLabels ?? 0,
      );
    driftedBefore = drifted.length > 0;
    const served = new Set(serving.statsOf(MARKET_DIRECTION).keys());
    for (const [version, live] of quality) {
      // versions no longer served keep no figures: memory follows what serves
      if (!served.has(version)) {
        quality.delete(version);
        continue;
      }
      feeds.publish("models", {
        type: "live-classification",
        model: MARKET_DIRECTION,
        version,
        at: Date.now(),
        ...finite(live.snapshot()),
      });
    }
  }, TICK_MS);

  const perVersion = (
    name: string,
    help: string,
    read: (s: ReturnType<LiveClassification["snapshot"]>) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["model", "version"],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const [version, live] of quality) {
          const value = read(live.snapshot());
          if (Number.isFinite(value)) this.set({ model: MARKET_DIRECTION, version }, value);
        }
      },
    });
  perVersion(
    "platform_model_live_precision",
    "A classifier version's precision (P(1) >= 0.5) over its recent labelled outcomes",
    (s) => s.recentPrecision,
  );
  perVersion(
    "platform_model_live_recall",
    "A classifier version's recall over its recent labelled outcomes",
    (s) => s.recentRecall,
  );
  perVersion(
    "platform_model_live_f1",
    "A classifier version's F1 over its recent labelled outcomes",
    (s) => s.recentF1,
  );
  perVersion(
    "platform_model_live_auc",
    "A classifier version's ROC AUC over its recent labelled outcomes (absent until both classes were seen)",
    (s) => s.recentAuc,
  );
  new Gauge({
    name: "platform_market_forecast_failures",
    help: "Minute forecasts of the market model that could not be made (swapped or failed)",
    registers: [metrics.registry],
    collect() {
      this.set(forecastFailures);
    },
  });

  return {
    async stop() {
      clearInterval(tick);
      unsubscribe();
      await work.catch(failures.logUnavailable);
      await flush().catch(failures.logUnavailable);
      await loop.settled();
    },
  };
}

/** JSON has no NaN: an undefined AUC is null on the feed */
function finite(snapshot: ReturnType<LiveClassification["snapshot"]>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}
