import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openKafkaLog } from "../../../log/kafka/index.ts";
import type { KafkaLog } from "../../../log/kafka/kafka-log.ts";
import type { Log, LogRecord } from "../../../log/log.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { brokers, requireBroker, skipKafka } from "../../../testkit/kafka-broker.ts";
import { indexOf, type KafkaProxy, startKafkaProxy } from "./kafka-proxy.ts";
import { removeScratch } from "./scratch-topics.ts";

/**
 * The group consumer's corrupt-batch handling (log/kafka/corrupt-batches.ts) against the real
 * broker: a broker serves what it stored, so the corruption is made on the way, by a proxy on
 * loopback that flips a byte inside one record batch of a Fetch response. Three batches are
 * appended one at a time (A, B, C); B's values carry a marker the proxy looks for.
 * - Corrupt on every fetch (a batch damaged in the broker's log, as the consumer sees it): A's
 *   records are handed out, B is fetched again twice, then the poll fails with
 *   LOG_BATCH_CORRUPT; nothing of B or C is handed out.
 * - Corrupt on the first fetch only (damage on the way): the refetch reads B whole; every record
 *   of A, B and C is handed out once, in offset order.
 */
const MARKER = "corrupt-me";
const PER_BATCH = 5;
const valuesOf = (batch: string) =>
  Array.from({ length: PER_BATCH }, (_, i) => (batch === "b" ? `${MARKER}-b-${i}` : `${batch}-${i}`));
const text = new TextDecoder();
const [upstreamHost, upstreamPort] = (brokers[0] ?? "127.0.0.1:9092").split(":");

describe.skipIf(skipKafka)(
  "group consumer meeting a corrupt record batch (real broker, corrupting proxy)",
  () => {
    let direct: Log;
    const groups: string[] = [];
    const topic = `corrupt-batch-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

    beforeAll(async () => {
      await requireBroker();
      // uncompressed, so the marker is there to find in the fetched bytes
      direct = await openKafkaLog({ brokers, clientId: "corrupt-batch-producer", compression: "none" });
      await direct.createTopic({ name: topic, partitions: 1 });
      // one append at a time: each is its own produce request, so its own record batch
      for (const batch of ["a", "b", "c"])
        await direct.append(
          valuesOf(batch).map((value) => ({ topic, key: batch, value: new TextEncoder().encode(value) })),
        );
    });

    afterAll(async () => {
      await direct?.close();
      await removeScratch({ topics: [topic], groups });
    });

    /** polls through the proxy until the error or every record; the proxy's corrupted fetches */
    async function consumeThrough(corruptFetches: number) {
      const marker = new TextEncoder().encode(MARKER);
      let corrupted = 0;
      let proxy: KafkaProxy | undefined;
      let log: Log | undefined;
      try {
        proxy = await startKafkaProxy({
          upstreamHost: upstreamHost ?? "127.0.0.1",
          upstreamPort: Number(upstreamPort ?? 9092),
          onFetchResponse(frame) {
            const at = indexOf(frame, marker, 0);
            if (at < 0 || corrupted >= corruptFetches) return;
            corrupted++;
            frame[at] = frame[at]! ^ 0xff; // inside B's records: its CRC-32C no longer matches
          },
        });
        log = await openKafkaLog({
          brokers: [`127.0.0.1:${proxy.port}`],
          clientId: "corrupt-batch-consumer",
        });
        const groupId = `${topic}-${corruptFetches}`;
        groups.push(groupId);
        const consumer = log.consumer({
          groupId,
          topics: [topic],
          startFrom: "earliest",
        });
        const records: LogRecord[] = [];
        let failure: unknown;
        let corruptSeenAtFailure: number | undefined;
        const deadline = Date.now() + 30_000;
        while (records.length < 3 * PER_BATCH && Date.now() < deadline) {
          try {
            records.push(...(await consumer.poll({ timeoutMs: 1_000 })));
          } catch (error) {
            failure = error;
            corruptSeenAtFailure = (log as KafkaLog).corruptBatches().get(topic);
            break;
          }
        }
        await consumer.close();
        return {
          records,
          failure,
          corrupted,
          corruptSeenAtFailure,
          counted: (log as KafkaLog).corruptBatches().get(topic),
        };
      } finally {
        await log?.close();
        await proxy?.close();
      }
    }

    test("a batch corrupt on every fetch: the batches before it are handed out, it is fetched twice more, then the poll fails with LOG_BATCH_CORRUPT", async () => {
      const { records, failure, corrupted, corruptSeenAtFailure } = await consumeThrough(
        Number.POSITIVE_INFINITY,
      );
      expect(records.map((r) => text.decode(r.value!))).toEqual(valuesOf("a"));
      expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
      expect(isPlatformError(failure, ErrorCodes.LOG_BATCH_CORRUPT)).toBe(true);
      expect((failure as Error).message).toContain(`${topic}#0 at offset 5`);
      // the first fetch and its 2 refetches, each counted (platform_log_corrupt_batches_total)
      expect(corruptSeenAtFailure).toBe(3);
      expect(corrupted).toBe(3);
    }, 60_000);

    test("a batch corrupt on its first fetch only: the refetch reads it, and every record is handed out once, in order", async () => {
      const { records, failure, corrupted, counted } = await consumeThrough(1);
      expect(failure).toBeUndefined();
      expect(corrupted).toBe(1);
      expect(counted).toBe(1);
      expect(records.map((r) => text.decode(r.value!))).toEqual([
        ...valuesOf("a"),
        ...valuesOf("b"),
        ...valuesOf("c"),
      ]);
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 3 * PER_BATCH }, (_, i) => i));
    }, 60_000);
  },
);
