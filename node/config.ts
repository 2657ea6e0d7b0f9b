import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { parseOrigins } from "../api/gateway/origin-policy.ts";
import { parseTopicRetention } from "../log/retention.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";

/**
 * A node's configuration, from the environment and `bun run cluster` flags (flags win).
 * Every setting is documented in the README's Configuration table.
 */
const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

function validTopicRetention(text: string): boolean {
  try {
    parseTopicRetention(text);
    return true;
  } catch (error) {
    if (isPlatformError(error, ErrorCodes.CONFIG_INVALID)) return false;
    throw error;
  }
}

export const NodeConfig = z.object({
  applicationId: z
    .string()
    .regex(/^[a-z0-9._-]+$/)
    .default("city-platform"),
  port: intFrom(0, 65535).default(3000),
  /** unset: 0.0.0.0 when a credential is configured, else 127.0.0.1 (development mode) */
  host: z.string().optional(),
  /** an admin credential from the environment (at least 32 characters): bootstrap and scripts */
  adminApiKey: z.string().min(32, "ADMIN_API_KEY must be at least 32 characters").optional(),
  /** JWT bearer tokens: the issuer's JWKS (URL or file), and the iss and aud they must carry */
  jwtJwksUrl: z.url().optional(),
  jwtJwksFile: z.string().optional(),
  jwtIssuer: z.string().optional(),
  jwtAudience: z.string().optional(),
  /** browser origins allowed to call the API (CORS), comma-separated; none by default */
  corsOrigins: z
    .string()
    .refine((text) => !(parseOrigins(text) instanceof Error), "must be origins like https://app.example.com")
    .optional(),
  /** serve HTTPS and WSS with these PEM files */
  tlsCertFile: z.string().optional(),
  tlsKeyFile: z.string().optional(),
  /** requests per second per client address and per caller (token bucket), and the burst */
  rateLimitPerSecond: intFrom(1, 1_000_000).default(200),
  rateLimitBurst: intFrom(1, 1_000_000).default(400),
  dataDir: z.string().default(".data"),
  /** comma-separated; unset means the embedded bun:sqlite log */
  kafkaBrokers: z.string().optional(),
  /** a member silent this long is evicted and its partitions move (failover time) */
  kafkaSessionTimeoutMs: intFrom(1000, 300_000).default(3000),
  /** the embedded log's fsync policy: normal survives kill -9, full also power loss */
  embeddedLogSync: z.enum(["normal", "full"]).default("normal"),
  /** unset means the embedded aedes broker on mqttPort */
  mqttUrl: z.string().optional(),
  mqttPort: intFrom(0, 65535).default(1883),
  /**
   * where the ingest's MQTT subscriber runs with the embedded broker: "main" (a TCP client on the
   * main thread) or "broker" (on the broker's own thread, handing over whole batches); an
   * external broker is always read from the main thread
   */
  mqttIngestThread: z.enum(["main", "broker"]).default("main"),
  workers: intFrom(0, 64).default(Math.max(1, cpus().length)),
  partitions: intFrom(1, 1024).default(12),
  simulate: z.boolean().default(true),
  /** statistical: the fleet's own models; llm: some readings written by Gemini (needs GEMINI_API_KEY, falls back) */
  simulator: z.enum(["statistical", "llm"]).default("statistical"),
  sensorsPerType: intFrom(1, 100_000).default(5),
  /** simulated readings per second, all sensors together */
  rate: intFrom(1, 1_000_000).default(100),
  windowMs: intFrom(1000, 24 * 3600_000).default(60_000),
  /** tumbling (default), hopping (windowMs every windowAdvanceMs), sliding, or session (gap) */
  windowKind: z.enum(["tumbling", "hopping", "sliding", "session"]).default("tumbling"),
  windowAdvanceMs: intFrom(100, 24 * 3600_000).default(10_000),
  sessionGapMs: intFrom(100, 24 * 3600_000).default(30_000),
  /** the online anomaly detector of each sensor: per-measurement robust z, or Half-Space Trees */
  anomalyDetector: z.enum(["robust-z", "half-space-trees"]).default("robust-z"),
  graceMs: intFrom(0, 3600_000).default(5000),
  /** a partition read to its end and silent this long stops holding event time back (Kafka Streams' max.task.idle.ms) */
  partitionIdleMs: intFrom(100, 3600_000).default(10_000),
  /** sensor and window actors without a reading this long passivate (state to the changelog) */
  sensorIdleMs: intFrom(1000, 7 * 24 * 3600_000).default(120_000),
  /** records of topics that are not compacted are deleted after this (Kafka's retention.ms) */
  logRetentionMs: intFrom(60_000, 10 * 365 * 24 * 3600_000).default(7 * 24 * 3600_000),
  /** per-topic retention overrides, `topic=ms,topic=ms` */
  logTopicRetentionMs: z
    .string()
    .refine(validTopicRetention, "must be topic=<positive ms>[,topic=<ms>...]")
    .optional(),
  /** how often actor state is checkpointed to the changelogs and input offsets committed */
  commitIntervalMs: intFrom(10, 600_000).default(5000),
  /**
   * when the window actors' cached updates go out: "batch" (each burst's latest updates, the live
   * feed's latency) or "checkpoint" (held until the checkpoint, bounded, as a Kafka Streams
   * application's cache: far fewer updates on the topics and the feed, each up to an interval late)
   */
  windowUpdateFlush: z.enum(["batch", "checkpoint"]).default("batch"),
  /**
   * how long a graceful stop may take in all (SIGTERM, Ctrl-C): past it, work not done is
   * abandoned uncommitted and replayed at the next start; shorter than a supervisor's kill timeout
   */
  stopTimeoutMs: intFrom(1000, 600_000).default(20_000),
  /** stop after this many seconds (0 = run until SIGINT/SIGTERM) */
  durationSeconds: intFrom(0, 7 * 24 * 3600).default(0),
  injectDriftAfterSeconds: intFrom(0, 7 * 24 * 3600).default(0),
  alertRulesFile: z.string().optional(),
  alertLogFile: z.string().optional(),
  alertWebhookUrl: z.url().optional(),
  /** alerting (README: Alerting): routes, email, SMS, Alertmanager push */
  alertRoutesFile: z.string().optional(),
  smtpUrl: z
    .string()
    .regex(/^smtps?:\/\//, "must be smtp://host:port or smtps://...")
    .optional(),
  alertEmailFrom: z.string().default("platform-alerts@localhost"),
  alertEmailTo: z.string().optional(),
  smsProviderUrl: z.url().optional(),
  smsProviderToken: z.string().optional(),
  smsFrom: z.string().default("platform"),
  smsTo: z.string().optional(),
  alertmanagerUrl: z.url().optional(),
  /** firing alerts are sent to Alertmanager again this often (Prometheus' resend delay) */
  alertResendMs: intFrom(100, 3600_000).default(60_000),
  /** a worker crash keeps the worker-crashed alert firing this long */
  alertCrashWindowMs: intFrom(1000, 24 * 3600_000).default(300_000),
  progress: z.boolean().default(true),
  /** the time-series store: QuestDB at this HTTP URL (ILP/HTTP), else embedded bun:sqlite in dataDir */
  questdbUrl: z.url().optional(),
  /** QuestDB's PG wire for queries; default postgres://admin:quest@<questdbUrl host>:8812/qdb */
  questdbPgUrl: z.string().optional(),
  /** records per time-series sink batch, and how long a batch's first record waits for more */
  timeseriesBatchSize: intFrom(1, 100_000).default(5000),
  timeseriesLingerMs: intFrom(0, 60_000).default(500),
  /**
   * where the time-series table sinks run: "thread" (a Bun worker of their own, with its own log
   * handle and store writer, supervised; the main thread keeps the store's readers) or "main"
   */
  timeseriesSinks: z.enum(["thread", "main"]).default("thread"),
  /** time-series rows older than this many days behind the newest are dropped (TTL) */
  timeseriesTtlDays: intFrom(1, 36_500).default(30),
  /** per-table TTL overrides, `table=days,table=days` */
  timeseriesTableTtlDays: z
    .string()
    .regex(/^([a-z_]+=[1-9][0-9]{0,4})(,[a-z_]+=[1-9][0-9]{0,4})*$/, "must be table=<days>[,table=<days>...]")
    .optional(),
  /** the feature store (README: Feature store): registry, online store (Redis if redisUrl), push materialization */
  features: z.enum(["on", "off"]).default("on"),
  /** the model lifecycle (README: Models): tracking, registry, serving, the retraining loop */
  models: z.enum(["on", "off"]).default("on"),
  /** MLflow tracking server and registry (infra/up.sh mlflow); embedded in DATA_DIR/models when unset */
  mlflowUrl: z.string().url().optional(),
  /** the newest labelled rows a training set takes from the offline store, and how many before the first training */
  modelsHistoryWindows: intFrom(10, 100_000).default(2000),
  modelsFirstTrainingRows: intFrom(20, 10_000_000).default(2000),
  /** closed utility sensor-hours in the offline store before the utility forecast's first training */
  modelsUtilityFirstTrainingRows: intFrom(20, 10_000_000).default(200),
  /** a scheduled retrain every this many ms (0: only drift, performance, labels and operators) */
  modelsRetrainEveryMs: intFrom(0, 604_800_000).default(0),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, "must be redis://[user:password@]host:port[/db] or rediss://...")
    .optional(),
  /** how long a closed window's features wait for more before the online store write */
  featuresLingerMs: intFrom(1, 60_000).default(10),
  /** how often the views without a stream are materialized from their tables (incrementally) */
  featuresMaterializeEveryMs: intFrom(1000, 86_400_000).default(60_000),
  /** the Delta lake (README: The lake): on by default, in lakeDir (default <dataDir>/lake) */
  lake: z.enum(["on", "off"]).default("on"),
  lakeDir: z.string().optional(),
  /** records per lake sink batch (one Delta commit), and how long its first record waits for more */
  lakeBatchSize: intFrom(1, 1_000_000).default(20_000),
  lakeLingerMs: intFrom(0, 600_000).default(5000),
  /** how often the gold jobs run (district-hourly summaries from silver) */
  lakeGoldEveryMs: intFrom(1000, 86_400_000).default(60_000),
  /** OPTIMIZE and VACUUM of every lake table (0: never); per-table overrides in lakeMaintenance */
  lakeOptimizeEveryMs: intFrom(0, 604_800_000).default(600_000),
  lakeVacuumEveryMs: intFrom(0, 604_800_000).default(86_400_000),
  /** VACUUM's retention; below the tables' own (7 days) only with care: time travel needs the files */
  lakeVacuumRetentionHours: intFrom(0, 87_600).default(168),
  /** `table:optimize=<ms>|off,vacuum=<ms>|off;table:...` */
  lakeMaintenance: z
    .string()
    .regex(
      /^([a-z_]+:(optimize|vacuum)=([0-9]+|off)(,(optimize|vacuum)=([0-9]+|off))?)(;[a-z_]+:(optimize|vacuum)=([0-9]+|off)(,(optimize|vacuum)=([0-9]+|off))?)*$/,
      "must be table:optimize=<ms>|off[,vacuum=<ms>|off][;table:...]",
    )
    .optional(),
  /** news (README: News): sources in order of preference, keys, Gemini, polling */
  news: z.enum(["on", "off"]).default("on"),
  newsSources: z
    .string()
    .regex(/^(newsapi|gdelt|replay)(,(newsapi|gdelt|replay))*$/, "must be a list of newsapi, gdelt, replay")
    .default("newsapi,replay"),
  newsapiKey: z.string().optional(),
  newsapiUrl: z.url().optional(),
  gdeltUrl: z.url().optional(),
  geminiApiKey: z.string().optional(),
  geminiBaseUrl: z.url().optional(),
  geminiModel: z
    .string()
    .regex(/^[\w.-]+$/)
    .default("gemini-2.5-flash"),
  newsPollMs: intFrom(1000, 86_400_000).default(300_000),
  /** places to follow, comma-separated; default every district of the simulated city */
  newsLocations: z.string().optional(),
  /** terms a story must match besides its place, comma-separated; default none */
  newsKeywords: z.string().default(""),
  /** market data (README: Market data): sources in order, Alpaca keys and URLs, symbols */
  market: z.enum(["on", "off"]).default("on"),
  marketSources: z
    .string()
    .regex(
      /^(alpaca|replay|simulator)(,(alpaca|replay|simulator))*$/,
      "must be a list of alpaca, replay, simulator",
    )
    .default("alpaca,replay,simulator"),
  alpacaKeyId: z.string().optional(),
  alpacaSecretKey: z.string().optional(),
  alpacaDataUrl: z.url().optional(),
  alpacaStreamUrl: z.url().optional(),
  alpacaFeed: z.enum(["iex", "sip", "delayed_sip"]).default("iex"),
  /** comma-separated; default a dozen US large caps (sources/reference/symbol-metadata.ts) */
  marketSymbols: z
    .string()
    .regex(
      /^[A-Z][A-Z0-9.-]{0,15}(,[A-Z][A-Z0-9.-]{0,15}){0,499}$/,
      "must be comma-separated upper-case symbols",
    )
    .optional(),
  /** the simulator's sessions: around the clock (a demo streams at any hour) or the NYSE calendar */
  marketSimHours: z.enum(["always", "calendar"]).default("always"),
  marketSimTradesPerMinute: intFrom(4, 1_000_000).default(30),
  /** how often the market chain tries the preferred sources again (fail back) */
  marketFailbackMs: intFrom(100, 3_600_000).default(60_000),
  /** the market-direction model (README: Models): on when the market, models and features run */
  marketModel: z.enum(["on", "off"]).default("on"),
  /** minutes of history back-filled for a symbol the log has no bar of, so the model has rows to learn from */
  marketModelWarmupMinutes: intFrom(0, 10_080).default(390),
  /** labelled minutes in the offline store before the first training */
  marketModelFirstTrainingRows: intFrom(50, 10_000_000).default(1000),
  seed: intFrom(0, 2 ** 31 - 1).default(42),
});
/** `host` is resolved by loadNodeConfig (see credentialsConfigured) */
export type NodeConfig = z.infer<typeof NodeConfig> & { readonly host: string };

/** any credential in the configuration ends development mode (see api/gateway/gateway.ts) */
/** where the node's lake is: LAKE_DIR, else DATA_DIR/lake */
export function lakeDirOf(config: {
  readonly lakeDir?: string | undefined;
  readonly dataDir: string;
}): string {
  return resolve(config.lakeDir ?? join(config.dataDir, "lake"));
}

export function credentialsConfigured(config: z.infer<typeof NodeConfig>): boolean {
  return (
    config.adminApiKey !== undefined || config.jwtJwksUrl !== undefined || config.jwtJwksFile !== undefined
  );
}

/** settings that only make sense together */
function pairingProblem(config: z.infer<typeof NodeConfig>): string | undefined {
  const jwks = config.jwtJwksUrl !== undefined || config.jwtJwksFile !== undefined;
  if (config.jwtJwksUrl !== undefined && config.jwtJwksFile !== undefined)
    return "set one of JWT_JWKS_URL and JWT_JWKS_FILE, not both";
  if (jwks && (config.jwtIssuer === undefined || config.jwtAudience === undefined))
    return "JWT verification needs JWT_ISSUER and JWT_AUDIENCE besides the JWKS";
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined))
    return "TLS needs both TLS_CERT_FILE and TLS_KEY_FILE";
  return undefined;
}

const FLAGS: Record<string, keyof NodeConfig> = {
  "--app-id": "applicationId",
  "--port": "port",
  "--host": "host",
  "--data-dir": "dataDir",
  "--kafka": "kafkaBrokers",
  "--mqtt": "mqttUrl",
  "--mqtt-port": "mqttPort",
  "--workers": "workers",
  "--partitions": "partitions",
  "--sensors": "sensorsPerType",
  "--rate": "rate",
  "--window-ms": "windowMs",
  "--window-kind": "windowKind",
  "--window-advance-ms": "windowAdvanceMs",
  "--session-gap-ms": "sessionGapMs",
  "--anomaly-detector": "anomalyDetector",
  "--grace-ms": "graceMs",
  "--partition-idle-ms": "partitionIdleMs",
  "--duration": "durationSeconds",
  "--commit-interval-ms": "commitIntervalMs",
  "--window-update-flush": "windowUpdateFlush",
  "--stop-timeout-ms": "stopTimeoutMs",
  "--sensor-idle-ms": "sensorIdleMs",
  "--log-retention-ms": "logRetentionMs",
  "--inject-drift-after": "injectDriftAfterSeconds",
  "--alert-rules": "alertRulesFile",
  "--alert-log": "alertLogFile",
  "--alert-webhook": "alertWebhookUrl",
  "--seed": "seed",
  "--questdb": "questdbUrl",
};

const ENV: Record<string, keyof NodeConfig> = {
  APPLICATION_ID: "applicationId",
  PORT: "port",
  HOST: "host",
  ADMIN_API_KEY: "adminApiKey",
  JWT_JWKS_URL: "jwtJwksUrl",
  JWT_JWKS_FILE: "jwtJwksFile",
  JWT_ISSUER: "jwtIssuer",
  JWT_AUDIENCE: "jwtAudience",
  CORS_ORIGINS: "corsOrigins",
  TLS_CERT_FILE: "tlsCertFile",
  TLS_KEY_FILE: "tlsKeyFile",
  RATE_LIMIT_PER_SECOND: "rateLimitPerSecond",
  RATE_LIMIT_BURST: "rateLimitBurst",
  DATA_DIR: "dataDir",
  KAFKA_BROKERS: "kafkaBrokers",
  KAFKA_SESSION_TIMEOUT_MS: "kafkaSessionTimeoutMs",
  EMBEDDED_LOG_SYNC: "embeddedLogSync",
  MQTT_URL: "mqttUrl",
  MQTT_PORT: "mqttPort",
  MQTT_INGEST_THREAD: "mqttIngestThread",
  WORKERS: "workers",
  PARTITIONS: "partitions",
  SENSORS_PER_TYPE: "sensorsPerType",
  RATE: "rate",
  WINDOW_MS: "windowMs",
  WINDOW_KIND: "windowKind",
  WINDOW_ADVANCE_MS: "windowAdvanceMs",
  SESSION_GAP_MS: "sessionGapMs",
  ANOMALY_DETECTOR: "anomalyDetector",
  GRACE_MS: "graceMs",
  PARTITION_IDLE_MS: "partitionIdleMs",
  DURATION_SECONDS: "durationSeconds",
  COMMIT_INTERVAL_MS: "commitIntervalMs",
  WINDOW_UPDATE_FLUSH: "windowUpdateFlush",
  STOP_TIMEOUT_MS: "stopTimeoutMs",
  SENSOR_IDLE_MS: "sensorIdleMs",
  LOG_RETENTION_MS: "logRetentionMs",
  LOG_TOPIC_RETENTION_MS: "logTopicRetentionMs",
  INJECT_DRIFT_AFTER_SECONDS: "injectDriftAfterSeconds",
  ALERT_RULES_FILE: "alertRulesFile",
  ALERT_LOG_FILE: "alertLogFile",
  ALERT_WEBHOOK_URL: "alertWebhookUrl",
  ALERT_ROUTES_FILE: "alertRoutesFile",
  SMTP_URL: "smtpUrl",
  ALERT_EMAIL_FROM: "alertEmailFrom",
  ALERT_EMAIL_TO: "alertEmailTo",
  SMS_PROVIDER_URL: "smsProviderUrl",
  SMS_PROVIDER_TOKEN: "smsProviderToken",
  SMS_FROM: "smsFrom",
  SMS_TO: "smsTo",
  ALERTMANAGER_URL: "alertmanagerUrl",
  ALERT_RESEND_MS: "alertResendMs",
  ALERT_CRASH_WINDOW_MS: "alertCrashWindowMs",
  SEED: "seed",
  NEWS: "news",
  NEWS_SOURCES: "newsSources",
  NEWSAPI_KEY: "newsapiKey",
  NEWSAPI_URL: "newsapiUrl",
  GDELT_URL: "gdeltUrl",
  GEMINI_API_KEY: "geminiApiKey",
  SIMULATOR: "simulator",
  GEMINI_BASE_URL: "geminiBaseUrl",
  GEMINI_MODEL: "geminiModel",
  NEWS_POLL_MS: "newsPollMs",
  NEWS_LOCATIONS: "newsLocations",
  NEWS_KEYWORDS: "newsKeywords",
  MARKET: "market",
  MARKET_SOURCES: "marketSources",
  ALPACA_KEY_ID: "alpacaKeyId",
  ALPACA_SECRET_KEY: "alpacaSecretKey",
  ALPACA_DATA_URL: "alpacaDataUrl",
  ALPACA_STREAM_URL: "alpacaStreamUrl",
  ALPACA_FEED: "alpacaFeed",
  MARKET_SYMBOLS: "marketSymbols",
  MARKET_SIM_HOURS: "marketSimHours",
  MARKET_SIM_TRADES_PER_MINUTE: "marketSimTradesPerMinute",
  MARKET_FAILBACK_MS: "marketFailbackMs",
  MARKET_MODEL: "marketModel",
  MARKET_MODEL_WARMUP_MINUTES: "marketModelWarmupMinutes",
  MARKET_MODEL_FIRST_TRAINING_ROWS: "marketModelFirstTrainingRows",
  QUESTDB_URL: "questdbUrl",
  QUESTDB_PG_URL: "questdbPgUrl",
  TIMESERIES_BATCH_SIZE: "timeseriesBatchSize",
  TIMESERIES_LINGER_MS: "timeseriesLingerMs",
  TIMESERIES_SINKS: "timeseriesSinks",
  TIMESERIES_TTL_DAYS: "timeseriesTtlDays",
  TIMESERIES_TABLE_TTL_DAYS: "timeseriesTableTtlDays",
  LAKE: "lake",
  LAKE_DIR: "lakeDir",
  FEATURES: "features",
  MODELS: "models",
  MLFLOW_URL: "mlflowUrl",
  MODELS_HISTORY_WINDOWS: "modelsHistoryWindows",
  MODELS_FIRST_TRAINING_ROWS: "modelsFirstTrainingRows",
  MODELS_UTILITY_FIRST_TRAINING_ROWS: "modelsUtilityFirstTrainingRows",
  MODELS_RETRAIN_EVERY_MS: "modelsRetrainEveryMs",
  REDIS_URL: "redisUrl",
  FEATURES_LINGER_MS: "featuresLingerMs",
  FEATURES_MATERIALIZE_EVERY_MS: "featuresMaterializeEveryMs",
  LAKE_BATCH_SIZE: "lakeBatchSize",
  LAKE_LINGER_MS: "lakeLingerMs",
  LAKE_GOLD_EVERY_MS: "lakeGoldEveryMs",
  LAKE_OPTIMIZE_EVERY_MS: "lakeOptimizeEveryMs",
  LAKE_VACUUM_EVERY_MS: "lakeVacuumEveryMs",
  LAKE_VACUUM_RETENTION_HOURS: "lakeVacuumRetentionHours",
  LAKE_MAINTENANCE: "lakeMaintenance",
};

export function loadNodeConfig(
  env: Record<string, string | undefined>,
  argv: readonly string[],
  overrides: Partial<NodeConfig> = {},
): NodeConfig {
  const raw: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== "") raw[field] = value;
  }
  if (env.SIMULATE !== undefined) raw.simulate = env.SIMULATE !== "0" && env.SIMULATE !== "false";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--no-simulator") raw.simulate = false;
    else if (arg === "--quiet") raw.progress = false;
    else {
      const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
      const field = FLAGS[flag];
      if (!field)
        throw new PlatformError(
          ErrorCodes.CONFIG_INVALID,
          `unknown flag '${arg}' (see README: Configuration)`,
        );
      const value = inline ?? argv[++i];
      if (value === undefined)
        throw new PlatformError(ErrorCodes.CONFIG_INVALID, `flag ${flag} needs a value`);
      raw[field] = value;
    }
  }
  const parsed = NodeConfig.safeParse({ ...raw, ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PlatformError(ErrorCodes.CONFIG_INVALID, `${issue.path.join(".")}: ${issue.message}`, {
      cause: parsed.error,
    });
  }
  const problem = pairingProblem(parsed.data);
  if (problem) throw new PlatformError(ErrorCodes.CONFIG_INVALID, problem);
  // secure by default: with no credential configured, only this machine can reach the API
  const host = parsed.data.host ?? (credentialsConfigured(parsed.data) ? "0.0.0.0" : "127.0.0.1");
  return { ...parsed.data, host };
}
