import type { Prediction } from "../../messages/prediction.ts";
import type { ModelServing } from "./model-serving.ts";

/**
 * The forecasts a batch of closed windows asks for, scored together (one request per batch to
 * the version shards) and published as predictions with the version that made each. A label in
 * the same batch for a forecast still waiting here (a burst after a restart or a back-fill: the
 * window that is forecast and the one that labels it arrive together) flushes first, shadows
 * included, so the label joins the forecast as it would have live and no outcome is lost.
 */
export interface ForecastBatchDeps {
  readonly serving: ModelServing;
  readonly model: string;
  readonly featureNames: readonly string[];
  readonly publish: (prediction: Prediction) => void;
  readonly now: () => number;
  readonly hrtimeMs: () => number;
}

interface Pending {
  readonly key: string;
  readonly target: number;
  readonly end: number;
  readonly features: Float64Array;
}

export class ForecastBatch {
  private pending: Pending[] = [];
  private readonly waiting = new Set<string>();
  private published = 0;

  constructor(private readonly deps: ForecastBatchDeps) {}

  get forecasts(): number {
    return this.published;
  }

  add(key: string, target: number, end: number, features: Float64Array): void {
    this.pending.push({ key, target, end, features });
    this.waiting.add(`${key}\u0000${target}`);
  }

  /** the label for (key, at): forecast first if that forecast is still waiting, then joined */
  async label(key: string, at: number, actual: number): Promise<void> {
    if (this.waiting.has(`${key}\u0000${at}`)) await this.flush();
    this.deps.serving.label(this.deps.model, key, at, actual);
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.waiting.clear();
    const { serving, model, featureNames } = this.deps;
    const width = featureNames.length;
    const matrix = new Float64Array(batch.length * width);
    batch.forEach((p, i) => {
      matrix.set(p.features, i * width);
    });
    const started = this.deps.hrtimeMs();
    const answer = await serving.predictRows(model, {
      matrix,
      rows: batch.length,
      keys: batch.map((p) => p.key),
      times: batch.map((p) => p.target),
    });
    const latencyMs = Math.max(0, this.deps.hrtimeMs() - started);
    const at = this.deps.now();
    batch.forEach((p, i) => {
      const features: Record<string, number> = {};
      featureNames.forEach((name, j) => {
        const value = p.features[j]!;
        // a missing feature is left out: the record's features are numbers
        if (Number.isFinite(value)) features[name] = value;
      });
      const answered = answer.predictions[i]!;
      this.deps.publish({
        prediction_id: `${model}:${p.key}:${p.target}`,
        model,
        model_version: answered.version,
        key: p.key,
        window_start: p.target,
        window_end: p.end,
        features,
        value: answered.value,
        latency_ms: latencyMs,
        at,
      });
    });
    this.published += batch.length;
    // the shadows' values are kept for the labels that may follow in this batch
    await serving.settled();
  }
}
