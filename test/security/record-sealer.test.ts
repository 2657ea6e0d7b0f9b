import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { PlatformError } from "../../messages/errors.ts";
import { frame } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { createFieldCipher } from "../../security/field-cipher.ts";
import { createRecordSealer } from "../../security/record-sealer.ts";

const cipher = createFieldCipher({ id: "k1", key: randomBytes(32) });
const row = {
  sensor_id: "traffic_1",
  type: "traffic",
  district: "Harbour",
  zone: "commercial",
  owner: "Ada Lovelace",
  contact: "+44 20 7946 0000",
};
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const text = (value: Uint8Array | null) => new TextDecoder().decode(value ?? new Uint8Array());

describe("record sealer", () => {
  const failures: string[] = [];
  const sealer = createRecordSealer(cipher, {
    onOpenFailure: (topic, field, error: PlatformError) => failures.push(`${topic} ${field} ${error.code}`),
  });

  test("seals the fields marked sensitive and leaves the others readable", () => {
    const sealed = text(sealer.seal(Topics.sensorRegistry, "traffic_1", bytes(row)));
    expect(sealed).not.toContain("Ada");
    expect(sealed).not.toContain("7946");
    const parsed = JSON.parse(sealed);
    expect(parsed).toMatchObject({ sensor_id: "traffic_1", district: "Harbour", zone: "commercial" });
    expect(parsed.owner).toStartWith("enc:v1:k1:");
    expect(
      JSON.parse(
        text(
          sealer.open(
            Topics.sensorRegistry,
            "traffic_1",
            sealer.seal(Topics.sensorRegistry, "traffic_1", bytes(row)),
          ),
        ),
      ),
    ).toEqual(row);
  });

  test("keeps the Confluent frame in front of the JSON", () => {
    const framed = frame(7, bytes(row));
    const sealed = sealer.seal(Topics.sensorRegistry, "traffic_1", framed)!;
    expect([...sealed.subarray(0, 5)]).toEqual([...framed.subarray(0, 5)]);
    const opened = sealer.open(Topics.sensorRegistry, "traffic_1", sealed)!;
    expect(JSON.parse(text(opened.subarray(5)))).toEqual(row);
  });

  test.each([
    ["a topic without sensitive fields", Topics.sensorsRaw, bytes(row)],
    ["a tombstone", Topics.sensorRegistry, null],
    ["bytes that are not JSON", Topics.sensorRegistry, new Uint8Array([1, 2, 3])],
    ["a row without sensitive fields", Topics.sensorRegistry, bytes({ sensor_id: "x" })],
  ])("leaves %s as it is", (_, topic, value) => {
    expect(sealer.seal(topic, "traffic_1", value)).toBe(value);
  });

  test("a row moved under another key does not open: it stays sealed and the failure is reported", () => {
    const sealed = sealer.seal(Topics.sensorRegistry, "traffic_1", bytes(row));
    const opened = JSON.parse(text(sealer.open(Topics.sensorRegistry, "traffic_2", sealed)));
    expect(opened.owner).toStartWith("enc:v1:");
    expect(failures).toEqual([
      `${Topics.sensorRegistry} owner DECRYPTION_FAILED`,
      `${Topics.sensorRegistry} contact DECRYPTION_FAILED`,
    ]);
  });
});
