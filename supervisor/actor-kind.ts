import type {
  ActorRef,
  MailboxSpec,
  OverflowPolicy,
  Props,
  Receive,
  RestartType,
  SystemSignal,
} from "./actor.ts";
import type { ActorCell } from "./actor-cell.ts";
import type { MailboxPool } from "./mailbox.ts";
import type { Scheduler } from "./scheduler.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import type { SupervisionHost, Supervisor } from "./supervision/supervised-child.ts";

export const DEFAULT_MAILBOX: MailboxSpec = { capacity: 10_000, overflow: "backpressure" };

/** The runtime services an actor cell needs; the actor system provides them. */
export interface CellHost extends SupervisionHost {
  readonly scheduler: Scheduler;
  readonly snapshots: SnapshotStore;
  readonly mailboxes: MailboxPool;
  /** true once `stop()` began: tells from outside a turn are refused */
  closing: boolean;
  processed: number;
  droppedMessages: number;
  /** async receives and snapshot loads/saves in flight (drain waits for them) */
  asyncInFlight: number;
  readonly hasListeners: boolean;
  deadLetter(address: string, reason: string): void;
  ref<T>(kind: string, key: string): ActorRef<T>;
  spawnChild(
    parent: ActorCell,
    props: Props<unknown, unknown>,
    key: string,
    restart: RestartType,
  ): ActorRef<unknown>;
  /** a cell ended for good (or passivated): drop it from lookup tables, forget stale snapshots */
  forget(cell: ActorCell, passivated: boolean): void;
  /** a failure outside any actor's turn (snapshot store, timer) that must not vanish */
  reportError(where: string, error: unknown): void;
}

/**
 * What all actors of one kind share, kept once per kind so that a cell stays small: the
 * behaviour, mailbox limits, passivation, counters, and for sharded kinds the entity table and
 * its supervisor.
 */
export class ActorKind {
  readonly name: string;
  readonly receive: Receive<unknown, unknown>;
  readonly onSignal: ((ctx: never, signal: SystemSignal) => void) | undefined;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly passivateAfterMs: number;
  readonly passivates: boolean;
  /** 0: the system's budget */
  readonly turnBudget: number;
  /** live actors of this kind */
  actors = 0;
  /** messages queued in this kind's mailboxes */
  depth = 0;
  /** sharded kinds: key -> live cell */
  cells: Map<string, ActorCell> | undefined = undefined;
  /** sharded kinds: the per-kind supervisor of the entities */
  supervisor: Supervisor | undefined = undefined;
  /** sharded kinds: snapshot saves still in flight, awaited before the key comes back */
  pendingSaves: Map<string, Promise<void>> | undefined = undefined;

  constructor(
    readonly props: Props<unknown, unknown>,
    readonly host: CellHost,
    readonly restartType: RestartType,
  ) {
    this.name = props.kind;
    this.receive = props.receive;
    this.onSignal = props.onSignal;
    const mailbox = props.mailbox ?? DEFAULT_MAILBOX;
    this.capacity = Math.max(1, mailbox.capacity);
    this.overflow = mailbox.overflow;
    this.passivateAfterMs = props.passivateAfterMs ?? 0;
    this.passivates = this.passivateAfterMs > 0;
    this.turnBudget = Math.max(0, props.turnBudget ?? 0);
  }
}
