import { describe, expect, test } from "bun:test";
import {
  createIngestBatchPacker,
  createIngestBatchUnpacker,
} from "../../../sources/mqtt/ingest-batch-transfer.ts";
import type { RawMqttMessage } from "../../../sources/mqtt/mqtt-subscriber.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const comparable = (messages: readonly RawMqttMessage[]) =>
  messages.map((m) => ({ ...m, payload: [...m.payload] }));

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
        { topic: "city/sensors/air/東京", payload: bytes("again"), qos: 1, receivedAt: 4 },
      ],
    ],
  ];
  for (const [name, batch] of cases)
    test(`${name} comes back as it was sent, with its topics numbered or inline`, () => {
      for (const maxTopics of [1 << 20, 1, 0]) {
        const back = createIngestBatchUnpacker().unpack(createIngestBatchPacker(maxTopics).pack(batch));
        expect(comparable(back)).toEqual(comparable(batch));
      }
    });

  test("a topic's text crosses once; later batches and a batch packed again carry its number", () => {
    const packer = createIngestBatchPacker();
    const unpacker = createIngestBatchUnpacker();
    const first = [
      { topic: "city/sensors/traffic/t1", payload: bytes("1"), qos: 1 as const, receivedAt: 1 },
      { topic: "city/sensors/traffic/t2", payload: bytes("2"), qos: 1 as const, receivedAt: 2 },
      { topic: "city/sensors/traffic/t1", payload: bytes("3"), qos: 1 as const, receivedAt: 3 },
    ];
    const packed = packer.pack(first);
    expect(packed.newTopics).toEqual(["city/sensors/traffic/t1", "city/sensors/traffic/t2"]);
    expect(comparable(unpacker.unpack(packed))).toEqual(comparable(first));
    // a retry of the same messages defines nothing new
    const again = packer.pack(first);
    expect(again.newTopics).toEqual([]);
    expect(comparable(unpacker.unpack(again))).toEqual(comparable(first));
    const second = [
      { topic: "city/sensors/traffic/t2", payload: bytes("4"), qos: 0 as const, receivedAt: 4 },
      { topic: "city/sensors/traffic/t3", payload: bytes("5"), qos: 1 as const, receivedAt: 5 },
    ];
    const next = packer.pack(second);
    expect(next.newTopics).toEqual(["city/sensors/traffic/t3"]);
    expect(comparable(unpacker.unpack(next))).toEqual(comparable(second));
  });

  test("past the table's bound new topics travel inline and the known ones keep their numbers", () => {
    const packer = createIngestBatchPacker(2);
    const unpacker = createIngestBatchUnpacker();
    const batch = ["a", "b", "c", "a", "d", "c"].map((t, i) => ({
      topic: `city/sensors/traffic/${t}`,
      payload: bytes(String(i)),
      qos: 1 as const,
      receivedAt: i,
    }));
    const packed = packer.pack(batch);
    expect(packed.newTopics).toEqual(["city/sensors/traffic/a", "city/sensors/traffic/b"]);
    expect(comparable(unpacker.unpack(packed))).toEqual(comparable(batch));
  });

  test("an unpacker that missed a batch refuses a number it does not know, not a wrong topic", () => {
    const packer = createIngestBatchPacker();
    packer.pack([{ topic: "city/sensors/traffic/t1", payload: bytes("1"), qos: 1, receivedAt: 1 }]);
    const later = packer.pack([
      { topic: "city/sensors/traffic/t1", payload: bytes("2"), qos: 1, receivedAt: 2 },
    ]);
    expect(() => createIngestBatchUnpacker().unpack(later)).toThrow("names topic 0, of 0 known");
  });

  test("payloads are read as views into the one buffer, and print as text", () => {
    const packed = createIngestBatchPacker().pack([
      { topic: "a", payload: bytes("42"), qos: 1, receivedAt: 5 },
    ]);
    const [message] = createIngestBatchUnpacker().unpack(packed);
    expect(message!.payload.buffer).toBe(packed.buffer);
    expect(message!.payload.toString()).toBe("42");
  });
});
