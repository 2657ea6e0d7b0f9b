import { describe, expect, test } from "bun:test";
import {
  REFERENCE_DATA_VERSION,
  SensorRegistryRecord,
  SymbolMetadataRecord,
  sensorRegistryJsonSchema,
  sensorRegistryKind,
  symbolMetadataJsonSchema,
  symbolMetadataKind,
} from "../../messages/reference-data.ts";

const sensor = {
  sensor_id: "traffic_1",
  type: "traffic",
  district: "Mitte",
  zone: "arterial",
  installed_at: "2019-04-01",
  location: { lat: 52.52, lon: 13.405 },
  capacity: { value: 4, unit: "lanes" },
  owner: "city-traffic",
  updated_at: "2024-03-04T08:00:00Z",
};
const symbol = {
  symbol: "AAPL",
  name: "Apple Inc.",
  exchange: "NASDAQ",
  sector: "Information Technology",
  industry: "Technology Hardware",
  currency: "USD",
  lot_size: 1,
  updated_at: "2024-03-04T08:00:00Z",
};

describe("sensor registry rows", () => {
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["a full row", sensor, true],
    [
      "a row without the optional capacity and owner",
      { ...sensor, capacity: undefined, owner: undefined },
      true,
    ],
    ["an installation date-time", { ...sensor, installed_at: "2019-04-01T10:00:00+02:00" }, true],
    ["an unknown zone", { ...sensor, zone: "rural" }, false],
    ["an unknown sensor type", { ...sensor, type: "radar" }, false],
    ["a latitude beyond 90", { ...sensor, location: { lat: 91, lon: 0 } }, false],
    ["an updated_at that is no timestamp", { ...sensor, updated_at: "yesterday" }, false],
    ["a zero capacity", { ...sensor, capacity: { value: 0, unit: "lanes" } }, false],
    ["a sensor id with a slash", { ...sensor, sensor_id: "a/b" }, false],
    ["a missing district", { ...sensor, district: undefined }, false],
  ];
  for (const [name, row, valid] of cases) {
    test(`${name} is ${valid ? "accepted" : "rejected"}`, () => {
      expect(SensorRegistryRecord.safeParse(row).success).toBe(valid);
    });
  }
});

describe("symbol metadata rows", () => {
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["a full row", symbol, true],
    ["a class share symbol with a dot", { ...symbol, symbol: "BRK.B" }, true],
    ["a lower-case symbol", { ...symbol, symbol: "aapl" }, false],
    ["a currency that is not ISO 4217", { ...symbol, currency: "dollar" }, false],
    ["a fractional lot size", { ...symbol, lot_size: 1.5 }, false],
    ["a missing sector", { ...symbol, sector: undefined }, false],
  ];
  for (const [name, row, valid] of cases) {
    test(`${name} is ${valid ? "accepted" : "rejected"}`, () => {
      expect(SymbolMetadataRecord.safeParse(row).success).toBe(valid);
    });
  }
});

test("the kinds key rows by their natural key and date them by updated_at", () => {
  const row = SensorRegistryRecord.parse(sensor);
  expect(sensorRegistryKind.keyOf(row)).toBe("traffic_1");
  expect(sensorRegistryKind.validFromOf(row)).toBe(Date.UTC(2024, 2, 4, 8));
  const meta = SymbolMetadataRecord.parse(symbol);
  expect(symbolMetadataKind.keyOf(meta)).toBe("AAPL");
});

test("the JSON Schemas name every required field and the version is 1", () => {
  expect(REFERENCE_DATA_VERSION).toBe(1);
  const sensorSchema = sensorRegistryJsonSchema();
  expect(sensorSchema.required).toEqual(
    expect.arrayContaining([
      "sensor_id",
      "type",
      "district",
      "zone",
      "installed_at",
      "location",
      "updated_at",
    ]),
  );
  expect(sensorSchema.required).not.toContain("capacity");
  const symbolSchema = symbolMetadataJsonSchema();
  expect(symbolSchema.required).toEqual(
    expect.arrayContaining(["symbol", "name", "exchange", "sector", "industry", "currency", "updated_at"]),
  );
});
