import { describe, expect, test } from "bun:test";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
import {
  decodeSensorReading,
  encodeSensorReading,
  ReadingFlags,
  type SensorReadingRecord,
  writeSensorReading,
} from "../../../messages/codec/sensor-reading-record.ts";
import { sabRingChannel } from "../../../supervisor/transport/sab-ring.ts";
import { expectCode, expectDecodeFailed, expectRobustDecode } from "./codec-fixtures.ts";

const reading = (overrides: Partial<SensorReadingRecord> = {}): SensorReadingRecord => ({
  sensorType: "traffic",
  sensorId: "traffic_12",
  partition: 7,
  offset: 123_456_789_012,
  eventTime: 1_760_000_000_123.5,
  ingestedAt: 1_760_000_000_200,
  values: [42, 61.25],
  flags: ReadingFlags.late,
  ...overrides,
});

describe("sensor reading record", () => {
  test.each([
    ["a traffic reading", reading()],
    ["an environment reading", reading({ sensorType: "environment", values: [21.5, 40, 77] })],
    ["a utility reading with no flags", reading({ sensorType: "utility", values: [1, 230, 5], flags: 0 })],
    ["a unicode sensor id", reading({ sensorId: "capteur-été-🚦-温度" })],
    ["an empty sensor id and no values", reading({ sensorId: "", values: [] })],
    ["offset zero at partition 65535", reading({ offset: 0, partition: 65535 })],
    ["negative and huge values", reading({ values: [-1e300, Number.MAX_VALUE] })],
  ])("round-trips %s", (_name, record) => {
    const bytes = encodeSensorReading(record);
    expect(recordTagOf(bytes, 0, bytes.length)).toBe(RecordTags.sensorReading);
    expect(decodeSensorReading(bytes, 0, bytes.length)).toEqual(record);
  });

  test("a traffic reading with a ten-byte id is 58 bytes", () => {
    expect(encodeSensorReading(reading()).length).toBe(32 + 16 + 10);
  });

  test("carries NaN as a missing value and sets the missing-value flag", () => {
    const decoded = decodeSensorReading(
      encodeSensorReading(reading({ values: [Number.NaN, 3], flags: 0 })),
      0,
      58,
    );
    expect(Number.isNaN(decoded.values[0])).toBe(true);
    expect(decoded.values[1]).toBe(3);
    expect(decoded.flags).toBe(ReadingFlags.missingValue);
    const clean = decodeSensorReading(
      encodeSensorReading(reading({ flags: ReadingFlags.missingValue })),
      0,
      58,
    );
    expect(clean.flags).toBe(0);
  });

  test("reuses the target object and its values array when decoding a batch", () => {
    const target = reading({ values: [0, 0, 0, 0] });
    const values = target.values;
    const bytes = encodeSensorReading(reading());
    expect(decodeSensorReading(bytes, 0, bytes.length, target)).toBe(target);
    expect(target.values).toBe(values);
    expect(target.values).toEqual([42, 61.25]);
  });

  test("encodes in place into a ring and decodes from the slice the reader hands out", () => {
    const { writer, reader } = sabRingChannel(16 * 1024);
    const sent = Array.from({ length: 100 }, (_, i) =>
      reading({ sensorId: i % 7 === 0 ? `ß-${i}` : `sensor_${i}`, offset: i }),
    );
    for (const record of sent) expect(writeSensorReading(writer, record)).toBe(true);
    writer.flush();
    const received: SensorReadingRecord[] = [];
    reader.drain((bytes, offset, length) => {
      received.push(decodeSensorReading(bytes, offset, length));
    });
    expect(received).toEqual(sent);
  });

  test.each([
    ["an unknown sensor type", { sensorType: "weather" as "traffic" }],
    ["a partition above 65535", { partition: 65536 }],
    ["a fractional offset", { offset: 1.5 }],
    ["a negative offset", { offset: -1 }],
    ["a NaN event time", { eventTime: Number.NaN }],
    ["an infinite event time", { eventTime: Number.POSITIVE_INFINITY }],
    ["256 values", { values: new Array<number>(256).fill(1) }],
    ["a sensor id of 256 characters", { sensorId: "x".repeat(256) }],
    ["a sensor id of 300 UTF-8 bytes", { sensorId: "é".repeat(150) }],
  ])("refuses to encode %s with OUT_OF_RANGE", (_name, overrides) => {
    expectCode("OUT_OF_RANGE", () => encodeSensorReading(reading(overrides)));
  });

  test("fails with DECODE_FAILED, never a crash, on truncated or corrupt bytes", () => {
    expectRobustDecode(encodeSensorReading(reading({ sensorId: "sensör_1" })), decodeSensorReading);
  });

  test.each([
    ["a wrong tag", 0, 0x02],
    ["an unknown version", 1, 9],
    ["an unknown sensor type", 2, 3],
    ["a value count beyond the record", 6, 5],
    ["a key length beyond the record", 7, 200],
  ])("fails with DECODE_FAILED on %s", (_name, at, value) => {
    const bytes = encodeSensorReading(reading());
    bytes[at] = value;
    expectDecodeFailed(() => decodeSensorReading(bytes, 0, bytes.length));
  });

  test("fails with DECODE_FAILED on malformed UTF-8 in the sensor id", () => {
    const bytes = encodeSensorReading(reading({ sensorId: "ab" }));
    bytes[bytes.length - 1] = 0xff;
    expectDecodeFailed(() => decodeSensorReading(bytes, 0, bytes.length));
  });

  test("fails with DECODE_FAILED on a NaN event time in the bytes", () => {
    const bytes = encodeSensorReading(reading());
    new DataView(bytes.buffer).setFloat64(16, Number.NaN, true);
    expectDecodeFailed(() => decodeSensorReading(bytes, 0, bytes.length));
  });
});
