import type { StatefulKind } from "../messages/host-protocol.ts";

/** Where the dispatcher gets a partition's actor state from before its records flow (the changelogs). */
export interface StateRestorer {
  /**
   * read the changelogs of these partitions and hand each key's latest record to `send`: its
   * bytes as stored, not decoded here (the actor that owns the key decodes them, in its worker)
   */
  restore(
    partitions: readonly number[],
    send: (partition: number, kind: StatefulKind, key: string, state: Uint8Array) => Promise<void>,
  ): Promise<void>;
  /**
   * the partitions were lost to another owner: their state buffered here, and any that still
   * arrives, is never written (it would land over the new owner's), until they are restored again
   */
  discard?(partitions: readonly number[]): void;
}
