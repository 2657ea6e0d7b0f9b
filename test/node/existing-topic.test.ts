import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import { Topics } from "../../messages/topics.ts";
import { startNode } from "../../node/start-node.ts";
import { testNodeConfig } from "./node-fixture.ts";

/**
 * Regression: a node started with PARTITIONS=4 on a log whose city.sensors.raw already had 3
 * partitions placed actors, changelogs and ownership for 4 while keys were partitioned by 3.
 * The existing topic's partition count wins.
 */
test("a node follows the partition count of an input topic that already exists", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "existing-topic-"));
  try {
    const log = await openLog({ kind: "embedded", path: join(dataDir, "log.db") });
    await log.createTopic({ name: Topics.sensorsRaw, partitions: 3 });
    await log.close();
    const node = await startNode(testNodeConfig(dataDir, { partitions: 4 }));
    try {
      const body = (await (await fetch(`${node.apiUrl}/api/owners`)).json()) as { owners: unknown[] };
      expect(body.owners).toHaveLength(3);
      expect(await node.log.partitions(Topics.changelogOf(node.config.applicationId, "window"))).toBe(3);
    } finally {
      await node.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
