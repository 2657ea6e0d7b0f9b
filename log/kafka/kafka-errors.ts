import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * Turns what @platformatic/kafka throws into PlatformErrors with the Log port's codes.
 *
 * The library wraps broker answers in nested errors: a `MultipleErrors`/`ResponseError` holds
 * `errors[]`, each `ProtocolError` carries the Kafka protocol error name in `apiId`
 * (`UNKNOWN_TOPIC_OR_PARTITION`, `MESSAGE_TOO_LARGE`, `TOPIC_AUTHORIZATION_FAILED`, ...; see the
 * Kafka protocol guide, "Error Codes"), and a `NetworkError` (code `PLT_KFK_NETWORK`) means no
 * broker could be reached. We walk the whole tree once and pick the most specific cause.
 */

interface ErrorFacts {
  readonly apiIds: Set<string>;
  readonly codes: Set<string>;
}

function collect(error: unknown, facts: ErrorFacts, depth = 0): void {
  if (depth > 8 || error === null || typeof error !== "object") return;
  const record = error as { apiId?: unknown; code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof record.apiId === "string") facts.apiIds.add(record.apiId);
  if (typeof record.code === "string") facts.codes.add(record.code);
  if (Array.isArray(record.errors)) {
    for (const inner of record.errors) collect(inner, facts, depth + 1);
  }
  if (record.cause !== undefined) collect(record.cause, facts, depth + 1);
}

export function errorFacts(error: unknown): ErrorFacts {
  const facts: ErrorFacts = { apiIds: new Set(), codes: new Set() };
  collect(error, facts);
  return facts;
}

export function hasApiError(error: unknown, apiId: string): boolean {
  return errorFacts(error).apiIds.has(apiId);
}

/** the library reports a topic missing from metadata as a UserError "Unknown topic <name>." */
export function isUnknownTopic(error: unknown): boolean {
  if (hasApiError(error, "UNKNOWN_TOPIC_OR_PARTITION") || hasApiError(error, "UNKNOWN_TOPIC_ID")) return true;
  return error instanceof Error && /^Unknown topic /.test(error.message);
}

const AUTH_ERRORS = [
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
];

export interface KafkaErrorContext {
  /** what the adapter was doing, e.g. "append to sensor.readings" */
  readonly action: string;
  readonly brokers: readonly string[];
  readonly topic?: string;
  readonly maxRecordBytes?: number;
}

/** A PlatformError for a library error; PlatformErrors pass through unchanged. */
export function toPlatformError(error: unknown, context: KafkaErrorContext): PlatformError {
  if (error instanceof PlatformError) return error;
  const facts = errorFacts(error);
  const reason = error instanceof Error ? error.message : String(error);
  const details: Record<string, unknown> = { brokers: context.brokers, apiErrors: [...facts.apiIds] };
  if (context.topic !== undefined) details.topic = context.topic;

  if (isUnknownTopic(error)) {
    return new PlatformError(
      ErrorCodes.LOG_TOPIC_MISSING,
      `${context.action}: topic ${context.topic ?? "(unknown)"} does not exist on ${context.brokers.join(",")}`,
      { cause: error, details },
    );
  }
  if (facts.apiIds.has("MESSAGE_TOO_LARGE") || facts.apiIds.has("RECORD_LIST_TOO_LARGE")) {
    return new PlatformError(
      ErrorCodes.LOG_RECORD_TOO_LARGE,
      `${context.action}: the broker refused a record batch as too large for topic ${context.topic ?? "(unknown)"} (client limit ${context.maxRecordBytes ?? "unset"} bytes; broker limit is message.max.bytes / max.message.bytes)`,
      { cause: error, details: { ...details, limitBytes: context.maxRecordBytes } },
    );
  }
  if (AUTH_ERRORS.some((id) => facts.apiIds.has(id)) || facts.codes.has("PLT_KFK_AUTHENTICATION")) {
    return new PlatformError(
      ErrorCodes.LOG_NOT_AUTHORIZED,
      `${context.action}: not authorized${context.topic === undefined ? "" : ` for topic ${context.topic}`} on ${context.brokers.join(",")}: ${reason}`,
      { cause: error, details },
    );
  }
  if (facts.apiIds.has("OFFSET_OUT_OF_RANGE")) {
    return new PlatformError(ErrorCodes.LOG_OFFSET_OUT_OF_RANGE, `${context.action}: ${reason}`, {
      cause: error,
      details,
    });
  }
  if (
    facts.codes.has("PLT_KFK_NETWORK") ||
    facts.codes.has("PLT_KFK_TIMEOUT") ||
    facts.apiIds.has("LEADER_NOT_AVAILABLE") ||
    facts.apiIds.has("NOT_LEADER_OR_FOLLOWER") ||
    facts.apiIds.has("COORDINATOR_NOT_AVAILABLE")
  ) {
    return new PlatformError(
      ErrorCodes.LOG_BROKER_UNAVAILABLE,
      `${context.action}: Kafka brokers ${context.brokers.join(",")} unavailable: ${reason}`,
      { cause: error, details },
    );
  }
  if (facts.apiIds.has("REBALANCE_IN_PROGRESS") || facts.apiIds.has("ILLEGAL_GENERATION")) {
    return new PlatformError(
      ErrorCodes.LOG_REBALANCE,
      `${context.action}: the group is rebalancing: ${reason}`,
      {
        cause: error,
        details,
      },
    );
  }
  return new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, `${context.action} failed on Kafka: ${reason}`, {
    cause: error,
    details,
  });
}
