/**
 * A child process for the kill -9 test: a persistent-session subscriber whose consumer appends
 * each message's payload to an embedded log (durable before the batch resolves). Prints "ready"
 * once subscribed, and "batch" when a batch arrives, which it holds `holdMs` before appending:
 * the test kills it inside that window, with received messages not yet durable.
 * Arguments: url clientId topicFilter logPath protocolVersion holdMs.
 */
import { openLog } from "../../../log/index.ts";
import { createMqttSubscriber } from "../../../sources/mqtt/mqtt-subscriber.ts";

const [url, clientId, filter, logPath, version, holdMs] = process.argv.slice(2) as string[] as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const ACKED_TOPIC = "acked-readings";
const log = await openLog({ kind: "embedded", path: logPath });
await log.createTopic({ name: ACKED_TOPIC, partitions: 1 });
const subscriber = createMqttSubscriber({
  url,
  clientId,
  cleanSession: false,
  // the test broker forgets the session a minute after the test
  sessionExpirySeconds: 60,
  protocolVersion: version === "5" ? 5 : 4,
  topics: [filter],
  maxBatch: 100,
  reconnectPeriodMs: 100,
  onBatch: async (batch) => {
    console.log("batch");
    await Bun.sleep(Number(holdMs));
    await log.append(batch.map((m) => ({ topic: ACKED_TOPIC, key: null, value: m.payload })));
  },
  onError: (error) => console.error(error.message, String(error.cause)),
});
await subscriber.start();
console.log("ready");
