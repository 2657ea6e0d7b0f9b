import type { StatefulKind } from "../messages/host-protocol.ts";

/** Where the dispatcher gets a partition's actor state from before its records flow (the changelogs). */
export interface StateRestorer {
  /** read the changelogs of these partitions and hand each entry to `send` */
  restore(
    partitions: readonly number[],
    send: (partition: number, kind: StatefulKind, key: string, state: unknown) => Promise<void>,
  ): Promise<void>;
  /**
   * the partitions were lost to another owner: their state buffered here, and any that still
   * arrives, is never written (it would land over the new owner's), until they are restored again
   */
  discard?(partitions: readonly number[]): void;
}
