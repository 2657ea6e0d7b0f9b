import { BoundedMap } from "../../messages/bounded-map.ts";
import type { IndicatorSnapshot } from "../../messages/market.ts";
import type { ModelOutcome } from "../../messages/prediction.ts";
import { directionFeatures, directionLabel, MARKET_DIRECTION } from "../../ml/market/direction-features.ts";
import { LiveClassification } from "../../ml/monitoring/live-classification.ts";
import type { ModelServing } from "./model-serving.ts";

export interface DirectionForecastsDeps {
  readonly serving: Pick<
    ModelServing,
    "predict" | "settled" | "label" | "policyOf" | "onOutcome" | "statsOf"
  >;
  /** stores the labelled forecasts (`ml.outcomes`); a failure there loses only their record */
  readonly storeOutcomes: (outcomes: readonly ModelOutcome[]) => Promise<void>;
  readonly onError: (error: unknown) => void;
  readonly now: () => number;
  /** how long the minutes of one close gather into one batch (default 50 ms) */
  readonly batchDelayMs?: number;
}

const MINUTE = 60_000;
/** symbols whose last minute is kept for labels; a market streams hundreds, not this many */
const MAX_SYMBOLS = 10_000;

/**
 * The live loop of the market-direction model over the symbol actors' minutes. Every closed
 * minute of a symbol (its 1m indicator snapshot) is first the label of the forecast made one
 * minute before (up or not), then the input of the forecast for the next minute. Labels and
 * forecasts are applied in one serial queue, forecasts of a batch before its labels and after the
 * shadows scored them, so a burst of back-filled minutes labels each forecast, the shadow's
 * included, as a live minute would. Each labelled outcome updates its version's live precision,
 * recall, F1 and AUC.
 */
export class DirectionForecasts {
  private readonly lastMinute = new BoundedMap<string, { start: number; close: number }>(MAX_SYMBOLS);
  private readonly quality = new Map<string, LiveClassification>();
  private outcomes: ModelOutcome[] = [];
  private pending: {
    labels: [string, number, 0 | 1][];
    rows: { key: string; at: number; features: number[] }[];
  } = { labels: [], rows: [] };
  private work: Promise<void> = Promise.resolve();
  private scheduled = false;
  private failed = 0;

  constructor(private readonly deps: DirectionForecastsDeps) {
    deps.serving.onOutcome((outcome) => {
      if (outcome.model !== MARKET_DIRECTION) return;
      this.outcomes.push({
        outcome_id: `${outcome.model}|${outcome.key}|${outcome.at}`,
        model: outcome.model,
        key: outcome.key,
        at: outcome.at,
        served_version: outcome.served,
        value: outcome.values.get(outcome.served)!,
        actual: outcome.actual,
        values: Object.fromEntries(outcome.values),
        labelled_at: deps.now(),
      });
      for (const [version, probability] of outcome.values) {
        const live = this.quality.get(version) ?? new LiveClassification();
        this.quality.set(version, live);
        live.observe(probability, outcome.actual);
      }
    });
  }

  /** a symbol's minute closed (other timeframes are not this model's) */
  observe(snapshot: IndicatorSnapshot): void {
    if (snapshot.timeframe !== "1m") return;
    const before = this.lastMinute.get(snapshot.symbol);
    // a minute older than the one already seen (a revision, a replay) is neither label nor input
    if (before && snapshot.bar_start <= before.start) return;
    const consecutive = before?.start === snapshot.bar_start - MINUTE ? before : undefined;
    this.lastMinute.setNewest(snapshot.symbol, { start: snapshot.bar_start, close: snapshot.close });
    if (this.deps.serving.policyOf(MARKET_DIRECTION) === undefined) return;
    if (consecutive)
      this.pending.labels.push([
        snapshot.symbol,
        snapshot.bar_start,
        directionLabel(consecutive.close, snapshot.close),
      ]);
    this.pending.rows.push({
      key: snapshot.symbol,
      at: snapshot.bar_start + MINUTE,
      features: directionFeatures(snapshot, consecutive?.close),
    });
    if (!this.scheduled) {
      this.scheduled = true;
      // the minutes of one close (every symbol at once) or of a back-fill go as one batch
      const delay = this.deps.batchDelayMs ?? 50;
      this.work = this.work
        .then(() => new Promise((resolve) => setTimeout(resolve, delay)))
        .then(() => this.flush());
    }
  }

  /** applies what is pending now: the forecasts, then the labels, then stores the outcomes */
  async flush(): Promise<void> {
    this.scheduled = false;
    const { labels, rows } = this.pending;
    this.pending = { labels: [], rows: [] };
    const { serving } = this.deps;
    if (rows.length > 0) {
      try {
        await serving.predict(MARKET_DIRECTION, { rows });
        await serving.settled();
      } catch (error) {
        // a forecast that failed is counted; its minute goes unlabelled, the next ones go on
        this.failed += rows.length;
        this.deps.onError(error);
      }
    }
    for (const [symbol, at, up] of labels) serving.label(MARKET_DIRECTION, symbol, at, up);
    if (this.outcomes.length === 0) return;
    const batch = this.outcomes;
    this.outcomes = [];
    try {
      await this.deps.storeOutcomes(batch);
    } catch (error) {
      // the live figures already counted them; a log that is down loses only their record
      this.deps.onError(error);
    }
  }

  /** each version's live classification over its recent labelled outcomes */
  liveClassification(): ReadonlyMap<string, LiveClassification> {
    return this.quality;
  }

  /** versions no longer served keep no figures: memory follows what serves (the model is served) */
  forgetUnserved(): void {
    const served = new Set(this.deps.serving.statsOf(MARKET_DIRECTION).keys());
    for (const version of this.quality.keys()) if (!served.has(version)) this.quality.delete(version);
  }

  /** minute forecasts that could not be made since the start */
  failures(): number {
    return this.failed;
  }

  /** the queued work done and what is pending applied */
  async stop(): Promise<void> {
    await this.work.catch(this.deps.onError);
    await this.flush().catch(this.deps.onError);
  }
}
