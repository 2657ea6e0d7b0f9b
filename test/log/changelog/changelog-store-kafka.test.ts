import { beforeAll, describe } from "bun:test";
import { ChangelogStore } from "../../../log/changelog/changelog-store.ts";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { Log } from "../../../log/log.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { stateStoreContract } from "./state-store.contract.ts";

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let apps = 0;

describe.skipIf(skipKafka)("changelog store against the real broker", () => {
  beforeAll(requireBroker);
  stateStoreContract(`changelog on Kafka (${brokers.join(",")})`, async () => {
    await requireBroker();
    const logs: Log[] = [];
    const open = async () => {
      const log = await openKafkaLog({ brokers, clientId: "changelog-contract" });
      logs.push(log);
      return log;
    };
    const shared = await open();
    return {
      async open({ partitions, onCorrupt, codec }) {
        const applicationId = `changelog-contract.${run}.${++apps}`;
        const options = {
          applicationId,
          kind: "window",
          partitions,
          ...(onCorrupt === undefined ? {} : { onCorrupt }),
          ...(codec === undefined ? {} : { codec }),
        };
        const store = await ChangelogStore.open({ ...options, log: shared });
        return {
          store,
          // a new client, as a restarted node has: nothing cached from the writer
          reopen: async () => ChangelogStore.open({ ...options, log: await open() }),
          async writeRaw(partition, key, value) {
            await shared.append([{ topic: store.topic, partition, key, value }]);
          },
          // the broker's log cleaner runs on its own schedule; restore must not depend on it
          compact: async () => false,
        };
      },
      async cleanup() {
        await Promise.all(logs.map((log) => log.close()));
      },
    };
  });
});
