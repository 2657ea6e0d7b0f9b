import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { FeedHubStats } from "./feeds/feed-hub.ts";

/**
 * The platform's Prometheus metrics, one registry per node. Workers do not touch prom-client:
 * they report counts and timings in their output records and the node's main thread observes
 * them here, so `/metrics` is one consistent view.
 */
export class PlatformMetrics {
  readonly registry = new Registry();

  readonly messagesByTopic = new Counter({
    name: "platform_messages_total",
    help: "Records appended to or consumed from the log, by topic and direction",
    labelNames: ["topic", "direction"] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: "platform_dead_letters_total",
    help: "Inputs rejected at a boundary, by source kind and error code",
    labelNames: ["source", "code"] as const,
    registers: [this.registry],
  });
  readonly lateRecords = new Counter({
    name: "platform_late_records_total",
    help: "Records that arrived after their window closed",
    labelNames: ["stream"] as const,
    registers: [this.registry],
  });
  readonly mailboxDepth = new Gauge({
    name: "platform_mailbox_depth",
    help: "Messages waiting in actor mailboxes, by node part and actor kind",
    labelNames: ["part", "kind"] as const,
    registers: [this.registry],
  });
  readonly actors = new Gauge({
    name: "platform_actors",
    help: "Live actors, by node part and actor kind",
    labelNames: ["part", "kind"] as const,
    registers: [this.registry],
  });
  readonly restarts = new Counter({
    name: "platform_supervisor_restarts_total",
    help: "Supervision decisions, by decision and strategy",
    labelNames: ["decision", "strategy"] as const,
    registers: [this.registry],
  });
  readonly processingLatency = new Histogram({
    name: "platform_processing_latency_seconds",
    help: "From ingest to the window or prediction leaving the actors, by stage",
    labelNames: ["stage"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly predictionLatency = new Histogram({
    name: "platform_prediction_latency_seconds",
    help: "Time the model shard spent scoring one window",
    labelNames: ["model"] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01],
    registers: [this.registry],
  });
  readonly predictions = new Counter({
    name: "platform_predictions_total",
    help: "Predictions made, by model and version",
    labelNames: ["model", "version"] as const,
    registers: [this.registry],
  });
  readonly driftScore = new Gauge({
    name: "platform_drift_score",
    help: "Latest drift score in [0,1] by model and feature",
    labelNames: ["model", "feature"] as const,
    registers: [this.registry],
  });
  readonly newsSentiment = new Gauge({
    name: "platform_news_sentiment",
    help: "Rolling news sentiment in [-1,1] by place (exponentially weighted over its articles)",
    labelNames: ["location"] as const,
    registers: [this.registry],
  });
  readonly newsArticles = new Counter({
    name: "platform_news_articles_total",
    help: "News articles appended to the log (new ones only), by source",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  readonly newsReadings = new Counter({
    name: "platform_news_readings_total",
    help: "Articles read, by reader (gemini, local) and whether the local reader stood in for Gemini",
    labelNames: ["reader", "fallback"] as const,
    registers: [this.registry],
  });
  readonly newsSourceState = new Gauge({
    name: "platform_news_source_state",
    help: "1 for each news source's (and reader's) current state: active, standby or resting",
    labelNames: ["source", "state"] as const,
    registers: [this.registry],
  });
  readonly marketSourceState = new Gauge({
    name: "platform_market_source_state",
    help: "1 for each market-data source's current state: active, standby, failed or unauthorized",
    labelNames: ["source", "state"] as const,
    registers: [this.registry],
  });
  readonly marketHandovers = new Counter({
    name: "platform_market_handovers_total",
    help: "Changes of the active market-data source, by the source handed over to and why",
    labelNames: ["to", "reason"] as const,
    registers: [this.registry],
  });
  readonly marketEvents = new Counter({
    name: "platform_market_events_total",
    help: "Market records received from the sources, by kind (trade, quote, bar, backfill) and outcome",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly anomalyScore = new Histogram({
    name: "platform_anomaly_score",
    help: "Online anomaly scores of readings, by sensor type",
    labelNames: ["sensor_type"] as const,
    buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1],
    registers: [this.registry],
  });
  readonly qualityScore = new Gauge({
    name: "platform_quality_score",
    help: "Data quality score in [0,1] by sensor type",
    labelNames: ["sensor_type"] as const,
    registers: [this.registry],
  });
  readonly qualityIssues = new Counter({
    name: "platform_quality_issues_total",
    help: "Data-quality issues found, by rule and severity (error rates per rule)",
    labelNames: ["rule", "severity"] as const,
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: "platform_alerts_total",
    help: "Alerts raised, by rule and severity",
    labelNames: ["rule", "severity"] as const,
    registers: [this.registry],
  });
  readonly alertDeliveryFailures = new Counter({
    name: "platform_alert_delivery_failures_total",
    help: "Alert deliveries that failed, by channel",
    labelNames: ["channel"] as const,
    registers: [this.registry],
  });
  readonly feedDropped = new Gauge({
    name: "platform_feed_dropped_messages",
    help: "WebSocket feed messages dropped for slow clients since start",
    registers: [this.registry],
  });
  readonly malformedMemberAnnouncements = new Gauge({
    name: "platform_membership_malformed_announcements",
    help: "Records of the members topic skipped as malformed since start",
    registers: [this.registry],
  });
  readonly feedClients = new Gauge({
    name: "platform_feed_clients",
    help: "Connected WebSocket feed clients",
    registers: [this.registry],
  });

  readonly feedEvictions = new Counter({
    name: "platform_feed_evictions_total",
    help: "WebSocket clients evicted, by outcome: a slow one closed with 1013, or terminated when the close frame could not be written within the grace; a flooding one closed with 1008",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly feedRejectedControls = new Counter({
    name: "platform_feed_rejected_controls_total",
    help: "WebSocket client messages answered with an error (malformed, wrong shape, binary, too large)",
    registers: [this.registry],
  });
  readonly readModelEvictions = new Counter({
    name: "platform_read_model_evictions_total",
    help: "Keys forgotten by the live view because a per-key part was at its cap, by part",
    labelNames: ["part"] as const,
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: "platform_consumer_lag_records",
    help: "Records of a topic partition not yet committed by a consumer group of the application (end offset minus committed offset, as kafka-consumer-groups reports it)",
    labelNames: ["group", "topic", "partition"] as const,
    registers: [this.registry],
  });
  readonly workers = new Gauge({
    name: "platform_workers",
    help: "Bun workers hosting partitions on this node",
    registers: [this.registry],
  });
  readonly readModelKeys = new Gauge({
    name: "platform_read_model_keys",
    help: "Keys held by the live view, by part",
    labelNames: ["part"] as const,
    registers: [this.registry],
  });

  readonly sinkRows = new Counter({
    name: "platform_sink_rows_total",
    help: "Rows a table sink's target acknowledged, by sink",
    labelNames: ["sink"] as const,
    registers: [this.registry],
  });
  readonly sinkWriteFailures = new Counter({
    name: "platform_sink_write_failures_total",
    help: "Batch writes that failed and were retried (the target was down or refused), by sink",
    labelNames: ["sink"] as const,
    registers: [this.registry],
  });
  readonly sinkLag = new Gauge({
    name: "platform_sink_lag_records",
    help: "Records of a sink's owned partitions not yet written and committed, by sink",
    labelNames: ["sink"] as const,
    registers: [this.registry],
  });
  readonly sinkBlocked = new Gauge({
    name: "platform_sink_blocked",
    help: "1 while a sink holds a batch its target has not acknowledged (back-pressure), by sink",
    labelNames: ["sink"] as const,
    registers: [this.registry],
  });

  readonly walCheckpointFailures = new Counter({
    name: "platform_wal_checkpoint_failures_total",
    help: "Failed passes (or a failed start) of the embedded log's background WAL checkpoint thread",
    registers: [this.registry],
  });
  readonly walCheckpointFailing = new Gauge({
    name: "platform_wal_checkpoint_failing",
    help: "1 while the embedded log's WAL checkpoint thread fails (the writer checkpoints itself meanwhile), else 0",
    registers: [this.registry],
  });

  readonly logCorruptBatches = new Counter({
    name: "platform_log_corrupt_batches_total",
    help: "Fetches that met a corrupt Kafka record batch (CRC mismatch, records that do not fit), by topic; after its refetches the consumer fails with LOG_BATCH_CORRUPT",
    labelNames: ["topic"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: "platform_" });
  }

  /**
   * Reads the feed hub's and the live view's own counters at every scrape, so /metrics is
   * current without a timer copying them.
   */
  observe(sources: {
    feeds?: () => FeedHubStats;
    readModel?: () => { evictions: Record<string, number>; sizes: Record<string, number> };
    walCheckpoints?: () => { readonly failing: boolean; readonly failures: number };
    corruptBatches?: () => ReadonlyMap<string, number>;
  }): void {
    this.observed = sources;
  }

  private observed: Parameters<PlatformMetrics["observe"]>[0] = {};

  /** adds a group of table sinks whose own counters are read at every scrape, like the feeds' */
  observeSinks(sinks: () => readonly SinkMetricsSource[]): void {
    this.sinkGroups.push(sinks);
  }

  private readonly sinkGroups: (() => readonly SinkMetricsSource[])[] = [];
  private observedSinks: () => readonly SinkMetricsSource[] = () =>
    this.sinkGroups.flatMap((group) => group());

  /** brings the observed sources' values into the registry (each scrape; the dashboard's summary) */
  collectObserved(): void {
    const feeds = this.observed.feeds?.();
    if (feeds) {
      setCounterTotals(this.feedEvictions, [
        [{ outcome: "closed_1013" }, feeds.evictedClosed],
        [{ outcome: "terminated" }, feeds.evictedTerminated],
        [{ outcome: "closed_1008_flooding" }, feeds.closedFlooding],
      ]);
      setCounterTotals(this.feedRejectedControls, [[{}, feeds.rejectedControls]]);
      this.feedClients.set(feeds.clients);
      this.feedDropped.set(feeds.dropped);
    }
    const model = this.observed.readModel?.();
    if (model) {
      setCounterTotals(
        this.readModelEvictions,
        Object.entries(model.evictions).map(([part, n]) => [{ part }, n]),
      );
      for (const [part, n] of Object.entries(model.sizes)) this.readModelKeys.set({ part }, n);
    }
    const checkpoints = this.observed.walCheckpoints?.();
    if (checkpoints) {
      setCounterTotals(this.walCheckpointFailures, [[{}, checkpoints.failures]]);
      this.walCheckpointFailing.set(checkpoints.failing ? 1 : 0);
    }
    const corrupt = this.observed.corruptBatches?.();
    if (corrupt)
      setCounterTotals(
        this.logCorruptBatches,
        [...corrupt].map(([topic, n]) => [{ topic }, n]),
      );
    const sinks = this.observedSinks();
    if (sinks.length > 0) {
      setCounterTotals(
        this.sinkRows,
        sinks.map((s) => [{ sink: s.name }, s.rows]),
      );
      setCounterTotals(
        this.sinkWriteFailures,
        sinks.map((s) => [{ sink: s.name }, s.writeFailures]),
      );
      for (const s of sinks) {
        this.sinkLag.set({ sink: s.name }, s.lag);
        this.sinkBlocked.set({ sink: s.name }, s.blocked ? 1 : 0);
      }
    }
  }

  text(): Promise<string> {
    this.collectObserved();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** what /metrics reads of a table sink (sinks/table-sink.ts's stats) */
export interface SinkMetricsSource {
  readonly name: string;
  readonly rows: number;
  readonly writeFailures: number;
  readonly lag: number;
  readonly blocked: boolean;
}

/** counters kept by their source: the exported ones are set to the source's totals */
function setCounterTotals<L extends string>(
  counter: Counter<L>,
  totals: readonly (readonly [Partial<Record<L, string>>, number])[],
): void {
  counter.reset();
  for (const [labels, total] of totals) counter.inc(labels, total);
}
