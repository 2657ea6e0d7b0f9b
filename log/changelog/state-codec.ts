import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { StateCodec } from "./state-store.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The default codec: UTF-8 JSON. Decoding is strict (invalid UTF-8 fails instead of becoming
 * U+FFFD), so a corrupt record is reported rather than restored as a different state.
 * JSON has no NaN or Infinity: such numbers come back as null; states that hold them need a
 * codec of their own.
 */
export const jsonStateCodec: StateCodec = {
  encode(state: unknown): Uint8Array {
    const text = JSON.stringify(state);
    if (text === undefined) throw new TypeError(`${typeof state} has no JSON form`);
    return encoder.encode(text);
  },
  decode(bytes: Uint8Array): unknown {
    return JSON.parse(decoder.decode(bytes));
  },
};

/**
 * The node's codec for actor state: a state that is already bytes (the window actor's snapshot,
 * an actor-state record's UTF-8 JSON) is stored as it is, anything else as JSON; a restore
 * hands back the bytes as stored, undecoded, for the worker that owns the key to decode once,
 * where the state is used. (The main thread used to parse every restored state, re-serialise
 * it into the restore message and the worker parse it again: JSON.parse was two thirds of a
 * restore's CPU.) Whether the bytes decode is found out there, and an actor whose state does
 * not decode starts empty, as a corrupt record's key did when the main thread skipped it.
 */
export const storedBytesCodec: StateCodec = {
  encode: (state) => (state instanceof Uint8Array ? state : jsonStateCodec.encode(state)),
  decode: (bytes) => bytes,
};

/** Encode through `codec`; a state that does not encode is a SCHEMA_VIOLATION naming the key. */
export function encodeState(codec: StateCodec, partition: number, key: string, state: unknown): Uint8Array {
  let bytes: unknown;
  try {
    bytes = codec.encode(state);
  } catch (error) {
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `the state of ${key} does not serialise`, {
      cause: error,
      details: { key, partition },
    });
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `the codec gave no bytes for the state of ${key}`, {
      details: { key, partition },
    });
  }
  return bytes;
}

/** A partition number the store owns, or LOG_PARTITION_INVALID naming the store's count. */
export function checkPartition(partition: number, partitions: number, where: string): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new PlatformError(
      ErrorCodes.LOG_PARTITION_INVALID,
      `partition ${partition} is not one of the ${partitions} partitions of ${where}`,
      { details: { partition, partitions, where } },
    );
  }
}
