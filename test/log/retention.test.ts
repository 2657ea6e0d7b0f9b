import { describe, expect, test } from "bun:test";
import type { TopicConfig, TopicSpec } from "../../log/log.ts";
import {
  DEFAULT_RETENTION,
  DEFAULT_RETENTION_MS,
  parseTopicRetention,
  type RetentionPolicy,
  validRetention,
  wantedConfig,
} from "../../log/retention.ts";
import { ErrorCodes, isPlatformError } from "../../messages/errors.ts";

describe("a topic's wanted config under a retention policy", () => {
  const policy: RetentionPolicy = { defaultMs: 1000, topics: { "city.sensors.raw": 500 } };
  const cases: { name: string; spec: TopicSpec; config: TopicConfig }[] = [
    {
      name: "a plain topic takes the default",
      spec: { name: "city.sensors.silver", partitions: 1 },
      config: { compacted: false, retentionMs: 1000 },
    },
    {
      name: "an override by topic name wins over the default",
      spec: { name: "city.sensors.raw", partitions: 1 },
      config: { compacted: false, retentionMs: 500 },
    },
    {
      name: "the spec's own retention wins over the override",
      spec: { name: "city.sensors.raw", partitions: 1, retentionMs: 42 },
      config: { compacted: false, retentionMs: 42 },
    },
    {
      name: "a compacted topic has no time retention, whatever the default",
      spec: { name: "app.sensor.changelog", partitions: 1, compacted: true },
      config: { compacted: true, retentionMs: undefined },
    },
    {
      name: "a compacted topic with its own retention is compact and delete",
      spec: { name: "app.window.changelog", partitions: 1, compacted: true, retentionMs: 7 },
      config: { compacted: true, retentionMs: 7 },
    },
  ];
  for (const { name, spec, config } of cases)
    test(name, () => expect(wantedConfig(spec, policy)).toEqual(config));

  test("no policy means 7 days for every topic", () => {
    expect(validRetention(undefined)).toBe(DEFAULT_RETENTION);
    expect(DEFAULT_RETENTION_MS).toBe(604_800_000);
  });
});

describe("LOG_TOPIC_RETENTION_MS", () => {
  test("topic=ms pairs separated by commas become overrides; blanks are ignored", () => {
    expect(parseTopicRetention(" city.sensors.raw=86400000, ops.alerts=2592000000 ,")).toEqual({
      "city.sensors.raw": 86_400_000,
      "ops.alerts": 2_592_000_000,
    });
    expect(parseTopicRetention("")).toEqual({});
  });

  for (const bad of ["city.sensors.raw", "=5", "t=0", "t=-1", "t=1.5", "t=soon"])
    test(`"${bad}" is refused with CONFIG_INVALID`, () => {
      let error: unknown;
      try {
        parseTopicRetention(bad);
      } catch (caught) {
        error = caught;
      }
      expect(isPlatformError(error, ErrorCodes.CONFIG_INVALID)).toBe(true);
    });
});
