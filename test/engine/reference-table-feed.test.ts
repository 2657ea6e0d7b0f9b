import { beforeAll, describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import { openKafkaLog } from "../../log/kafka/index.ts";
import { brokers, requireBroker, skipKafka } from "../../testkit/kafka-broker.ts";
import { referenceFollowCases } from "./reference-table-feed.case.ts";

describe("following a reference topic in the embedded log", () => {
  referenceFollowCases("embedded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reference-follow-"));
    const log = await openLog({ kind: "embedded", path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
    return {
      log,
      async cleanup() {
        await log.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describe.skipIf(skipKafka)("following a reference topic in Kafka", () => {
  beforeAll(requireBroker);
  referenceFollowCases(`kafka (${brokers.join(",")})`, async () => {
    await requireBroker();
    const log = await openKafkaLog({ brokers, clientId: "reference-follow" });
    return {
      log,
      async cleanup() {
        await log.close();
      },
    };
  });
});
