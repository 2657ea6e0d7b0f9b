import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runChild } from "../../bench/peers/child-run.ts";
import { NODE_COMMIT_INTERVAL_MS } from "../../bench/peers/ours-windowed-aggregation.ts";
import {
  buildKafkaStreams,
  KS_CONFIGS,
  type KsConfig,
  kafkaStreamsBuilt,
  kafkaStreamsCommand,
  kafkaStreamsEnv,
  NODE_COMPRESSION,
  oursCommand,
  type SideArgs,
} from "../../bench/peers/peer-commands.ts";
import { BenchTopics } from "../../bench/peers/topic-admin.ts";
import { defaultSpec, generateReadings, produceReadings } from "../../bench/peers/traffic-data.ts";
import { readFinalWindows } from "../../bench/peers/window-outputs.ts";
import { diffWindows, referenceWindows } from "../../bench/peers/window-result.ts";
import { openKafkaLog } from "../../log/kafka/index.ts";
import type { Log } from "../../log/log.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import { brokers, requireBroker, skipKafka } from "../../testkit/kafka-broker.ts";

/**
 * What makes the peer benchmark honest: on the same 2,000 readings, our side (the node's window
 * actors, with changelog checkpoints) and the Kafka Streams peer, in each of the configurations
 * the benchmark runs, end with the same aggregate in every window, and both equal a plain fold
 * over the readings. The Kafka Streams half needs the Maven build (bench/peers/kafka-streams/target);
 * it is built here only with PEER_BENCH_BUILD=1, otherwise skipped with a message.
 */
const RECORDS = 2_000;
const spec = defaultSpec(RECORDS, {
  sensors: 40,
  spanMs: 5 * 60_000,
  firstEventTime: Date.now() - 6 * 60_000,
});
const expected = referenceWindows(generateReadings(spec));
const runId = `${Date.now()}-${process.pid}`;
const javaWanted = process.env.PEER_BENCH_BUILD === "1" || kafkaStreamsBuilt();
if (!skipKafka && !javaWanted) {
  console.warn(
    "peer-windowed-aggregation: Kafka Streams comparison skipped (no build in bench/peers/kafka-streams/target; " +
      "run `mvn -q -f bench/peers/kafka-streams/pom.xml package` or set PEER_BENCH_BUILD=1)",
  );
}

let log: Log;
let topics: BenchTopics;
let input: string;

function sideArgs(output: string): SideArgs {
  return {
    brokers: brokers.join(","),
    input,
    output,
    records: RECORDS,
    graceMs: 30_000,
    timeoutSeconds: 40,
    commitIntervalMs: NODE_COMMIT_INTERVAL_MS,
  };
}

describe.skipIf(skipKafka)("peer windowed aggregation on the real broker", () => {
  beforeAll(async () => {
    await requireBroker();
    log = await openKafkaLog({ brokers, clientId: "peer-bench-test" });
    topics = new BenchTopics(brokers);
    input = await topics.create(log, `peer-test-in-${runId}`, 12);
    await produceReadings(log, input, generateReadings(spec));
  }, 30_000);

  afterAll(async () => {
    await topics
      ?.deleteAll([`peer-ks-${input}`, `peer-ours-${input}`])
      .catch((error: unknown) => console.warn("topic clean-up failed", error));
    await topics?.close();
    await log?.close();
  });

  test("the reference fold covers every traffic reading in more than one window per sensor", () => {
    const folded = [...expected.values()].reduce((sum, window) => sum + window.count, 0);
    const traffic = [...generateReadings(spec)].filter((reading) => reading.traffic !== undefined).length;
    expect(folded).toBe(traffic);
    expect(traffic).toBeLessThan(RECORDS); // the filter has environment readings to remove
    expect(expected.size).toBeGreaterThan(spec.sensors * 4);
  });

  test("both sides compress with the node's codec: log/kafka's default, which a node does not override", () => {
    expect(NODE_COMPRESSION).toBe("lz4");
    expect(kafkaStreamsEnv("memory+changelog", sideArgs("out")).PEER_KS_COMPRESSION).toBe(NODE_COMPRESSION);
  });

  // both of the bench's forms of our side: per batch (the node's default) and with its window
  // updates held to the commit (Kafka Streams' cache), the form the pairing is judged on
  test.each(["batch", "checkpoint"] as const)(
    "our side (window updates flushed at each %s) ends with the reference aggregate in every window",
    async (flush) => {
      const output = await topics.create(log, `peer-test-ours-${flush}-${runId}`, 12);
      const result = await runChild("ours", oursCommand(sideArgs(output), flush), 45_000).result;
      expect(result.updateFlush).toStartWith(flush === "batch" ? "per batch" : "at the checkpoint");
      expect(result.records).toBe(RECORDS);
      // the node's codec, which the Kafka Streams side is given too
      expect(result.compression).toBe(NODE_COMPRESSION);
      expect(diffWindows(expected, await readFinalWindows(log, output))).toEqual([]);
      // as a node runs: one window actor per partition with traffic sensors, each sensor's state
      // in the changelog at a checkpoint
      const trafficPartitions = new Set(
        [...generateReadings(spec)]
          .filter((reading) => reading.traffic !== undefined)
          .map((reading) => partitionFor(reading.key, 12)),
      );
      expect(result.windowActors).toBe(trafficPartitions.size);
      expect(result.checkpoints).toBeGreaterThanOrEqual(1);
      expect(result.changelogRecords).toBeGreaterThanOrEqual(spec.sensors);
    },
    50_000,
  );

  test.skipIf(!javaWanted).each(Object.keys(KS_CONFIGS) as KsConfig[])(
    "Kafka Streams (%s) ends with the same aggregate in every window",
    async (config) => {
      if (!kafkaStreamsBuilt()) await buildKafkaStreams(120_000);
      const output = await topics.create(log, `peer-test-ks-${config.replace(/[^a-z]+/g, "-")}-${runId}`, 12);
      const args = sideArgs(output);
      const result = await runChild(
        `kafka-streams ${config}`,
        kafkaStreamsCommand(args),
        45_000,
        kafkaStreamsEnv(config, args),
      ).result;
      expect(result.records).toBe(RECORDS);
      expect(result.compression).toBe(NODE_COMPRESSION);
      expect(diffWindows(expected, await readFinalWindows(log, output))).toEqual([]);
    },
    60_000,
  );
});
