import type { CorruptRecordHandler, RestoredEntryHandler, StateCodec } from "./state-store.ts";

/** the latest record of a key seen while reading a changelog partition */
export interface LatestRecord {
  readonly offset: number;
  /** null is a tombstone */
  readonly value: Uint8Array | null;
}

/**
 * Turns key -> latest record into key -> state, in place: tombstones and undecodable records
 * leave the map, every other value is replaced by its decoded state.
 *
 * Only the latest value of each key is decoded (before compaction a changelog holds every
 * state a key went through), and the map that collected the latest records becomes the
 * restored state itself: overwriting existing keys does not grow or rehash it, where copying
 * into a second map of a million keys would cost as much as the reading. Returns
 * [live keys, undecodable records].
 */
export function decodeLatestInPlace(
  partition: number,
  latest: Map<string, unknown>,
  codec: StateCodec,
  onCorrupt: CorruptRecordHandler,
  onEntry?: RestoredEntryHandler,
): [keys: number, corrupt: number] {
  let corrupt = 0;
  for (const [key, entry] of latest) {
    const record = entry as LatestRecord;
    if (record.value === null) {
      latest.delete(key);
      continue;
    }
    let state: unknown;
    try {
      state = codec.decode(record.value);
    } catch (error) {
      corrupt++;
      latest.delete(key);
      onCorrupt(key, partition, record.offset, error);
      continue;
    }
    latest.set(key, state);
    onEntry?.(key, state);
  }
  return [latest.size, corrupt];
}
