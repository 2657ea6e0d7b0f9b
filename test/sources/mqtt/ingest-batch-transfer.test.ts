import { describe, expect, test } from "bun:test";
import { packIngestBatch, unpackIngestBatch } from "../../../sources/mqtt/ingest-batch-transfer.ts";
import type { RawMqttMessage } from "../../../sources/mqtt/mqtt-subscriber.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("an ingest batch across threads", () => {
  const cases: [string, RawMqttMessage[]][] = [
    ["an empty batch", []],
    [
      "one reading",
      [
        {
          topic: "city/sensors/traffic/t1",
          payload: bytes('{"a":1}'),
          qos: 1,
          receivedAt: 1_764_000_000_123.5,
        },
      ],
    ],
    [
      "an empty payload and an empty topic",
      [{ topic: "", payload: new Uint8Array(0), qos: 0, receivedAt: 0 }],
    ],
    [
      "multi-byte topics and binary payloads, in order",
      [
        { topic: "city/sensors/air/Zürich-é", payload: Uint8Array.of(0, 255, 1, 128), qos: 0, receivedAt: 1 },
        { topic: "city/sensors/air/東京", payload: bytes("日本"), qos: 2, receivedAt: 2 },
        { topic: "t".repeat(65_535), payload: new Uint8Array(70_000).fill(7), qos: 1, receivedAt: 3 },
      ],
    ],
  ];
  for (const [name, batch] of cases)
    test(`${name} comes back as it was sent`, () => {
      const back = unpackIngestBatch(packIngestBatch(batch));
      expect(back.map((m) => ({ ...m, payload: [...m.payload] }))).toEqual(
        batch.map((m) => ({ ...m, payload: [...m.payload] })),
      );
    });

  test("payloads are read as views into the one buffer, and print as text", () => {
    const buffer = packIngestBatch([{ topic: "a", payload: bytes("42"), qos: 1, receivedAt: 5 }]);
    const [message] = unpackIngestBatch(buffer);
    expect(message!.payload.buffer).toBe(buffer);
    expect(message!.payload.toString()).toBe("42");
  });
});
