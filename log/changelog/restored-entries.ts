import type { CorruptRecordHandler, RestoredEntryHandler, StateCodec } from "./state-store.ts";

/** the latest record of a key seen while reading a changelog partition */
export interface LatestRecord {
  readonly offset: number;
  /** null is a tombstone */
  readonly value: Uint8Array | null;
}

/**
 * Hands the live keys of a partition to `onEntry`. Only the latest value of each key is decoded:
 * before compaction a changelog holds every state a key went through, and decoding the ones
 * that a later record replaces is wasted work. Returns [live keys, corrupt records].
 */
export function deliverLatest(
  partition: number,
  latest: Map<string, LatestRecord>,
  codec: StateCodec,
  onEntry: RestoredEntryHandler,
  onCorrupt: CorruptRecordHandler,
): [keys: number, corrupt: number] {
  let keys = 0;
  let corrupt = 0;
  for (const [key, record] of latest) {
    if (record.value === null) continue;
    let state: unknown;
    try {
      state = codec.decode(record.value);
    } catch (error) {
      corrupt++;
      onCorrupt(key, partition, record.offset, error);
      continue;
    }
    keys++;
    onEntry(key, state);
  }
  return [keys, corrupt];
}
