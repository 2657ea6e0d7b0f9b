import { describe, expect, test } from "bun:test";
import { decodeActorState, encodeActorState } from "../../../messages/codec/actor-state-record.ts";
import { RecordTags, recordTagOf } from "../../../messages/codec/record-layout.ts";
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
