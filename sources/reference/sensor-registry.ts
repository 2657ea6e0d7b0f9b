import type { Log, RecordPosition } from "../../log/log.ts";
import { murmur2OfKey, toPositive } from "../../messages/murmur2.ts";
import {
  type SensorRegistryRecord,
  type SensorZone,
  sensorRegistryKind,
} from "../../messages/reference-data.ts";
import { Topics } from "../../messages/topics.ts";
import type { SensorInfo } from "../iot/sensor-models.ts";
import { BERLIN_GRID, type CityGrid, districtOf, isCentreCell } from "./city-districts.ts";
import { deleteReferenceRow, ensureReferenceTopic, publishReferenceRows } from "./reference-publisher.ts";

/**
 * The sensor registry of the simulated city: one row per sensor of the fleet, derived from its
 * id, type and location, so the same fleet always gives the same registry. District = the grid
 * cell of the location (city-districts.ts). Zone: traffic sensors stand on arterial roads;
 * environment sensors in the centre cell are commercial, elsewhere residential; one utility
 * feeder in three is industrial, the rest follow the environment rule. Installation date,
 * capacity (lanes, or a feeder's rated kVA) come from a hash of the id.
 */
export interface SensorRegistryOptions {
  readonly grid?: CityGrid;
  /** `updated_at` of every row; default now */
  readonly updatedAt?: number;
  readonly topic?: string;
  readonly partitions?: number;
}

const OWNERS = {
  traffic: "city-traffic-department",
  environment: "city-environment-agency",
  utility: "city-grid-operator",
} as const;
const FEEDER_KVA = [100, 160, 250, 400, 630] as const;
const INSTALLED_FROM = Date.UTC(2015, 0, 1);
const DAY_MS = 86_400_000;

export function registryRowOf(
  sensor: Pick<SensorInfo, "sensor_id" | "type" | "location">,
  options: Pick<SensorRegistryOptions, "grid" | "updatedAt"> = {},
): SensorRegistryRecord {
  const grid = options.grid ?? BERLIN_GRID;
  const hash = toPositive(murmur2OfKey(sensor.sensor_id));
  const location = { lat: sensor.location.lat, lon: sensor.location.lon };
  const centre = isCentreCell(grid, location);
  let zone: SensorZone;
  if (sensor.type === "traffic") zone = "arterial";
  else if (sensor.type === "utility" && hash % 3 === 0) zone = "industrial";
  else zone = centre ? "commercial" : "residential";
  const installed = new Date(INSTALLED_FROM + (hash % 3000) * DAY_MS).toISOString().slice(0, 10);
  const row: SensorRegistryRecord = {
    sensor_id: sensor.sensor_id,
    type: sensor.type,
    district: districtOf(grid, location),
    zone,
    installed_at: installed,
    location,
    owner: OWNERS[sensor.type],
    updated_at: new Date(options.updatedAt ?? Date.now()).toISOString(),
  };
  if (sensor.type === "traffic") return { ...row, capacity: { value: 2 + (hash % 5), unit: "lanes" } };
  if (sensor.type === "utility") {
    return { ...row, capacity: { value: FEEDER_KVA[hash % FEEDER_KVA.length]!, unit: "kVA" } };
  }
  return row;
}

/** create the compacted registry topic and write one row per sensor; returns the rows */
export async function publishSensorRegistry(
  log: Log,
  fleet: { readonly sensors: readonly Pick<SensorInfo, "sensor_id" | "type" | "location">[] },
  options: SensorRegistryOptions = {},
): Promise<SensorRegistryRecord[]> {
  const topic = options.topic ?? Topics.sensorRegistry;
  await ensureReferenceTopic(log, topic, options.partitions);
  const rows = fleet.sensors.map((sensor) => registryRowOf(sensor, options));
  await publishReferenceRows(log, topic, sensorRegistryKind, rows);
  return rows;
}

/** a live change of one sensor's row; refused with SCHEMA_VIOLATION if the row is invalid */
export async function updateSensor(
  log: Log,
  row: SensorRegistryRecord,
  topic: string = Topics.sensorRegistry,
): Promise<RecordPosition> {
  const [position] = await publishReferenceRows(log, topic, sensorRegistryKind, [row]);
  return position!;
}

/** the sensor leaves the registry (a tombstone) */
export function decommissionSensor(
  log: Log,
  sensorId: string,
  at: number = Date.now(),
  topic: string = Topics.sensorRegistry,
): Promise<RecordPosition> {
  return deleteReferenceRow(log, topic, sensorId, at);
}
