/**
 * One list of error codes for the whole platform, and one error class that carries a code and
 * a cause. Catch only what you can handle; let the rest reach the supervisor.
 */
export const ErrorCodes = {
  // boundaries
  MALFORMED_JSON: "MALFORMED_JSON",
  SCHEMA_VIOLATION: "SCHEMA_VIOLATION",
  OUT_OF_RANGE: "OUT_OF_RANGE",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  HEADERS_TOO_LARGE: "HEADERS_TOO_LARGE",
  UNKNOWN_TOPIC: "UNKNOWN_TOPIC",
  UNKNOWN_SCHEMA: "UNKNOWN_SCHEMA",
  DECODE_FAILED: "DECODE_FAILED",
  // HTTP and WebSocket API
  BAD_REQUEST: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  UNSUPPORTED_FRAME: "UNSUPPORTED_FRAME",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  RATE_LIMITED: "RATE_LIMITED",
  INTERNAL: "INTERNAL",
  // actor runtime
  MAILBOX_FULL: "MAILBOX_FULL",
  ACTOR_STOPPED: "ACTOR_STOPPED",
  ACTOR_FAILED: "ACTOR_FAILED",
  RESTART_INTENSITY_EXCEEDED: "RESTART_INTENSITY_EXCEEDED",
  UNKNOWN_ACTOR_KIND: "UNKNOWN_ACTOR_KIND",
  WORKER_CRASHED: "WORKER_CRASHED",
  RING_RECORD_TOO_LARGE: "RING_RECORD_TOO_LARGE",
  ACTOR_EXISTS: "ACTOR_EXISTS",
  DRAIN_TIMEOUT: "DRAIN_TIMEOUT",
  // log
  LOG_CLOSED: "LOG_CLOSED",
  LOG_TOPIC_MISSING: "LOG_TOPIC_MISSING",
  LOG_PARTITION_INVALID: "LOG_PARTITION_INVALID",
  LOG_RECORD_TOO_LARGE: "LOG_RECORD_TOO_LARGE",
  LOG_NOT_AUTHORIZED: "LOG_NOT_AUTHORIZED",
  LOG_BROKER_UNAVAILABLE: "LOG_BROKER_UNAVAILABLE",
  LOG_OFFSET_OUT_OF_RANGE: "LOG_OFFSET_OUT_OF_RANGE",
  LOG_REBALANCE: "LOG_REBALANCE",
  LOG_BATCH_CORRUPT: "LOG_BATCH_CORRUPT",
  LOG_CHECKPOINT_FAILED: "LOG_CHECKPOINT_FAILED",
  LOG_TOPIC_CONFIG_TIMEOUT: "LOG_TOPIC_CONFIG_TIMEOUT",
  // schema registry
  SCHEMA_INCOMPATIBLE: "SCHEMA_INCOMPATIBLE",
  SCHEMA_INVALID: "SCHEMA_INVALID",
  SUBJECT_NOT_FOUND: "SUBJECT_NOT_FOUND",
  VERSION_NOT_FOUND: "VERSION_NOT_FOUND",
  SUBJECT_PROTECTED: "SUBJECT_PROTECTED",
  // ml
  MODEL_NOT_TRAINED: "MODEL_NOT_TRAINED",
  FEATURE_MISSING: "FEATURE_MISSING",
  TRAINING_DATA_INVALID: "TRAINING_DATA_INVALID",
  SAMPLE_TOO_SMALL: "SAMPLE_TOO_SMALL",
  // model lifecycle: experiment tracking, model registry, serving policies
  /** an experiment, run or artifact that the tracking store does not have */
  TRACKING_NOT_FOUND: "TRACKING_NOT_FOUND",
  /** a name, parameter, metric or tag the tracking store refuses (shape, size, duplicate) */
  TRACKING_INVALID: "TRACKING_INVALID",
  /** the tracking or registry server could not be reached or answered 5xx */
  TRACKING_UNAVAILABLE: "TRACKING_UNAVAILABLE",
  /** a registered model, version or alias the registry does not have */
  MODEL_NOT_FOUND: "MODEL_NOT_FOUND",
  /** a registry write that conflicts with what is there (a name taken, a stale transition) */
  MODEL_REGISTRY_CONFLICT: "MODEL_REGISTRY_CONFLICT",
  /** a routing policy (canary, A/B, shadow) that does not hold together */
  ROUTING_POLICY_INVALID: "ROUTING_POLICY_INVALID",
  // external data sources (market data, news, LLMs)
  SOURCE_UNAUTHORIZED: "SOURCE_UNAUTHORIZED",
  SOURCE_UNAVAILABLE: "SOURCE_UNAVAILABLE",
  SOURCE_RATE_LIMITED: "SOURCE_RATE_LIMITED",
  LLM_OUTPUT_INVALID: "LLM_OUTPUT_INVALID",
  // lake (Delta tables)
  DELTA_NOT_A_TABLE: "DELTA_NOT_A_TABLE",
  DELTA_LOG_CORRUPT: "DELTA_LOG_CORRUPT",
  DELTA_VERSION_NOT_FOUND: "DELTA_VERSION_NOT_FOUND",
  DELTA_FILE_MISSING: "DELTA_FILE_MISSING",
  DELTA_SCHEMA_MISMATCH: "DELTA_SCHEMA_MISMATCH",
  DELTA_COMMIT_CONFLICT: "DELTA_COMMIT_CONFLICT",
  DELTA_PROTOCOL_UNSUPPORTED: "DELTA_PROTOCOL_UNSUPPORTED",
  DELTA_PARQUET_FAILED: "DELTA_PARQUET_FAILED",
  // lake queries (SQL over the Delta tables)
  LAKE_TABLE_UNKNOWN: "LAKE_TABLE_UNKNOWN",
  LAKE_QUERY_INVALID: "LAKE_QUERY_INVALID",
  LAKE_QUERY_NOT_READ_ONLY: "LAKE_QUERY_NOT_READ_ONLY",
  LAKE_QUERY_TIMEOUT: "LAKE_QUERY_TIMEOUT",
  LAKE_QUERY_BUSY: "LAKE_QUERY_BUSY",
  LAKE_MAINTENANCE_RUNNING: "LAKE_MAINTENANCE_RUNNING",
  // feature store
  FEATURE_VIEW_NOT_FOUND: "FEATURE_VIEW_NOT_FOUND",
  FEATURE_VIEW_INVALID: "FEATURE_VIEW_INVALID",
  /** a view that its source table's schema, or an earlier version of it, cannot serve */
  FEATURE_VIEW_INCOMPATIBLE: "FEATURE_VIEW_INCOMPATIBLE",
  /** an entity frame or request keyed by a join key the view does not have */
  FEATURE_ENTITY_UNKNOWN: "FEATURE_ENTITY_UNKNOWN",
  // privacy: field encryption and deletion requests
  DECRYPTION_FAILED: "DECRYPTION_FAILED",
  ENCRYPTION_KEY_UNKNOWN: "ENCRYPTION_KEY_UNKNOWN",
  ERASURE_INCOMPLETE: "ERASURE_INCOMPLETE",
  // configuration and infrastructure
  CONFIG_INVALID: "CONFIG_INVALID",
  INFRA_UNAVAILABLE: "INFRA_UNAVAILABLE",
  WEBHOOK_FAILED: "WEBHOOK_FAILED",
  /** an alert channel (email, SMS, Alertmanager) refused or could not be reached */
  ALERT_DELIVERY_FAILED: "ALERT_DELIVERY_FAILED",
  // benchmarks
  BENCH_PEER_FAILED: "BENCH_PEER_FAILED",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class PlatformError extends Error {
  override readonly name = "PlatformError";
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

export function isPlatformError(error: unknown, code?: ErrorCode): error is PlatformError {
  return error instanceof PlatformError && (code === undefined || error.code === code);
}
