import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FeatureRegistry, type SourceCatalog } from "../../../features/registry/feature-registry.ts";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { Log } from "../../../log/log.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { TEST_TABLE_SCHEMA, testView } from "../feature-fixtures.ts";

/** The registry on the real broker: versions, a race between two clients, replay by a new client. */
const topic = `_feature_views.test.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const catalog: SourceCatalog = { schema: async () => TEST_TABLE_SCHEMA, version: async () => 3 };
const logs: Log[] = [];
const open = async () => {
  const log = await openKafkaLog({ brokers, clientId: "feature-registry-test" });
  logs.push(log);
  return FeatureRegistry.open(log, catalog, { topic });
};

describe.skipIf(skipKafka)("feature registry on Kafka", () => {
  beforeAll(requireBroker);
  afterAll(async () => {
    for (const log of logs) await log.close();
  });

  test("versions, a race between two clients and a replay agree", async () => {
    const a = await open();
    const b = await open();
    expect((await a.register(testView())).version).toBe(1);
    const [ra, rb] = await Promise.all([
      a.register(testView({ description: "from a" })),
      b.register(testView({ description: "from b" })),
    ]);
    expect(new Set([ra.version, rb.version])).toEqual(new Set([2, 3]));
    const replayed = await open();
    expect(replayed.versions("test_view").map((v) => [v.version, v.definition.description])).toEqual([
      [1, ""],
      ...[ra, rb].sort((x, y) => x.version - y.version).map((v) => [v.version, v.definition.description]),
    ]);
    expect(replayed.view("test_view", 1).lineage.tableVersion).toBe(3);
  }, 60_000);
});
