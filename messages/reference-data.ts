import { z } from "zod";
import { sensitive } from "./sensitive.ts";
import { SENSOR_TYPES } from "./sensor-reading.ts";

/**
 * Reference data: slowly changing tables that streams are joined with (Kafka Streams' KTable /
 * GlobalKTable). Each table lives in a compacted topic keyed by its natural key, so the latest
 * row per key survives and updates flow in live; a null value (tombstone) deletes a key.
 * `updated_at` is when the row became true: versioned tables join a record with the row that
 * was valid at the record's event time (stream/enrichment/).
 * Version 1 of the `ref.sensor-registry` and `ref.symbol-metadata` value schemas.
 */
export const REFERENCE_DATA_VERSION = 1;

const isoTimestamp = z.iso.datetime({ offset: true });
const isoDate = z.union([z.iso.date(), isoTimestamp]);
const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, "may hold letters, digits, '_', '.' and '-' only");

export const SENSOR_ZONES = ["residential", "commercial", "industrial", "arterial"] as const;
export type SensorZone = (typeof SENSOR_ZONES)[number];

/** What a sensor can carry: traffic lanes for road sensors, rated load for utility feeders. */
export const SensorCapacity = z.object({
  value: z.number().positive(),
  unit: z.enum(["lanes", "kVA"]),
});

/** One row of the sensor registry, keyed by sensor_id. */
export const SensorRegistryRecord = z.object({
  sensor_id: identifier,
  type: z.enum(SENSOR_TYPES),
  district: z.string().min(1).max(128),
  zone: z.enum(SENSOR_ZONES),
  /** ISO date (or date-time) the sensor went into service */
  installed_at: isoDate,
  location: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
  capacity: SensorCapacity.optional(),
  /** who runs the installation: a person or a company (encrypted at rest, erased on request) */
  owner: sensitive(
    z.string().min(1).max(128),
    "names the person or company running the installation",
  ).optional(),
  /** how to reach the installation's operator: a phone number or an e-mail address */
  contact: sensitive(z.string().min(1).max(256), "reaches a person").optional(),
  updated_at: isoTimestamp,
});

/** One row of the symbol metadata table, keyed by symbol. */
export const SymbolMetadataRecord = z.object({
  symbol: z
    .string()
    .min(1)
    .max(16)
    .regex(/^[A-Z][A-Z0-9.-]*$/, "symbol is upper-case letters, digits, '.' and '-'"),
  name: z.string().min(1).max(256),
  exchange: z.string().min(1).max(32),
  sector: z.string().min(1).max(128),
  industry: z.string().min(1).max(128),
  /** ISO 4217 code */
  currency: z.string().regex(/^[A-Z]{3}$/, "currency is an ISO 4217 code"),
  lot_size: z.number().int().positive().optional(),
  updated_at: isoTimestamp,
});

export type SensorCapacity = z.infer<typeof SensorCapacity>;
export type SensorRegistryRecord = z.infer<typeof SensorRegistryRecord>;
export type SymbolMetadataRecord = z.infer<typeof SymbolMetadataRecord>;

/**
 * How a reference table reads one kind of row: its schema, its key, and when a row became
 * valid. `stream/enrichment/ReferenceTable` takes one of these.
 */
export interface ReferenceKind<V> {
  readonly name: string;
  readonly schema: z.ZodType<V>;
  readonly keyOf: (value: V) => string;
  /** epoch ms the row became valid; NaN falls back to the record's timestamp */
  readonly validFromOf: (value: V) => number;
}

export const sensorRegistryKind: ReferenceKind<SensorRegistryRecord> = {
  name: "sensor-registry",
  schema: SensorRegistryRecord,
  keyOf: (row) => row.sensor_id,
  validFromOf: (row) => Date.parse(row.updated_at),
};

export const symbolMetadataKind: ReferenceKind<SymbolMetadataRecord> = {
  name: "symbol-metadata",
  schema: SymbolMetadataRecord,
  keyOf: (row) => row.symbol,
  validFromOf: (row) => Date.parse(row.updated_at),
};

/** JSON Schema (draft 2020-12) of a sensor registry row, for the schema registry and the API. */
export function sensorRegistryJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SensorRegistryRecord) as Record<string, unknown>;
}

/** JSON Schema (draft 2020-12) of a symbol metadata row. */
export function symbolMetadataJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SymbolMetadataRecord) as Record<string, unknown>;
}
