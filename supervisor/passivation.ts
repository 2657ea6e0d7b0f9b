import type { ActorCell } from "./actor-cell.ts";
import type { ActorKind, CellHost } from "./actor-kind.ts";
import { BUSY, IDLE_NOTED } from "./cell-flags.ts";

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}

/**
 * Passivation of sharded entities (Akka Cluster Sharding's passivation, Orleans' grain
 * deactivation): an entity idle for `passivateAfterMs` saves its state to the snapshot store,
 * stops and leaves the entity table; its next message brings it back with
 * `initialState(key, snapshot)`. A key whose save is still in flight waits for it before it
 * loads, so it never comes back with an older snapshot. Store calls may be sync or async.
 */
export class Passivation {
  constructor(private readonly host: CellHost) {}

  /** passivates every entity of `kind` idle for `passivateAfterMs`; returns how many */
  passivateIdle(kind: ActorKind): number {
    const now = this.host.now();
    const limit = kind.passivateAfterMs;
    let passivated = 0;
    for (const cell of kind.cells!.values()) {
      if ((cell.flags & ~IDLE_NOTED) !== 0 || now - cell.lastActive < limit) continue;
      const mailbox = cell.mailbox;
      if (
        mailbox !== undefined &&
        (mailbox.size > 0 || mailbox.system !== undefined || mailbox.waiters !== undefined)
      ) {
        continue;
      }
      const address = cell.address;
      const live = cell.passivate();
      const toSnapshot = kind.props.toSnapshot as ((state: unknown) => unknown) | undefined;
      const state = toSnapshot ? toSnapshot(live) : live;
      passivated++;
      if (this.host.hasListeners) this.host.publish({ type: "actor-passivated", address, at: now });
      const saving = this.settle(`save snapshot ${address}`, () => this.host.snapshots.save(address, state));
      if (saving !== undefined) {
        if (kind.pendingSaves === undefined) kind.pendingSaves = new Map();
        const saves = kind.pendingSaves;
        const key = cell.key;
        const tracked = saving.finally(() => {
          if (saves.get(key) === tracked) saves.delete(key);
        });
        saves.set(key, tracked);
      }
    }
    return passivated;
  }

  restore(kind: ActorKind, cell: ActorCell): void {
    const pendingSave = kind.pendingSaves?.get(cell.key);
    const load = () => this.host.snapshots.load(cell.address);
    let loaded: unknown;
    try {
      loaded = pendingSave === undefined ? load() : pendingSave.then(load);
    } catch (error) {
      this.host.reportError(`load snapshot ${cell.address}`, error);
      cell.start(undefined);
      return;
    }
    if (!isPromiseLike(loaded)) {
      cell.start(loaded);
      return;
    }
    cell.flags |= BUSY;
    this.host.asyncInFlight++;
    const incarnation = cell.incarnation;
    const begin = (snapshot: unknown) => {
      this.host.asyncInFlight--;
      if (cell.incarnation !== incarnation) return;
      cell.flags &= ~BUSY;
      cell.start(snapshot);
    };
    loaded.then(begin, (error: unknown) => {
      this.host.reportError(`load snapshot ${cell.address}`, error);
      begin(undefined);
    });
  }

  /** runs a snapshot-store call; an async one is tracked for drain and its failure reported */
  settle(what: string, call: () => void | Promise<void>): Promise<void> | undefined {
    let result: void | Promise<void>;
    try {
      result = call();
    } catch (error) {
      this.host.reportError(what, error);
      return undefined;
    }
    if (!isPromiseLike(result)) return undefined;
    this.host.asyncInFlight++;
    return Promise.resolve(result).then(
      () => {
        this.host.asyncInFlight--;
      },
      (error: unknown) => {
        this.host.asyncInFlight--;
        this.host.reportError(what, error);
      },
    );
  }
}
