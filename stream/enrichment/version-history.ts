/**
 * The retained versions of one key of a versioned reference table, ordered by the time each
 * became valid (Kafka Streams' VersionedKeyValueStore, KIP-889): a version is valid from its
 * `validFrom` until the next version's. A tombstone is a version without a value, so a lookup
 * after a delete finds nothing while a lookup before it still finds the old row. Only the last
 * `capacity` versions are kept; a time before the oldest kept version finds nothing.
 */
export interface RowVersion<V> {
  readonly validFrom: number;
  readonly value: V | undefined;
}

export class VersionHistory<V> {
  private readonly list: RowVersion<V>[] = [];

  constructor(private readonly capacity: number) {}

  /** insert in validFrom order; the same validFrom replaces that version */
  put(validFrom: number, value: V | undefined): void {
    const list = this.list;
    let i = list.length;
    while (i > 0 && list[i - 1]!.validFrom > validFrom) i--;
    if (i > 0 && list[i - 1]!.validFrom === validFrom) list[i - 1] = { validFrom, value };
    else list.splice(i, 0, { validFrom, value });
    if (list.length > this.capacity) list.shift();
  }

  /** the value valid at `time`, undefined before the first kept version or after a delete */
  asOf(time: number): V | undefined {
    const list = this.list;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.validFrom <= time) return list[i]!.value;
    }
    return undefined;
  }

  newest(): V | undefined {
    return this.list[this.list.length - 1]?.value;
  }

  earliest(): V | undefined {
    for (const version of this.list) if (version.value !== undefined) return version.value;
    return undefined;
  }

  versions(): readonly RowVersion<V>[] {
    return [...this.list];
  }
}
