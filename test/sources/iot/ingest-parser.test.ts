import { describe, expect, test } from "bun:test";
import { ErrorCodes } from "../../../messages/errors.ts";
import { parseSensorMessage } from "../../../sources/iot/ingest-parser.ts";

const NOW = Date.UTC(2024, 2, 4, 8);
const TS = "2024-03-04T07:59:59.000Z";
const bytes = (s: string) => new TextEncoder().encode(s);
const traffic = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: "traffic",
    sensor_id: "traffic_1",
    timestamp: TS,
    vehicle_count: 40,
    avg_speed: 42.5,
    location: { lat: 52.52, lon: 13.4 },
    ...over,
  });
const env = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: "environment",
    sensor_id: "env_1",
    timestamp: TS,
    temperature: 12.3,
    humidity: 60,
    air_quality_index: 40,
    ...over,
  });
const T = "city/sensors/traffic/traffic_1";
const E = "city/sensors/environment/env_1";

const rejected: [string, string, string | Uint8Array, string, RegExp | null][] = [
  ["a topic outside city/sensors", "city/other/traffic/traffic_1", traffic(), ErrorCodes.UNKNOWN_TOPIC, null],
  [
    "an unknown sensor type in the topic",
    "city/sensors/weather/w1",
    traffic(),
    ErrorCodes.UNKNOWN_TOPIC,
    null,
  ],
  ["a topic with an extra level", `${T}/x`, traffic(), ErrorCodes.UNKNOWN_TOPIC, null],
  ["a topic without sensor id", "city/sensors/traffic", traffic(), ErrorCodes.UNKNOWN_TOPIC, null],
  ["a payload over 64 KiB", T, traffic({ pad: "x".repeat(70_000) }), ErrorCodes.PAYLOAD_TOO_LARGE, null],
  ["truncated JSON", T, traffic().slice(0, 30), ErrorCodes.MALFORMED_JSON, null],
  ["a bare NaN token", T, traffic().replace("42.5", "NaN"), ErrorCodes.MALFORMED_JSON, null],
  ["bytes that are not UTF-8", T, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), ErrorCodes.MALFORMED_JSON, null],
  ["an empty payload", T, "", ErrorCodes.MALFORMED_JSON, null],
  ["a JSON array", T, "[1,2]", ErrorCodes.SCHEMA_VIOLATION, /\(root\)/],
  ["JSON null", T, "null", ErrorCodes.SCHEMA_VIOLATION, null],
  ["a missing field", T, traffic({ vehicle_count: undefined }), ErrorCodes.SCHEMA_VIOLATION, /vehicle_count/],
  [
    "a count written as a string",
    T,
    traffic({ vehicle_count: "40" }),
    ErrorCodes.SCHEMA_VIOLATION,
    /vehicle_count/,
  ],
  ["a fractional count", T, traffic({ vehicle_count: 4.5 }), ErrorCodes.SCHEMA_VIOLATION, /vehicle_count/],
  ["NaN written as a string", E, env({ temperature: "NaN" }), ErrorCodes.SCHEMA_VIOLATION, /temperature/],
  ["Infinity written as a string", E, env({ humidity: "Infinity" }), ErrorCodes.SCHEMA_VIOLATION, /humidity/],
  [
    "a number beyond float range",
    E,
    env().replace("12.3", "1e999"),
    ErrorCodes.SCHEMA_VIOLATION,
    /temperature/,
  ],
  [
    "a nested path",
    T,
    traffic({ location: { lat: "x", lon: 1 } }),
    ErrorCodes.SCHEMA_VIOLATION,
    /location\.lat/,
  ],
  [
    "a timestamp without offset",
    T,
    traffic({ timestamp: "2024-03-04T07:59:59" }),
    ErrorCodes.SCHEMA_VIOLATION,
    null,
  ],
  [
    "an impossible date",
    T,
    traffic({ timestamp: "2024-02-30T00:00:00Z" }),
    ErrorCodes.SCHEMA_VIOLATION,
    null,
  ],
  ["an unknown type in the payload", T, traffic({ type: "weather" }), ErrorCodes.SCHEMA_VIOLATION, /type/],
  [
    "a sensor id with a slash-free but illegal character",
    T,
    traffic({ sensor_id: "a b" }),
    ErrorCodes.SCHEMA_VIOLATION,
    null,
  ],
  [
    "a topic type that differs from the payload",
    E,
    traffic(),
    ErrorCodes.SCHEMA_VIOLATION,
    /environment\/env_1.*traffic\/traffic_1/,
  ],
  [
    "a topic sensor that differs from the payload",
    "city/sensors/traffic/traffic_2",
    traffic(),
    ErrorCodes.SCHEMA_VIOLATION,
    /traffic_2.*traffic_1/,
  ],
  ["a negative vehicle count", T, traffic({ vehicle_count: -3 }), ErrorCodes.OUT_OF_RANGE, /vehicle_count/],
  ["a negative speed", T, traffic({ avg_speed: -1 }), ErrorCodes.OUT_OF_RANGE, null],
  [
    "a latitude beyond the pole",
    T,
    traffic({ location: { lat: 91, lon: 0 } }),
    ErrorCodes.OUT_OF_RANGE,
    null,
  ],
  ["humidity above 100 %", E, env({ humidity: 101 }), ErrorCodes.OUT_OF_RANGE, /humidity/],
  ["a temperature below absolute zero", E, env({ temperature: -300 }), ErrorCodes.OUT_OF_RANGE, null],
  [
    "a timestamp before the epoch",
    T,
    traffic({ timestamp: "1969-12-31T23:59:59Z" }),
    ErrorCodes.OUT_OF_RANGE,
    /epoch/,
  ],
  [
    "a timestamp two hours ahead",
    T,
    traffic({ timestamp: "2024-03-04T10:00:00Z" }),
    ErrorCodes.OUT_OF_RANGE,
    /ahead/,
  ],
];

describe("parseSensorMessage", () => {
  test.each(rejected)("rejects %s", (_name, topic, payload, code, reason) => {
    const raw = typeof payload === "string" ? bytes(payload) : payload;
    const result = parseSensorMessage(topic, raw, NOW);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.deadLetter.code as string).toBe(code);
    expect(result.deadLetter.source).toBe(`mqtt:${topic}`);
    expect(result.deadLetter.at).toBe(NOW);
    if (reason) expect(result.deadLetter.reason).toMatch(reason);
    const kept = Buffer.from(result.deadLetter.payload_base64, "base64");
    expect(kept.byteLength).toBe(Math.min(raw.byteLength, 64 * 1024));
  });

  const accepted: [string, string, string][] = [
    ["a traffic reading", T, traffic()],
    ["an environment reading with an offset timestamp", E, env({ timestamp: "2024-03-04T09:00:00+01:00" })],
    ["a plausible-but-suspect value, left to the quality layer", E, env({ temperature: 61 })],
    ["a reading with an extra field, which is stripped", T, traffic({ firmware: "1.2" })],
    ["a timestamp a minute ahead (clock skew)", T, traffic({ timestamp: "2024-03-04T08:01:00Z" })],
    [
      "a utility reading",
      "city/sensors/utility/utility_2",
      JSON.stringify({
        type: "utility",
        sensor_id: "utility_2",
        timestamp: TS,
        consumption: -20,
        voltage: 229,
        current: 0,
      }),
    ],
  ];

  test.each(accepted)("accepts %s", (_name, topic, payload) => {
    const result = parseSensorMessage(topic, bytes(payload), NOW);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.key).toBe(result.reading.sensor_id);
    expect(result.eventTime).toBe(Date.parse(result.reading.timestamp));
    expect("firmware" in result.reading).toBe(false);
  });

  test("limits are configurable per call", () => {
    const small = parseSensorMessage(T, bytes(traffic()), NOW, { maxPayloadBytes: 50 });
    expect(small.ok ? "ok" : small.deadLetter.code).toBe(ErrorCodes.PAYLOAD_TOO_LARGE);
    const strict = parseSensorMessage(T, bytes(traffic({ timestamp: "2024-03-04T08:00:10Z" })), NOW, {
      maxFutureMs: 5_000,
    });
    expect(strict.ok ? "ok" : strict.deadLetter.code).toBe(ErrorCodes.OUT_OF_RANGE);
  });

  test("a very long topic is cut in the dead letter's source", () => {
    const result = parseSensorMessage(`city/${"x".repeat(5000)}`, bytes("{}"), NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.deadLetter.source.length).toBeLessThan(300);
  });
});
