import type { StatefulKind } from "../host-protocol.ts";
import {
  checkHeader,
  decodeFailed,
  outOfRange,
  type RecordSink,
  RecordTags,
  readUtf8,
  writeUtf8,
} from "./record-layout.ts";

/**
 * An actor's state on its way from a worker to the changelog (a checkpoint), or from the
 * changelog back to its worker (a restore), layout version 1 (little-endian). The state travels
 * as the bytes the changelog stores, so the main thread copies it without parsing or
 * re-serialising it: an actor's own encoding when its snapshot is bytes (the window actor's,
 * stream/window/window-snapshot-bytes.ts), UTF-8 JSON otherwise:
 *
 *   off  size  field
 *    0   u8    tag = 0x04 (RecordTags.actorState)
 *    1   u8    version = 1
 *    2   u8    kind: 0 sensor, 1 window
 *    3   u8    reserved (0)
 *    4   u16   input partition of the actor's key
 *    6   u16   k = key length in UTF-8 bytes
 *    8   k     key, UTF-8
 *  8+k   rest  state: the actor's bytes, or UTF-8 JSON
 */
export const ACTOR_STATE_RECORD_VERSION = 1;
const HEADER = 8;
const KINDS: readonly StatefulKind[] = ["sensor", "window"];
const encoder = new TextEncoder();

export interface ActorStateRecord {
  readonly kind: StatefulKind;
  readonly key: string;
  readonly partition: number;
  /** the stored bytes (the actor's encoding or UTF-8 JSON), a copy the caller owns */
  readonly state: Uint8Array;
}

export function encodeActorState(
  kind: StatefulKind,
  key: string,
  partition: number,
  state: unknown,
): Uint8Array {
  if (!Number.isInteger(partition) || partition < 0 || partition > 0xffff)
    outOfRange("partition must be an integer in 0..65535", { partition });
  const json = state instanceof Uint8Array ? state : encoder.encode(JSON.stringify(state));
  const keyBytes = encoder.encode(key);
  if (keyBytes.length > 0xffff) outOfRange("actor key longer than 65535 UTF-8 bytes");
  const bytes = new Uint8Array(HEADER + keyBytes.length + json.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = RecordTags.actorState;
  bytes[1] = ACTOR_STATE_RECORD_VERSION;
  bytes[2] = KINDS.indexOf(kind);
  view.setUint16(4, partition, true);
  view.setUint16(6, keyBytes.length, true);
  bytes.set(keyBytes, HEADER);
  bytes.set(json, HEADER + keyBytes.length);
  return bytes;
}

/**
 * Writes a state that is already bytes straight into the sink's next slot (a restore: one per
 * restored key, a million at a failover), without a record of its own first; false when the
 * sink is full. Larger than a slot: through `tryWrite`, which says what it carries.
 */
export function writeActorState(
  sink: RecordSink,
  kind: StatefulKind,
  key: string,
  partition: number,
  state: Uint8Array,
): boolean {
  const bound = HEADER + key.length * 3 + state.length;
  if (bound > sink.maxRecordBytes) return sink.tryWrite(encodeActorState(kind, key, partition, state));
  if (!Number.isInteger(partition) || partition < 0 || partition > 0xffff)
    outOfRange("partition must be an integer in 0..65535", { partition });
  const slot = sink.reserve(bound);
  if (slot === null) return false;
  const { bytes, view, offset } = slot;
  const keyLength = writeUtf8(bytes, offset + HEADER, key);
  if (keyLength > 0xffff) outOfRange("actor key longer than 65535 UTF-8 bytes");
  bytes[offset] = RecordTags.actorState;
  bytes[offset + 1] = ACTOR_STATE_RECORD_VERSION;
  bytes[offset + 2] = KINDS.indexOf(kind);
  bytes[offset + 3] = 0;
  view.setUint16(offset + 4, partition, true);
  view.setUint16(offset + 6, keyLength, true);
  bytes.set(state, offset + HEADER + keyLength);
  sink.commit(HEADER + keyLength + state.length);
  return true;
}

export function decodeActorState(bytes: Uint8Array, offset: number, length: number): ActorStateRecord {
  checkHeader(bytes, offset, length, RecordTags.actorState, ACTOR_STATE_RECORD_VERSION, HEADER);
  const kind = KINDS[bytes[offset + 2]!];
  if (kind === undefined) decodeFailed("unknown actor kind", { kind: bytes[offset + 2] });
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  const partition = view.getUint16(4, true);
  const keyLength = view.getUint16(6, true);
  if (HEADER + keyLength > length) decodeFailed("actor key runs past the record", { keyLength, length });
  return {
    kind,
    key: readUtf8(bytes, offset + HEADER, keyLength),
    partition,
    state: bytes.slice(offset + HEADER + keyLength, offset + length),
  };
}
