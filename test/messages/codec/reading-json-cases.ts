/**
 * Readings for the reading byte reader's tests (test/messages/codec/sensor-reading-json.test.ts,
 * and the codec's framed path in record-codec.test.ts): the platform's own bytes, a table of
 * hostile and unusual values, and seeded mutations of them.
 */
import type { JsonReadingFields } from "../../../messages/codec/sensor-reading-json.ts";
import { SensorReading } from "../../../messages/sensor-reading.ts";
import { epochMillisOf } from "../../../messages/sensor-reading-check.ts";

const encoder = new TextEncoder();

export const traffic = {
  type: "traffic",
  sensor_id: "sensor-00042",
  timestamp: "2026-12-01T10:00:00.123Z",
  vehicle_count: 17,
  avg_speed: 41.5,
  location: { lat: 52.374199999999995, lon: 4.8942 },
};
export const environment = {
  type: "environment",
  sensor_id: "env.3-a_B",
  timestamp: "2024-02-29T23:59:59Z",
  temperature: -3.5,
  humidity: 100,
  air_quality_index: 0,
};
export const utility = {
  type: "utility",
  sensor_id: "U",
  timestamp: "2026-01-01T00:00:00.000Z",
  consumption: -12.25,
  voltage: 230.00000000000003,
  current: 1e-7,
};
export const json = (value: unknown) => JSON.stringify(value);

// bytes the reader must not answer differently from JSON.parse + zod (most it defers)
export const readingJsonRows: Array<[string, string]> = [
  ["an empty value", ""],
  ["an empty object", "{}"],
  ["a truncated reading", json(traffic).slice(0, -3)],
  ["trailing bytes", `${json(traffic)}x`],
  ["trailing whitespace", `${json(traffic)} `],
  ["leading whitespace", ` ${json(traffic)}`],
  ["whitespace between tokens", json(traffic).replace(":17,", ": 17 ,")],
  ["another key order", json(Object.fromEntries(Object.entries(traffic).reverse()))],
  ["an unknown key", json({ ...traffic, extra: 1 })],
  ["an unknown key in the location", json({ ...traffic, location: { ...traffic.location, alt: 3 } })],
  ["a repeated key", json(traffic).replace('"avg_speed"', '"vehicle_count":18,"avg_speed"')],
  ["an escaped key", json(traffic).replace('"type"', '"typ\\u0065"')],
  ["an escaped sensor id", json(traffic).replace("sensor-00042", "sensor\\u002d00042")],
  ["an unknown type", json({ ...traffic, type: "weather" })],
  ["a type of another case", json({ ...traffic, type: "Traffic" })],
  ["a traffic type with environment fields", json({ ...environment, type: "traffic" })],
  ["an empty sensor id", json({ ...traffic, sensor_id: "" })],
  ["a sensor id of 64 characters", json({ ...traffic, sensor_id: "a".repeat(64) })],
  ["a sensor id of 65 characters", json({ ...traffic, sensor_id: "a".repeat(65) })],
  ["a sensor id with a slash", json({ ...traffic, sensor_id: "a/b" })],
  ["a sensor id with a non-ASCII letter", json({ ...traffic, sensor_id: "stra\u00dfe" })],
  ["a numeric sensor id", json({ ...traffic, sensor_id: 12 })],
  ["a timestamp without a zone", json({ ...traffic, timestamp: "2026-12-01T10:00:00" })],
  ["a timestamp with an offset", json({ ...traffic, timestamp: "2026-12-01T10:00:00+01:00" })],
  ["a timestamp with microseconds", json({ ...traffic, timestamp: "2026-12-01T10:00:00.123456Z" })],
  ["a timestamp with one fraction digit", json({ ...traffic, timestamp: "2026-12-01T10:00:00.1Z" })],
  ["February 30th", json({ ...traffic, timestamp: "2026-02-30T10:00:00Z" })],
  ["February 29th of a common year", json({ ...traffic, timestamp: "2025-02-29T10:00:00Z" })],
  ["February 29th of 2000", json({ ...traffic, timestamp: "2000-02-29T10:00:00Z" })],
  ["February 29th of 1900", json({ ...traffic, timestamp: "1900-02-29T10:00:00Z" })],
  ["hour 24", json({ ...traffic, timestamp: "2026-12-01T24:00:00Z" })],
  ["second 60", json({ ...traffic, timestamp: "2026-12-31T23:59:60Z" })],
  ["month 13", json({ ...traffic, timestamp: "2026-13-01T10:00:00Z" })],
  ["year 0000", json({ ...traffic, timestamp: "0000-01-01T00:00:00Z" })],
  ["a lower-case t and z", json({ ...traffic, timestamp: "2026-12-01t10:00:00z" })],
  ["a letter for a digit", json({ ...traffic, timestamp: "2026-12-0aT10:00:00Z" })],
  ["a numeric timestamp", json({ ...traffic, timestamp: 1_760_000_000_000 })],
  ["a fractional vehicle count", json({ ...traffic, vehicle_count: 1.5 })],
  ["a vehicle count written 17.0", json(traffic).replace(":17,", ":17.0,")],
  ["a vehicle count written 1.7e1", json(traffic).replace(":17,", ":1.7e1,")],
  ["a vehicle count written -0", json(traffic).replace(":17,", ":-0,")],
  ["a negative vehicle count", json({ ...traffic, vehicle_count: -1 })],
  ["a vehicle count past 2^53", json({ ...traffic, vehicle_count: 2 ** 60 })],
  ["a vehicle count of 2^53 - 1", json({ ...traffic, vehicle_count: 2 ** 53 - 1 })],
  ["a vehicle count as a string", json({ ...traffic, vehicle_count: "17" })],
  ["a leading zero", json(traffic).replace(":17,", ":017,")],
  ["a leading plus", json(traffic).replace(":17,", ":+17,")],
  ["a bare fraction point", json(traffic).replace(":41.5,", ":41.,")],
  ["a fraction without its integer", json(traffic).replace(":41.5,", ":.5,")],
  ["an exponent without digits", json(traffic).replace(":41.5,", ":41e,")],
  ["an exponent past a double", json(traffic).replace(":41.5,", ":1e400,")],
  ["an exponent below a double", json(traffic).replace(":41.5,", ":1e-400,")],
  ["a speed of 20 digits", json(traffic).replace(":41.5,", ":12345678901234567890,")],
  ["a speed of 17 significant digits", json(traffic).replace(":41.5,", ":41.500000000000001,")],
  ["a speed with a long exponent", json(traffic).replace(":41.5,", ":4150000000000000000000000e-23,")],
  ["NaN", json(traffic).replace(":41.5,", ":NaN,")],
  ["Infinity", json(traffic).replace(":41.5,", ":Infinity,")],
  ["a negative speed", json({ ...traffic, avg_speed: -0.1 })],
  ["a null speed", json({ ...traffic, avg_speed: null })],
  ["a boolean speed", json({ ...traffic, avg_speed: true })],
  ["no location", json({ ...traffic, location: undefined })],
  ["a location as an array", json({ ...traffic, location: [52, 13] })],
  ["lon before lat", json({ ...traffic, location: { lon: 4.9, lat: 52.3 } })],
  ["a latitude of exactly 90", json({ ...traffic, location: { lat: 90, lon: 0 } })],
  ["a latitude of exactly -90", json({ ...traffic, location: { lat: -90, lon: -180 } })],
  ["a latitude past 90", json({ ...traffic, location: { lat: 90.5, lon: 0 } })],
  ["a latitude a hair past 90", json(traffic).replace(/"lat":[^,]+,/, '"lat":90.00000000000000001,')],
  [
    "a latitude one double past 90",
    json(traffic).replace(/"lat":[^,]+,/, '"lat":90.0000000000000142108547152,'),
  ],
  [
    "a longitude one double below -180",
    json(traffic).replace(/"lon":[^}]+}/, '"lon":-180.000000000000028421709430404}'),
  ],
  ["a latitude a hair below 90", json(traffic).replace(/"lat":[^,]+,/, '"lat":89.99999999999999999,')],
  ["a longitude a hair past 180", json(traffic).replace(/"lon":[^}]+}/, '"lon":180.0000000000000000001}')],
  ["a longitude below -180", json({ ...traffic, location: { lat: 0, lon: -181 } })],
  ["a temperature of exactly -273.15", json({ ...environment, temperature: -273.15 })],
  ["a temperature below absolute zero", json({ ...environment, temperature: -273.16 })],
  [
    "a temperature of 17 digits at absolute zero",
    json(environment).replace(":-3.5,", ":-273.15000000000001,"),
  ],
  ["a humidity above 100", json({ ...environment, humidity: 100.01 })],
  ["a negative air quality index", json({ ...environment, air_quality_index: -1 })],
  ["a negative voltage", json({ ...utility, voltage: -1 })],
  ["a missing measurement", json({ ...utility, current: undefined })],
  ["the type key last", json({ ...utility, type: undefined }).replace("}", ',"type":"utility"}')],
  ["a control character in the sensor id", json(traffic).replace("sensor-00042", "sensor\u000100042")],
];

/** `count` seeded mutations (1-3 byte edits each) of the three readings: the same every run */
export function* mutatedReadings(count: number): Generator<Uint8Array> {
  let seed = 0x2545f491;
  const random = () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    return ((seed >>> 0) % 1_000_000) / 1_000_000;
  };
  const alphabet = encoder.encode('0123456789.-+eE",:{}[] aZtnlu\\\u00ff');
  const bases = [traffic, environment, utility].map((reading) => encoder.encode(json(reading)));
  for (let i = 0; i < count; i++) {
    const bytes = Array.from(bases[i % bases.length]!);
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * bytes.length);
      const byte = alphabet[Math.floor(random() * alphabet.length)]!;
      const kind = random();
      if (kind < 0.4) bytes[at] = byte;
      else if (kind < 0.7) bytes.splice(at, 0, byte);
      else bytes.splice(at, 1);
    }
    yield new Uint8Array(bytes);
  }
}

/** what the schema path answers for these bytes: the reader's fields, or undefined when it refuses */
export function schemaAnswer(bytes: Uint8Array): JsonReadingFields | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined; // not JSON: the general path's MALFORMED_JSON
  }
  const parsed = SensorReading.safeParse(value);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  const values =
    r.type === "traffic"
      ? [r.vehicle_count, r.avg_speed]
      : r.type === "environment"
        ? [r.temperature, r.humidity, r.air_quality_index]
        : [r.consumption, r.voltage, r.current];
  return { type: r.type, sensorId: r.sensor_id, eventTime: epochMillisOf(r.timestamp), values };
}
