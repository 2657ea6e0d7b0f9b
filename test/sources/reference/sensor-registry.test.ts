import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapTable } from "../../../engine/reference-table-feed.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import {
  SensorRegistryRecord,
  type SensorZone,
  sensorRegistryKind,
} from "../../../messages/reference-data.ts";
import { Topics } from "../../../messages/topics.ts";
import { createSensorFleet } from "../../../sources/iot/sensor-fleet.ts";
import {
  decommissionSensor,
  publishSensorRegistry,
  registryRowOf,
  updateSensor,
} from "../../../sources/reference/sensor-registry.ts";
import { ReferenceTable } from "../../../stream/enrichment/reference-table.ts";

const AT = Date.UTC(2024, 2, 4, 8);
let dir: string;
let log: Log;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sensor-registry-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.db"), maintenanceIntervalMs: 0 });
});
afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

test("every sensor of the fleet gets one valid row, the same for the same fleet", () => {
  const fleet = createSensorFleet({ seed: 7, sensorsPerType: 9, startTime: AT });
  const rows = fleet.sensors.map((s) => registryRowOf(s, { updatedAt: AT }));
  expect(rows.length).toBe(27);
  for (const row of rows) expect(SensorRegistryRecord.safeParse(row).success).toBe(true);
  const again = createSensorFleet({ seed: 7, sensorsPerType: 9, startTime: AT }).sensors.map((s) =>
    registryRowOf(s, { updatedAt: AT }),
  );
  expect(again).toEqual(rows);
  // nine sensors per type on a 3 x 3 placement grid fall in all nine districts
  expect(new Set(rows.filter((r) => r.type === "traffic").map((r) => r.district)).size).toBe(9);
});

const zoneCases: [string, "traffic" | "environment" | "utility", number, SensorZone[]][] = [
  ["traffic sensors stand on arterial roads", "traffic", 5, ["arterial"]],
  [
    "environment sensors are commercial in the centre, residential elsewhere",
    "environment",
    20,
    ["commercial", "residential"],
  ],
  [
    "utility feeders are industrial, commercial or residential",
    "utility",
    40,
    ["commercial", "industrial", "residential"],
  ],
];
for (const [name, type, count, zones] of zoneCases) {
  test(name, () => {
    const fleet = createSensorFleet({ sensorsPerType: count, startTime: AT });
    const seen = new Set(fleet.sensors.filter((s) => s.type === type).map((s) => registryRowOf(s).zone));
    expect([...seen].sort()).toEqual(zones);
  });
}

test("traffic rows carry lanes and utility rows a rated load; environment rows no capacity", () => {
  const fleet = createSensorFleet({ startTime: AT });
  for (const sensor of fleet.sensors) {
    const row = registryRowOf(sensor);
    const unit = { traffic: "lanes", utility: "kVA", environment: undefined }[sensor.type];
    expect(row.capacity?.unit).toBe(unit as never);
  }
});

test("publishing writes the registry to its compacted topic, and a table restores it", async () => {
  const fleet = createSensorFleet({ startTime: AT });
  const rows = await publishSensorRegistry(log, fleet, { updatedAt: AT });
  expect(await log.partitions(Topics.sensorRegistry)).toBe(3);
  const table = new ReferenceTable({ kind: sensorRegistryKind });
  const restored = await bootstrapTable(table, log, Topics.sensorRegistry);
  expect(restored.records).toBe(15);
  expect(table.size).toBe(15);
  expect(table.snapshot()).toEqual(new Map(rows.map((r) => [r.sensor_id, r])));
});

test("a live update and a decommission reach a restored table", async () => {
  const fleet = createSensorFleet({ startTime: AT });
  const [first] = await publishSensorRegistry(log, fleet, { updatedAt: AT });
  await updateSensor(log, { ...first!, district: "Spandau", updated_at: new Date(AT + 1000).toISOString() });
  await decommissionSensor(log, fleet.sensors[1]!.sensor_id, AT + 2000);
  const table = new ReferenceTable({ kind: sensorRegistryKind });
  await bootstrapTable(table, log, Topics.sensorRegistry);
  expect(table.get(first!.sensor_id)?.district).toBe("Spandau");
  expect(table.has(fleet.sensors[1]!.sensor_id)).toBe(false);
  expect(table.size).toBe(14);
});

test("an invalid row is refused with SCHEMA_VIOLATION before it reaches the log", async () => {
  const fleet = createSensorFleet({ startTime: AT });
  const [first] = await publishSensorRegistry(log, fleet, { updatedAt: AT });
  const bad = { ...first!, zone: "lunar" } as unknown as SensorRegistryRecord;
  await expect(updateSensor(log, bad)).rejects.toThrow(ErrorCodes.SCHEMA_VIOLATION);
  let total = 0;
  for (let p = 0; p < 3; p++) total += await log.endOffset({ topic: Topics.sensorRegistry, partition: p });
  expect(total).toBe(15);
});
