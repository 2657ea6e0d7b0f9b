import { DirectionForecasts } from "../actors/model-shard/direction-forecasts.ts";
import { DriftTrigger } from "../actors/retrain/drift-trigger.ts";
import { MARKET_DIRECTION_POLICY } from "../actors/retrain/forecast-policies.ts";
import { restoreServing } from "../actors/retrain/restore-serving.ts";
import { RetrainCoordinator } from "../actors/retrain/retrain-coordinator.ts";
import { observeCount, observeModelVersions, type VersionFigure } from "../api/models/model-metrics.ts";
import type { ProducerRecord } from "../log/log.ts";
import { Topics } from "../messages/topics.ts";
import { MARKET_DIRECTION } from "../ml/market/direction-features.ts";
import { DirectionTrainingSource } from "../ml/market/direction-training-source.ts";
import type { LiveClassification } from "../ml/monitoring/live-classification.ts";
import type { NodeFeatures } from "./features.ts";
import type { NodeMarket } from "./market.ts";
import type { NodeModels } from "./models.ts";
import type { NodeContext } from "./node-context.ts";

/**
 * The market room's model (MARKET_MODEL=off turns it off): the direction of each symbol's next
 * minute, a log-loss gradient-boosted classifier on the models room's serving, registry and
 * tracking, with a retraining loop of its own whose training source is the feature store
 * (`ml/market/direction-training-source.ts`). The symbol actors' closed minutes feed its live
 * loop (`actors/model-shard/direction-forecasts.ts`); each labelled forecast is stored on
 * `ml.outcomes`; each version's live precision, recall, F1 and AUC go to /metrics and, every
 * 10 s, to the `models` feed.
 */
export interface NodeMarketDirection {
  stop(): Promise<void>;
}

const TICK_MS = 10_000;
const FIRST_TRAINING_RETRY_MS = 15_000;

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
    ...{ serving, registry: models.registry, tracking: models.tracking, source },
    now: Date.now,
    onEvent: models.onEvent,
  });
  loop.manage(MARKET_DIRECTION, MARKET_DIRECTION_POLICY);
  models.addLoop(MARKET_DIRECTION, loop);
  await restoreServing(serving, models.registry, MARKET_DIRECTION);
  await loop.resume(MARKET_DIRECTION);

  const forecasts = new DirectionForecasts({
    serving,
    // keyed by symbol: the stored record of the live error
    storeOutcomes: async (outcomes) => {
      const records: ProducerRecord[] = [];
      for (const outcome of outcomes)
        records.push({
          topic: Topics.outcomes,
          key: outcome.key,
          value: await codec.encode(Topics.outcomes, outcome),
          timestamp: outcome.at,
        });
      await log.append(records);
    },
    onError: failures.logUnavailable,
    now: Date.now,
  });
  const unsubscribe = market.onIndicator((snapshot) => forecasts.observe(snapshot));

  /**
   * No version yet: train once the offline store holds enough minutes. The lake is asked, not
   * the minutes this room saw: the warm-up's minutes reach the lake before this room listens,
   * and a restarted node's lake already holds what the last run saw.
   */
  let lastFirstTrigger = 0;
  let checkingFirst = false;
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

  const drift = new DriftTrigger(serving, loop);
  const tick = setInterval(() => {
    loop.tick();
    if (serving.policyOf(MARKET_DIRECTION) === undefined) {
      firstTraining().catch(failures.logUnavailable);
      return;
    }
    drift.check(MARKET_DIRECTION, MARKET_DIRECTION_POLICY.triggers.postChangeLabels ?? 0);
    forecasts.forgetUnserved();
    for (const [version, live] of forecasts.liveClassification())
      feeds.publish("models", {
        type: "live-classification",
        model: MARKET_DIRECTION,
        version,
        at: Date.now(),
        ...finite(live.snapshot()),
      });
  }, TICK_MS);
  observeModelVersions(metrics.registry, CLASSIFICATION_FIGURES, () =>
    [...forecasts.liveClassification()].map(([version, live]) => [MARKET_DIRECTION, version, live] as const),
  );
  observeCount(
    metrics.registry,
    "platform_market_forecast_failures",
    "Minute forecasts of the market model that could not be made (swapped or failed)",
    () => forecasts.failures(),
  );

  return {
    async stop() {
      clearInterval(tick);
      unsubscribe();
      await forecasts.stop();
      await loop.settled();
    },
  };
}

/** what /metrics shows of each classifier version (NaN, before both classes were seen: no sample) */
const CLASSIFICATION_FIGURES: readonly VersionFigure<LiveClassification>[] = [
  [
    "platform_model_live_precision",
    "A classifier version's precision (P(1) >= 0.5) over its recent labelled outcomes",
    (live) => finiteOrNone(live.snapshot().recentPrecision),
  ],
  [
    "platform_model_live_recall",
    "A classifier version's recall over its recent labelled outcomes",
    (live) => finiteOrNone(live.snapshot().recentRecall),
  ],
  [
    "platform_model_live_f1",
    "A classifier version's F1 over its recent labelled outcomes",
    (live) => finiteOrNone(live.snapshot().recentF1),
  ],
  [
    "platform_model_live_auc",
    "A classifier version's ROC AUC over its recent labelled outcomes (absent until both classes were seen)",
    (live) => finiteOrNone(live.snapshot().recentAuc),
  ],
];

const finiteOrNone = (value: number) => (Number.isFinite(value) ? value : undefined);

/** JSON has no NaN: an undefined AUC is null on the feed */
function finite(snapshot: ReturnType<LiveClassification["snapshot"]>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
}
