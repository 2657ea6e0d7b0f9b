import type { StatefulKind } from "../messages/host-protocol.ts";

/** Where the dispatcher gets a partition's actor state from before its records flow (the changelogs). */
export interface StateRestorer {
  /** read the changelogs of these partitions and hand each entry to `send` */
  restore(
    partitions: readonly number[],
    send: (partition: number, kind: StatefulKind, key: string, state: unknown) => Promise<void>,
  ): Promise<void>;
}
