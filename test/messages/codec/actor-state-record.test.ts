import { describe, expect, test } from "bun:test";
import {
  decodeActorState,
  encodeActorState,
  writeActorState,
} from "../../../messages/codec/actor-state-record.ts";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
import { sabRingChannel } from "../../../supervisor/transport/sab-ring.ts";
import { expectDecodeFailed } from "./codec-fixtures.ts";

describe("actor state record", () => {
  test.each([
    ["a sensor's state", "sensor" as const, "traffic_1", 3, { readings: 12, checks: { quality: [1, 2, 3] } }],
    [
      "a window's state under a unicode key",
      "window" as const,
      "traffic:0:capteur-été",
      65535,
      { windows: null },
    ],
    ["an empty key", "sensor" as const, "", 0, {}],
  ])(
    "round-trips %s, the state as the UTF-8 JSON the changelog stores",
    (_name, kind, key, partition, state) => {
      const bytes = encodeActorState(kind, key, partition, state);
      expect(recordTagOf(bytes, 0, bytes.length)).toBe(RecordTags.actorState);
      const decoded = decodeActorState(bytes, 0, bytes.length);
      expect({ kind: decoded.kind, key: decoded.key, partition: decoded.partition }).toEqual({
        kind,
        key,
        partition,
      });
      expect(JSON.parse(new TextDecoder().decode(decoded.state))).toEqual(state);
    },
  );

  test("a partition out of range is refused when encoding", () => {
    expect(() => encodeActorState("sensor", "k", 70_000, {})).toThrow("OUT_OF_RANGE");
  });

  test("every truncation and an unknown kind decode as DECODE_FAILED, never a crash", () => {
    const bytes = encodeActorState("window", "traffic:1:t", 1, { a: 1 });
    for (let length = 0; length < 8; length++) expectDecodeFailed(() => decodeActorState(bytes, 0, length));
    const corrupt = bytes.slice();
    corrupt[2] = 9;
    expectDecodeFailed(() => decodeActorState(corrupt, 0, corrupt.length));
    const longKey = bytes.slice();
    new DataView(longKey.buffer).setUint16(6, 60_000, true);
    expectDecodeFailed(() => decodeActorState(longKey, 0, longKey.length));
  });
});

describe("actor state record carrying stored bytes", () => {
  const state = Uint8Array.of(0x01, 0, 0xff, 0x7b, 42);

  test("a state that is already bytes (the window actor's snapshot) travels as those bytes", () => {
    const bytes = encodeActorState("window", "traffic:2:x", 2, state);
    expect(decodeActorState(bytes, 0, bytes.length).state).toEqual(state);
  });

  test.each([
    ["written into a ring slot", "traffic:3:capteur-été", 5],
    // the slot is sized for 3 bytes per key character, the record itself fits exactly
    ["larger than its slot bound, through tryWrite", "k", -9],
  ])("a restore %s reads back as the record encodeActorState makes", (_name, key, size) => {
    const channel = sabRingChannel(256);
    const big = new Uint8Array(size > 0 ? size : channel.writer.maxRecordBytes + size).fill(7);
    expect(writeActorState(channel.writer, "window", key, 3, big)).toBe(true);
    channel.writer.flush();
    const read: Uint8Array[] = [];
    channel.reader.drain((bytes, offset, length) => read.push(bytes.slice(offset, offset + length)));
    expect(read).toEqual([encodeActorState("window", key, 3, big)]);
  });

  test("a restore larger than the ring carries is refused with RING_RECORD_TOO_LARGE", () => {
    const channel = sabRingChannel(256);
    const huge = new Uint8Array(channel.writer.maxRecordBytes);
    expect(() => writeActorState(channel.writer, "window", "k", 0, huge)).toThrow("RING_RECORD_TOO_LARGE");
  });

  test("a restore into a full ring is refused, not lost: false, and nothing half written", () => {
    const channel = sabRingChannel(256);
    let written = 0;
    while (writeActorState(channel.writer, "sensor", "k", 0, state)) written++;
    channel.writer.flush();
    let read = 0;
    channel.reader.drain((bytes, offset, length) => {
      expect(decodeActorState(bytes, offset, length).state).toEqual(state);
      read++;
    });
    expect(read).toBe(written);
  });
});
