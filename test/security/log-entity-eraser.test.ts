import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { partitionFor } from "../../messages/murmur2.ts";
import { Topics } from "../../messages/topics.ts";
import type { ErasureRequest } from "../../security/entity-eraser.ts";
import { createLogEntityEraser } from "../../security/log-entity-eraser.ts";
import { platformErasureTargets } from "../../security/platform-erasure-targets.ts";
import { brokers, skipKafka } from "../../testkit/kafka-broker.ts";

/**
 * A sensor's deletion request on the log: its keys in the registry and in both changelogs get
 * tombstones (and only its keys), the append-only topics are reported with their retention, and a
 * second run finds nothing left. Against the embedded log and the real broker (an application id
 * and sensor ids of the run's own).
 */
const dir = mkdtempSync(join(tmpdir(), "log-eraser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const backends: [string, () => Promise<Log>][] = [
  ["embedded", () => openLog({ kind: "embedded", path: join(dir, "log.db") })],
];
if (!skipKafka)
  backends.push(["kafka", () => openLog({ kind: "kafka", brokers: [...brokers], clientId: "eraser-test" })]);

const windowKey = (type: string, sensor: string) => `${type}:${partitionFor(sensor, 4)}:${sensor}`;

/** the latest value of every key of a topic: what compaction will keep */
async function latest(log: Log, topic: string): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  const count = (await log.partitions(topic)) ?? 0;
  for (let partition = 0; partition < count; partition++) {
    const end = await log.endOffset({ topic, partition });
    let from = 0;
    while (from < end) {
      const records = await log.read({ topic, partition }, { fromOffset: from, maxRecords: 5000 });
      if (records.length === 0) break;
      for (const r of records) {
        from = r.offset + 1;
        if (r.key !== null) out.set(r.key, r.value === null ? null : new TextDecoder().decode(r.value));
      }
    }
  }
  return out;
}

for (const [name, open] of backends)
  describe(`log entity eraser on the ${name} log`, () => {
    test("tombstones every key of the sensor in the compacted topics and nothing of another sensor", async () => {
      const log = await open();
      const run = Math.random().toString(36).slice(2, 8);
      const app = `erase-${run}`;
      const [victim, bystander] = [`erase-${run}-a`, `erase-${run}-b`];
      // the shared broker's registry is followed by other runs' nodes: a registry of the run's own
      const registry = `${app}.ref.sensor-registry`;
      const sensorLog = Topics.changelogOf(app, "sensor");
      const windowLog = Topics.changelogOf(app, "window");
      try {
        for (const topic of [registry, sensorLog, windowLog])
          await log.createTopic({
            name: topic,
            partitions: topic === registry ? 1 : 4,
            compacted: true,
          });
        await log.createTopic({ name: Topics.sensorsRaw, partitions: 4 });
        for (const sensor of [victim, bystander])
          await log.append([
            {
              topic: registry,
              key: sensor,
              value: encode({ sensor_id: sensor, owner: "someone" }),
            },
            {
              topic: registry,
              key: sensor,
              value: encode({ sensor_id: sensor, owner: "someone else" }),
            },
            // as the node writes its changelogs: in the sensor's input partition, whatever the key
            { topic: sensorLog, key: sensor, value: encode({ n: 1 }), partition: partitionFor(sensor, 4) },
            {
              topic: windowLog,
              key: windowKey("traffic", sensor),
              value: encode({ w: 1 }),
              partition: partitionFor(sensor, 4),
            },
            {
              topic: windowLog,
              key: windowKey("air", sensor),
              value: encode({ w: 2 }),
              partition: partitionFor(sensor, 4),
            },
          ]);
        const eraser = createLogEntityEraser(log, platformErasureTargets(app, registry));
        const request: ErasureRequest = {
          requestId: `r-${run}`,
          entity: { kind: "sensor", id: victim },
          requestedBy: "admin",
          requestedAt: Date.now(),
        };

        const outcomes = await eraser.erase(request);
        expect(
          outcomes.filter((o) => o.status === "erased").map((o) => [o.detail?.split(":")[0], o.items]),
        ).toEqual([
          [registry, 1],
          [sensorLog, 1],
          [windowLog, 2],
        ]);
        expect(outcomes.filter((o) => o.status === "expires").map((o) => o.detail?.split(":")[0])).toContain(
          Topics.sensorsRaw,
        );
        for (const [topic, keys] of [
          [registry, [victim]],
          [sensorLog, [victim]],
          [windowLog, [windowKey("traffic", victim), windowKey("air", victim)]],
        ] as const) {
          const now = await latest(log, topic);
          for (const key of keys) expect(now.get(key)).toBeNull();
        }
        expect((await latest(log, registry)).get(bystander)).toContain("someone else");
        expect((await latest(log, windowLog)).get(windowKey("air", bystander))).toContain("w");

        // run again: nothing left to erase
        const again = await eraser.erase(request);
        expect(again.filter((o) => o.status === "erased")).toEqual([]);
        expect(again.filter((o) => o.status === "not-found").length).toBe(3);
      } finally {
        await log.close();
      }
    }, 60_000);

    test("a kind the log holds nothing of is not applicable", async () => {
      const log = await open();
      try {
        const outcomes = await createLogEntityEraser(log, platformErasureTargets("x")).erase({
          requestId: "r",
          entity: { kind: "user", id: "u1" },
          requestedBy: "admin",
          requestedAt: 0,
        });
        expect(outcomes).toEqual([{ store: "log", status: "not-applicable", items: 0 }]);
      } finally {
        await log.close();
      }
    });
  });
