import type {
  ActorContext,
  ActorRef,
  Address,
  Props,
  RestartType,
  SystemEvent,
  TimerOptions,
} from "./actor.ts";
import type { ActorCell } from "./actor-cell.ts";
import type { ActorKind } from "./actor-kind.ts";
import { DEAD, STOP_REQUESTED, SUSPENDED } from "./cell-flags.ts";
import type { Mailbox } from "./mailbox.ts";
import type { ChildSupervisor } from "./supervision/child-supervisor.ts";
import type { RestartIntensity } from "./supervision/restart-intensity.ts";
import type { Supervisor } from "./supervision/supervised-child.ts";
import { QuietMessage, TimerTable } from "./timers.ts";

/** What few actors need, allocated on first use so an idle entity does not pay for it. */
export interface CellExtras {
  parent?: Supervisor;
  restartType?: RestartType;
  timers?: TimerTable | undefined;
  children?: ChildSupervisor | undefined;
  restarts?: RestartIntensity;
  address?: Address;
}

/**
 * The half of an actor cell that the behaviour sees as its `ctx`: its fields, its address and
 * the context operations (refs, children, timers, stop, publish, clock). `ActorCell` adds
 * delivery, scheduling and the lifecycle; both halves make one small object per actor.
 */
export abstract class CellContext implements ActorContext<unknown, unknown> {
  flags = 0;
  state: unknown = undefined;
  /** taken from the system's pool on demand and given back when the actor goes idle */
  mailbox: Mailbox | undefined = undefined;
  /** bumped whenever an incarnation ends, so late promise settlements and timers are ignored */
  incarnation = 0;
  lastActive = 0;
  /** what few actors need (timers, children, restart history, a parent other than the kind's) */
  protected extras: CellExtras | undefined = undefined;

  constructor(
    readonly actorKind: ActorKind,
    readonly key: string,
    parent: Supervisor,
    restartType: RestartType,
  ) {
    if (parent !== actorKind.supervisor || restartType !== actorKind.restartType) {
      this.extras = { parent, restartType };
    }
  }

  protected get rare(): CellExtras {
    if (this.extras === undefined) this.extras = {};
    return this.extras;
  }

  get parent(): Supervisor {
    return this.extras?.parent ?? this.actorKind.supervisor!;
  }

  get restartType(): RestartType {
    return this.extras?.restartType ?? this.actorKind.restartType;
  }

  get children(): ChildSupervisor | undefined {
    return this.extras?.children;
  }

  set children(children: ChildSupervisor | undefined) {
    if (children !== undefined || this.extras !== undefined) this.rare.children = children;
  }

  private get timers(): TimerTable | undefined {
    return this.extras?.timers;
  }

  private set timers(timers: TimerTable | undefined) {
    if (timers !== undefined || this.extras !== undefined) this.rare.timers = timers;
  }

  protected get restarts(): RestartIntensity | undefined {
    return this.extras?.restarts;
  }

  /**
   * Built on demand and cached only on cells that already carry extras: a million idle entities
   * should not each hold a second copy of their key.
   */
  get address(): Address {
    const extras = this.extras;
    if (extras === undefined) return `${this.actorKind.name}/${this.key}`;
    if (extras.address === undefined) extras.address = `${this.actorKind.name}/${this.key}`;
    return extras.address;
  }

  get kind(): string {
    return this.actorKind.name;
  }

  get self(): ActorRef<unknown> {
    return this;
  }

  abstract tell(message: unknown): boolean;
  abstract offer(message: unknown): Promise<void>;

  // ---- ActorContext ------------------------------------------------------------------------

  ref<T>(kind: string, key: string): ActorRef<T> {
    return this.actorKind.host.ref<T>(kind, key);
  }

  spawnChild<T, C>(props: Props<T, C>, key: string, restart: RestartType = "permanent"): ActorRef<T> {
    return this.actorKind.host.spawnChild(
      this as unknown as ActorCell,
      props as unknown as Props<unknown, unknown>,
      key,
      restart,
    ) as ActorRef<T>;
  }

  startTimer(name: string, delayMs: number, message: unknown, options?: TimerOptions): void {
    if ((this.flags & (DEAD | SUSPENDED)) !== 0) return;
    if (this.timers === undefined) this.timers = new TimerTable();
    const incarnation = this.incarnation;
    const delivered = options?.keepsAlive === false ? new QuietMessage(message) : message;
    this.timers.start(name, Math.max(0, delayMs), options?.repeat === true, () => {
      if (incarnation === this.incarnation) this.tell(delivered);
    });
  }

  cancelTimer(name: string): void {
    this.timers?.cancel(name);
  }

  get timerCount(): number {
    return this.timers?.size ?? 0;
  }

  stop(): void {
    this.flags |= STOP_REQUESTED;
  }

  publish(event: SystemEvent): void {
    this.actorKind.host.publish(event);
  }

  now(): number {
    return this.actorKind.host.now();
  }
}
