import { afterEach, beforeEach, expect, test } from "bun:test";
import type { TableFollower } from "../../engine/reference-table-feed.ts";
import { followTopic } from "../../engine/reference-table-feed.ts";
import type { Log } from "../../log/log.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import { type SensorRegistryRecord, sensorRegistryKind } from "../../messages/reference-data.ts";
import { createSensorFleet } from "../../sources/iot/sensor-fleet.ts";
import {
  decommissionSensor,
  publishSensorRegistry,
  registryRowOf,
  updateSensor,
} from "../../sources/reference/sensor-registry.ts";
import { ReferenceTable } from "../../stream/enrichment/reference-table.ts";
import { createEnricher, withEnrichment } from "../../stream/enrichment/stream-table-join.ts";

/**
 * Restore-then-follow of a reference table, run against every Log adapter: the registry is
 * published, a table follows its compacted topic, and later changes reach later joins.
 */
export interface FollowFixture {
  readonly log: Log;
  cleanup(): Promise<void>;
}

const AT = Date.UTC(2024, 2, 4, 8);
const iso = (ms: number) => new Date(ms).toISOString();

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}

interface Reading {
  readonly sensor_id: string;
  readonly value: number;
}
type Enriched = Reading & { enrichment: SensorRegistryRecord | null };

export function referenceFollowCases(name: string, open: () => Promise<FollowFixture>): void {
  let fixture: FollowFixture;
  let follower: TableFollower | undefined;
  let topic: string;
  beforeEach(async () => {
    fixture = await open();
    topic = `ref.sensor-registry.test.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  });
  afterEach(async () => {
    await follower?.stop();
    follower = undefined;
    await fixture.cleanup();
  });

  test(`${name}: a followed table restores the registry, then live changes reach later joins`, async () => {
    const fleet = createSensorFleet({ startTime: AT });
    const rows = await publishSensorRegistry(fixture.log, fleet, {
      topic,
      updatedAt: AT,
    });
    const table = new ReferenceTable<SensorRegistryRecord>({ kind: sensorRegistryKind });
    const out: (string | null)[] = [];
    const enricher = createEnricher<Reading, SensorRegistryRecord, Enriched>({
      table,
      keyOf: (r: Reading) => r.sensor_id,
      merge: withEnrichment,
      onMissing: "pass",
      emit: (o) => out.push(o.enrichment?.district ?? null),
    });
    follower = followTopic(table, fixture.log, topic, { pollIntervalMs: 20 });
    const restored = await follower.ready;
    expect(restored.records).toBe(rows.length);
    expect(table.size).toBe(rows.length);

    const first = rows[0]!;
    enricher.enrich({ sensor_id: first.sensor_id, value: 1 });
    await updateSensor(fixture.log, { ...first, district: "Spandau", updated_at: iso(AT + 1000) }, topic);
    await waitFor(() => table.get(first.sensor_id)?.district === "Spandau", "the update");
    enricher.enrich({ sensor_id: first.sensor_id, value: 2 });
    await decommissionSensor(fixture.log, first.sensor_id, AT + 2000, topic);
    await waitFor(() => !table.has(first.sensor_id), "the tombstone");
    enricher.enrich({ sensor_id: first.sensor_id, value: 3 });

    expect(out).toEqual([first.district, "Spandau", null]);
    expect(enricher.stats()).toMatchObject({ hits: 2, misses: 1 });
    expect(table.version).toBe(rows.length + 2);
  });

  test(`${name}: a held reading of a new sensor is joined when its row is published`, async () => {
    await publishSensorRegistry(fixture.log, createSensorFleet({ startTime: AT }), { topic, updatedAt: AT });
    const table = new ReferenceTable<SensorRegistryRecord>({ kind: sensorRegistryKind });
    const out: [number, string | null][] = [];
    const enricher = createEnricher<Reading, SensorRegistryRecord, Enriched>({
      table,
      keyOf: (r: Reading) => r.sensor_id,
      merge: withEnrichment,
      onMissing: "hold",
      hold: { maxHoldMs: 30_000 },
      emit: (o) => out.push([o.value, o.enrichment?.district ?? null]),
    });
    follower = followTopic(table, fixture.log, topic, { pollIntervalMs: 20 });
    await follower.ready;
    expect(enricher.enrich({ sensor_id: "traffic_new", value: 7 })).toBe("held");
    const row = registryRowOf(
      { sensor_id: "traffic_new", type: "traffic", location: { lat: 52.52, lon: 13.405 } },
      { updatedAt: AT + 5000 },
    );
    await updateSensor(fixture.log, row, topic);
    await waitFor(() => out.length === 1, "the held reading's release");
    expect(out).toEqual([[7, "Mitte"]]);
    expect(enricher.stats()).toMatchObject({ held: 1, released: 1, holding: 0 });
  });

  test(`${name}: an invalid record on the topic is reported and the follower keeps going`, async () => {
    const rows = await publishSensorRegistry(fixture.log, createSensorFleet({ startTime: AT }), {
      topic,
      updatedAt: AT,
    });
    const reasons: string[] = [];
    const table = new ReferenceTable<SensorRegistryRecord>({
      kind: sensorRegistryKind,
      onInvalid: (_, reason) => reasons.push(reason),
    });
    follower = followTopic(table, fixture.log, topic, { pollIntervalMs: 20 });
    await follower.ready;
    const first = rows[0]!;
    await fixture.log.append([{ topic, key: first.sensor_id, value: new TextEncoder().encode("{broken") }]);
    await updateSensor(fixture.log, { ...first, zone: "commercial", updated_at: iso(AT + 1) }, topic);
    await waitFor(() => table.get(first.sensor_id)?.zone === "commercial", "the update after the bad record");
    expect(reasons).toEqual([expect.stringContaining("undecodable value")]);
  });

  test(`${name}: following a topic that does not exist fails with LOG_TOPIC_MISSING`, async () => {
    const table = new ReferenceTable<SensorRegistryRecord>({ kind: sensorRegistryKind });
    const missing = followTopic(table, fixture.log, `${topic}.missing`, { pollIntervalMs: 20 });
    await expect(missing.ready).rejects.toThrow(ErrorCodes.LOG_TOPIC_MISSING);
    await expect(missing.done).rejects.toThrow(ErrorCodes.LOG_TOPIC_MISSING);
  });

  test(`${name}: stop ends the follower at the end of the topic`, async () => {
    await publishSensorRegistry(fixture.log, createSensorFleet({ startTime: AT }), { topic, updatedAt: AT });
    const table = new ReferenceTable<SensorRegistryRecord>({ kind: sensorRegistryKind });
    const running = followTopic(table, fixture.log, topic, { pollIntervalMs: 20 });
    await running.ready;
    await running.stop();
    const ends: number[] = [];
    for (let partition = 0; partition < 3; partition++) {
      ends.push(await fixture.log.endOffset({ topic, partition }));
    }
    expect(running.positions()).toEqual(ends);
  });
}
