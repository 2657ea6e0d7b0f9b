import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { TopicConfig, TopicSpec } from "./log.ts";

/**
 * How long a log keeps records, as Kafka's topic configs say it: a delete topic drops records
 * older than `retention.ms`; a compacted topic (`cleanup.policy=compact`) keeps the latest
 * record per key for ever and ignores `retention.ms`. Every topic gets a retention unless it is
 * compacted: the spec's own, else the policy's override for the topic's name, else the
 * default (Kafka's broker default, `log.retention.hours=168`, is also 7 days). A compacted topic
 * that names a retention of its own is both (Kafka's `cleanup.policy=compact,delete`, as Kafka
 * Streams uses for windowed stores).
 */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface RetentionPolicy {
  /** records of non-compacted topics older than this are deleted */
  readonly defaultMs: number;
  /** per-topic overrides by exact topic name */
  readonly topics?: Readonly<Record<string, number>>;
}

export const DEFAULT_RETENTION: RetentionPolicy = { defaultMs: DEFAULT_RETENTION_MS };

/** the configuration a topic should have under `policy` */
export function wantedConfig(spec: TopicSpec, policy: RetentionPolicy): TopicConfig {
  if (spec.compacted === true) return { compacted: true, retentionMs: spec.retentionMs };
  return {
    compacted: false,
    retentionMs: spec.retentionMs ?? policy.topics?.[spec.name] ?? policy.defaultMs,
  };
}

/** checks a policy before a log uses it: a zero or negative retention would empty topics */
export function validRetention(policy: RetentionPolicy | undefined): RetentionPolicy {
  if (policy === undefined) return DEFAULT_RETENTION;
  const bad = (ms: number) => !Number.isSafeInteger(ms) || ms <= 0;
  if (bad(policy.defaultMs))
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "log retention must be a positive whole number of ms",
      {
        details: { retentionMs: policy.defaultMs },
      },
    );
  for (const [topic, ms] of Object.entries(policy.topics ?? {}))
    if (bad(ms))
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `log retention of ${topic} must be a positive whole number of ms`,
        { details: { topic, retentionMs: ms } },
      );
  return policy;
}

/**
 * Parses per-topic overrides written as `topic=ms,topic=ms` (LOG_TOPIC_RETENTION_MS). Topic
 * names may hold dots and dashes, never `=` or `,`.
 */
export function parseTopicRetention(text: string): Record<string, number> {
  const overrides: Record<string, number> = {};
  for (const part of text.split(",")) {
    const entry = part.trim();
    if (entry === "") continue;
    const equals = entry.lastIndexOf("=");
    const topic = entry.slice(0, equals).trim();
    const ms = Number(entry.slice(equals + 1).trim());
    if (equals <= 0 || topic === "" || !Number.isSafeInteger(ms) || ms <= 0)
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `LOG_TOPIC_RETENTION_MS: "${entry}" is not topic=<positive ms>`,
        { details: { entry } },
      );
    overrides[topic] = ms;
  }
  return overrides;
}
