import type { FeedHub } from "../api/feeds/feed-hub.ts";
import type { LiveView } from "../api/live-view.ts";
import type { PlatformMetrics } from "../api/metrics.ts";
import type { Log, ProducerRecord } from "../log/log.ts";
import type { Alert, MetricSample } from "../messages/alert.ts";
import type { EncodeOptions } from "../messages/codec/record-codec.ts";
import { type DeadLetter, deadLetter } from "../messages/dead-letter.ts";
import type { DriftReport } from "../messages/drift-report.ts";
import { ErrorCodes, isPlatformError, type PlatformError } from "../messages/errors.ts";
import type { CorruptStateReport, HostOutput, StatefulKind } from "../messages/host-protocol.ts";
import type { LocationSentiment, NewsInsight } from "../messages/news.ts";
import type { ProcessedReading } from "../messages/processed-reading.ts";
import type { SensorRegistryRecord } from "../messages/reference-data.ts";
import { Topics } from "../messages/topics.ts";
import type { WindowResult } from "../messages/window-result.ts";
import type { ReferenceTable } from "../stream/enrichment/reference-table.ts";
import { createEnricher, type Enricher } from "../stream/enrichment/stream-table-join.ts";

/**
 * Where the partition hosts' outputs go on the main thread: durable topics (final windows,
 * predictions, late records, dead letters, and the repartition topics of the per-type windows
 * and drift monitors), the live view, the WebSocket feeds, metrics, and the alert router.
 *
 * Log appends are batched: records collect until a batch mark arrives (or `flush` is called),
 * then go in one append; the mark is passed on only after that append is durable, which is what
 * lets the dispatcher commit input offsets safely.
 */
export interface OutputRouterDeps {
  readonly log: Log;
  /**
   * record values to log bytes (Confluent-framed where the topic has a schema); a processed
   * reading is handed over with its bytes (EncodeOptions.handOver): the sinks reading it from the
   * embedded log then get it without a parse and a second schema check
   */
  readonly encode: (topic: string, value: unknown, options?: EncodeOptions) => Promise<Uint8Array>;
  readonly view: LiveView;
  readonly feeds: FeedHub;
  readonly metrics: PlatformMetrics;
  /**
   * repartition topics of the application's single-owner aggregates: final per-sensor windows
   * re-keyed by type, predictions re-keyed by model (engine/repartitioned-aggregates.ts)
   */
  readonly repartition: { readonly typeWindows: string; readonly drift: string };
  /** a metric sample for the alert rules (the alert router) */
  readonly sample: (sample: MetricSample) => void;
  readonly onMark: (worker: number, batch: number) => void;
  readonly onEvent?: (event: unknown) => void;
  /** an append that failed: the node cannot commit past it and must fail over */
  readonly onError: (error: unknown) => void;
  readonly now: () => number;
  /** actor state for the changelogs: buffered by `saveState`, made durable by `flushState` */
  readonly saveState?: (kind: StatefulKind, key: string, partition: number, state: unknown) => void;
  readonly flushState?: () => Promise<void>;
  /** a partition host's actor met restored state that does not decode; its key started empty */
  readonly onCorruptState?: (report: CorruptStateReport) => void;
  /** the sensor registry, joined to every processed reading (left join: unknown sensors pass) */
  readonly sensorRegistry?: ReferenceTable<SensorRegistryRecord>;
}

/** a record waiting for the next flush; its value is encoded then */
interface PendingRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: unknown;
  readonly timestamp: number;
}

export class OutputRouter {
  private pending: PendingRecord[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly marks: { worker: number; batch: number }[] = [];
  private flushScheduled = false;

  private readonly readingEnricher: Enricher<ProcessedReading> | undefined;
  // prom-client hashes the label set on every call: per-record metrics use children bound once
  private readonly readingsOut;
  private readonly windowLatency;
  private readonly byType = new Map<
    string,
    {
      quality: { set(v: number): void };
      anomaly: { observe(v: number): void };
      /** the type's last routed quality score, for the gauge at the next flush (NaN: none since) */
      lastQuality: number;
    }
  >();
  /**
   * Per-reading metrics are counted here and handed to prom-client once a flush (a batch mark,
   * every turn under load): a counter's inc and a gauge's set cost a call into prom-client each
   * (~0.9 and ~0.5 % of the main thread at 20k readings/s), and a scrape cannot tell them apart
   * from one call with the sum or the last value, since it never runs between two routes.
   */
  private readingsRouted = 0;

  constructor(private readonly deps: OutputRouterDeps) {
    this.readingsOut = deps.metrics.messagesByTopic.labels("actors.readings", "out");
    this.windowLatency = deps.metrics.processingLatency.labels("window");
    this.readingEnricher = deps.sensorRegistry
      ? createEnricher<ProcessedReading, SensorRegistryRecord, ProcessedReading>({
          table: deps.sensorRegistry,
          keyOf: (reading) => reading.sensor_id,
          merge: (reading, row) => ({
            ...reading,
            enrichment: row ? { district: row.district, zone: row.zone } : null,
          }),
          onMissing: "pass",
          emit: (reading) => this.publishReading(reading),
        })
      : undefined;
  }

  route(output: HostOutput): void {
    const { deps } = this;
    const now = deps.now();
    switch (output.type) {
      case "reading":
        if (this.readingEnricher) this.readingEnricher.enrich(output.reading);
        else this.publishReading(output.reading);
        return;
      case "window": {
        const w = output.window;
        deps.view.window(w);
        deps.feeds.publish("windows", w);
        this.windowLatency.observe(Math.max(0, now - output.ingestedAt) / 1000);
        if (w.final) {
          this.pending.push({
            topic: Topics.processed(w.type),
            key: w.key,
            value: w,
            timestamp: w.window_end,
          });
          this.pending.push({
            topic: deps.repartition.typeWindows,
            key: w.type,
            value: w,
            timestamp: w.window_end,
          });
        }
        return;
      }
      case "prediction": {
        const p = output.prediction;
        deps.view.prediction(p);
        deps.feeds.publish("predictions", p);
        deps.metrics.predictions.inc({ model: p.model, version: p.model_version });
        deps.metrics.predictionLatency.observe({ model: p.model }, p.latency_ms / 1000);
        deps.metrics.processingLatency.observe(
          { stage: "prediction" },
          Math.max(0, now - output.ingestedAt) / 1000,
        );
        this.pending.push({ topic: Topics.predictions, key: p.key, value: p, timestamp: p.at });
        this.pending.push({ topic: deps.repartition.drift, key: p.model, value: p, timestamp: p.at });
        return;
      }
      case "late":
        deps.metrics.lateRecords.inc({ stream: output.late.stream });
        this.pending.push({
          topic: Topics.lateOf(Topics.sensorsRaw),
          key: output.late.key,
          value: output.late,
          timestamp: now,
        });
        return;
      case "dead-letter":
        this.deadLetter(output.deadLetter, "actor");
        return;
      case "state":
        deps.saveState?.(output.kind, output.key, output.partition, output.state);
        return;
      case "mark":
        this.marks.push({ worker: output.worker, batch: output.batch });
        this.flush().catch(deps.onError);
        return;
      case "event":
        deps.feeds.publish("supervisor", output.event);
        deps.onEvent?.(output.event);
        return;
      case "corrupt-state":
        deps.onCorruptState?.(output);
        return;
    }
  }

  private publishReading(r: ProcessedReading): void {
    const { deps } = this;
    const now = deps.now();
    deps.view.reading(r);
    deps.feeds.publish("readings", r);
    this.readingsRouted++;
    let typeMetrics = this.byType.get(r.type);
    if (!typeMetrics) {
      typeMetrics = {
        quality: deps.metrics.qualityScore.labels(r.type),
        anomaly: deps.metrics.anomalyScore.labels(r.type),
        lastQuality: Number.NaN,
      };
      this.byType.set(r.type, typeMetrics);
    }
    // a score that is not a number (an actor's bug) would throw out of prom-client and out of
    // the route; the reading itself goes on to its topic, whose schema refuses it into a dead letter
    const qualityKnown = Number.isFinite(r.quality_score);
    if (qualityKnown) typeMetrics.lastQuality = r.quality_score;
    // the silver layer only receives readings that passed; the rest are kept with their issues
    this.pending.push({
      topic: r.passed ? Topics.silver : Topics.quarantine,
      key: r.sensor_id,
      value: r,
      timestamp: r.event_time,
    });
    for (const issue of r.issues)
      deps.metrics.qualityIssues.inc({ rule: issue.rule, severity: issue.severity });
    const labels = { sensor_id: r.sensor_id, sensor_type: r.type };
    if (r.passed && Number.isFinite(r.anomaly_score)) {
      typeMetrics.anomaly.observe(r.anomaly_score);
      deps.sample({ metric: "anomaly_score", value: r.anomaly_score, labels, at: now, history: r.history });
    }
    if (qualityKnown)
      deps.sample({ metric: "quality_score", value: r.quality_score, labels, at: now, history: r.history });
  }

  /** a per-type window (the type-window actors): the view, the feed, and the final one to its topic */
  typeWindow(window: WindowResult): void {
    this.deps.view.window(window);
    this.deps.feeds.publish("windows", window);
    if (!window.final) return;
    this.pending.push({
      topic: Topics.processed(window.type),
      key: window.key,
      value: window,
      timestamp: window.window_end,
    });
    this.flushSoon();
  }

  /** a drift report (the drift monitors): view, feed, metric, alert rules, `ml.drift` */
  driftReport(report: DriftReport): void {
    const { deps } = this;
    deps.view.driftReport(report);
    deps.feeds.publish("drift", report);
    deps.metrics.driftScore.set({ model: report.model, feature: report.feature }, report.score);
    deps.sample({
      metric: "drift_score",
      value: report.score,
      labels: { model: report.model, feature: report.feature },
      at: report.at,
    });
    this.pending.push({
      topic: Topics.drift,
      key: `${report.model}/${report.feature}`,
      value: report,
      timestamp: report.at,
    });
    this.flushSoon();
  }

  /** an alert (the alert router): view, metric, `ops.alerts` */
  alert(alert: Alert): void {
    this.deps.view.alert(alert);
    this.deps.metrics.alerts.inc({ rule: alert.rule, severity: alert.severity });
    this.pending.push({ topic: Topics.alerts, key: alert.rule, value: alert, timestamp: alert.at });
    this.flushSoon();
  }

  /** what a news desk read in an article: the `news` feed and `news.insights` */
  newsInsight(insight: NewsInsight): void {
    this.deps.feeds.publish("news", { type: "insight", insight });
    this.pending.push({
      topic: Topics.newsInsights,
      key: insight.location,
      value: insight,
      timestamp: insight.created_at,
    });
    this.flushSoon();
  }

  /** a place's rolling news sentiment (a feature): the `news` feed and `news.sentiment` */
  locationSentiment(sentiment: LocationSentiment): void {
    this.deps.feeds.publish("news", { type: "sentiment", sentiment });
    this.deps.metrics.newsSentiment.set({ location: sentiment.location }, sentiment.sentiment);
    this.pending.push({
      topic: Topics.newsSentiment,
      key: sentiment.location,
      value: sentiment,
      timestamp: sentiment.at,
    });
    this.flushSoon();
  }

  /**
   * Main-thread outputs come without batch marks: they are appended on the next turn, batched
   * with whatever else is pending then.
   */
  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => {
      this.flushScheduled = false;
      this.flush().catch(this.deps.onError);
    }, 0);
  }

  /** dead letters from anywhere on the node: counted, published, kept in the log */
  deadLetter(letter: DeadLetter, sourceKind: string, topic: string = Topics.deadLetters): void {
    this.deps.metrics.deadLetters.inc({ source: sourceKind, code: letter.code });
    this.deps.feeds.publish("dead-letters", letter);
    this.pending.push({
      topic,
      key: letter.source,
      value: letter,
      timestamp: letter.at,
    });
  }

  /** an output its schema refused, as the dead letter that takes its place in the batch */
  private async refusedOutput(record: PendingRecord, error: PlatformError): Promise<ProducerRecord> {
    const letter = deadLetter(
      `output:${record.topic}`,
      error.code,
      error.message,
      jsonText(record.value),
      this.deps.now(),
    );
    this.deps.metrics.deadLetters.inc({ source: "output", code: letter.code });
    this.deps.feeds.publish("dead-letters", letter);
    return {
      topic: Topics.deadLetters,
      key: letter.source,
      value: await this.deps.encode(Topics.deadLetters, letter),
      timestamp: letter.at,
    };
  }

  /** the per-reading metrics counted since the last flush, to prom-client */
  private publishReadingMetrics(): void {
    if (this.readingsRouted > 0) this.readingsOut.inc(this.readingsRouted);
    this.readingsRouted = 0;
    for (const typeMetrics of this.byType.values()) {
      if (Number.isNaN(typeMetrics.lastQuality)) continue;
      typeMetrics.quality.set(typeMetrics.lastQuality);
      typeMetrics.lastQuality = Number.NaN;
    }
  }

  /** append what is pending, then release the marks that were waiting behind it */
  flush(): Promise<void> {
    this.publishReadingMetrics();
    const records = this.pending;
    const marks = this.marks.splice(0);
    this.pending = [];
    const run = this.flushing.then(async () => {
      if (records.length > 0) {
        const encoded: ProducerRecord[] = [];
        for (const record of records) {
          try {
            // the bytes are fresh from the codec: the log may keep them without a copy
            const value = await this.deps.encode(record.topic, record.value, handOverOf(record.topic));
            encoded.push({ ...record, value, handedOver: true });
          } catch (error) {
            // A value its topic's schema refuses is refused for ever: failing the flush failed the
            // node, and the replay after its restart met the same value again. It is kept as a
            // dead letter with the reason instead; anything else (the registry away) still fails.
            if (!isPlatformError(error, ErrorCodes.SCHEMA_VIOLATION)) throw error;
            encoded.push(await this.refusedOutput(record, error));
          }
        }
        await this.deps.log.append(encoded);
        const perTopic = new Map<string, number>();
        for (const record of encoded) perTopic.set(record.topic, (perTopic.get(record.topic) ?? 0) + 1);
        for (const [topic, count] of perTopic)
          this.deps.metrics.messagesByTopic.inc({ topic, direction: "out" }, count);
      }
      // state before marks: a mark lets the dispatcher commit, and a commit must not run ahead
      // of the state it implies
      if (marks.length > 0) await this.deps.flushState?.();
      for (const mark of marks) this.deps.onMark(mark.worker, mark.batch);
    });
    // The next flush waits for this one to settle either way; this one's failure reaches its
    // caller through `run`, and the marks behind it are never released, so nothing is committed.
    this.flushing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/** the refused value's JSON for its dead letter (a value JSON cannot write says so instead) */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "undefined";
  } catch (cause) {
    return `not JSON: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

const HAND_OVER: EncodeOptions = { handOver: true };
/**
 * A processed reading is handed over (frozen; nothing on the main thread changes one after it is
 * routed: the live view and the feeds only read it) to spare the sinks their parse of it, the
 * node's hottest output after the window updates; other outputs keep their own objects.
 */
function handOverOf(topic: string): EncodeOptions | undefined {
  return topic === Topics.silver || topic === Topics.quarantine ? HAND_OVER : undefined;
}
