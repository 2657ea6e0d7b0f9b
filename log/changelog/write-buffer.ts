import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/** bytes of the latest state, or null for a delete */
export type BufferedValue = Uint8Array | null;

export interface BufferedPartition {
  readonly partition: number;
  readonly entries: Map<string, BufferedValue>;
}

/**
 * The latest value per key per partition since the last flush. A put or delete replaces the
 * buffered value of its key, so a flush writes one record per changed key, however often it
 * changed (Kafka Streams' caching layer in front of the changelog does the same).
 */
export class WriteBuffer {
  private readonly partitions: (Map<string, BufferedValue> | undefined)[];
  private overwrites = 0;
  private keys = 0;

  constructor(partitionCount: number) {
    this.partitions = new Array(partitionCount);
  }

  get size(): number {
    return this.keys;
  }

  get overwritten(): number {
    return this.overwrites;
  }

  set(partition: number, key: string, value: BufferedValue): void {
    let entries = this.partitions[partition];
    if (entries === undefined) {
      entries = new Map();
      this.partitions[partition] = entries;
    }
    const before = entries.size;
    entries.set(key, value);
    if (entries.size === before) this.overwrites++;
    else this.keys++;
  }

  /** removes and returns the buffered entries of `partitions` (all when undefined) */
  take(partitions?: readonly number[]): BufferedPartition[] {
    const taken: BufferedPartition[] = [];
    const which = partitions ?? this.partitions.keys();
    for (const partition of which) {
      const entries = this.partitions[partition];
      if (entries === undefined || entries.size === 0) continue;
      this.partitions[partition] = undefined;
      this.keys -= entries.size;
      taken.push({ partition, entries });
    }
    return taken;
  }

  /** returns entries of a failed flush; values buffered since then are newer and stay */
  putBack(taken: readonly BufferedPartition[]): void {
    for (const { partition, entries } of taken) {
      const current = this.partitions[partition];
      if (current === undefined) {
        this.partitions[partition] = entries;
        this.keys += entries.size;
        continue;
      }
      for (const [key, value] of entries) {
        if (current.has(key)) continue;
        current.set(key, value);
        this.keys++;
      }
    }
  }
}

/** a key must be a string: the changelog record key is what restore hands back */
export function checkKey(key: string): void {
  if (typeof key !== "string") {
    throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, `a state key must be a string, not ${typeof key}`, {
      details: { key: String(key) },
    });
  }
}
