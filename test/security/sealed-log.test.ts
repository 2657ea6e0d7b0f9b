import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { createFieldCipher } from "../../security/field-cipher.ts";
import { createRecordSealer } from "../../security/record-sealer.ts";
import { sealedLog } from "../../security/sealed-log.ts";
import { brokers, skipKafka } from "../../testkit/kafka-broker.ts";

/**
 * What the log holds at rest is sealed, what the platform reads is plain: against the embedded
 * log and the real Kafka broker. The registry topic is shared with other runs on Kafka, so each
 * run uses sensor ids of its own.
 */
const cipher = createFieldCipher({ id: "k1", key: randomBytes(32) });
const dir = mkdtempSync(join(tmpdir(), "sealed-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (value: Uint8Array | null) => new TextDecoder().decode(value ?? new Uint8Array());

const backends: [string, () => Promise<Log>][] = [
  ["embedded", () => openLog({ kind: "embedded", path: join(dir, "log.db") })],
];
if (!skipKafka)
  backends.push([
    "kafka",
    () => openLog({ kind: "kafka", brokers: [...brokers], clientId: "sealed-log-test" }),
  ]);

for (const [name, open] of backends)
  describe(`sealed log on the ${name} log`, () => {
    test("a registry row's owner is ciphertext in the log and plain through read and poll", async () => {
      const backend = await open();
      // the shared broker's registry is followed by other runs' nodes: a topic of the run's own
      const topic = `sealed-log-${Math.random().toString(36).slice(2, 10)}`;
      const log = sealedLog(
        backend,
        createRecordSealer(cipher, { topics: [{ topic, table: "sensor-registry", fields: ["owner"] }] }),
      );
      try {
        await log.createTopic({ name: topic, partitions: 1, compacted: true });
        const sensor = `sealed-${Math.random().toString(36).slice(2, 10)}`;
        const row = { sensor_id: sensor, district: "Harbour", owner: "Grace Hopper" };
        const [position] = await log.append([{ topic: topic, key: sensor, value: encode(row) }]);
        const tp = { topic: topic, partition: position!.partition };

        const [atRest] = await backend.read(tp, { fromOffset: position!.offset, maxRecords: 1 });
        expect(decode(atRest!.value)).not.toContain("Grace");
        expect(decode(atRest!.value)).toContain("Harbour");

        const [viaRead] = await log.read(tp, { fromOffset: position!.offset, maxRecords: 1 });
        expect(JSON.parse(decode(viaRead!.value))).toEqual(row);

        const consumer = log.consumer({ groupId: `sealed-${sensor}`, topics: [topic] });
        try {
          const deadline = Date.now() + 30_000;
          let found: unknown;
          while (found === undefined && Date.now() < deadline) {
            for (const record of await consumer.poll({ timeoutMs: 500, maxRecords: 5000 }))
              if (record.key === sensor) found = JSON.parse(decode(record.value));
          }
          expect(found).toEqual(row);
        } finally {
          await consumer.close();
        }
      } finally {
        await log.close();
      }
    }, 60_000);
  });
