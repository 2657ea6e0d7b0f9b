import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type {
  ActorContext,
  ActorRef,
  Address,
  Props,
  RestartType,
  SupervisionTreeNode,
  SupervisorSpec,
  SystemEvent,
  SystemSignal,
  TimerOptions,
} from "./actor.ts";
import type { ActorKind } from "./actor-kind.ts";
import type { Mailbox, SystemLaneEntry } from "./mailbox.ts";
import { type Runnable, SCHEDULED } from "./scheduler.ts";
import type { ChildSupervisor } from "./supervision/child-supervisor.ts";
import { RestartIntensity } from "./supervision/restart-intensity.ts";
import type { SupervisedChild, Supervisor } from "./supervision/supervised-child.ts";
import { TimerTable } from "./timers.ts";

/** an async receive or a snapshot load is in flight: nothing else runs */
export const BUSY = 2;
/** failed or exited: waiting for the supervisor to restart or terminate it */
export const SUSPENDED = 4;
/** terminated or passivated: this cell never runs again */
export const DEAD = 8;
/** `ctx.stop()` was called: exit after the current message */
const STOP_REQUESTED = 16;
/** on the scheduler's went-idle list, to give its mailbox back at the end of the slice */
export const IDLE_NOTED = 32;
const NOT_RUNNABLE = SCHEDULED | BUSY | SUSPENDED | DEAD;

interface CellExtras {
  parent?: Supervisor;
  restartType?: RestartType;
  timers?: TimerTable | undefined;
  children?: ChildSupervisor | undefined;
  restarts?: RestartIntensity;
  address?: Address;
}

/**
 * One actor: its state, its lazily created mailbox, and its place in the supervision tree.
 * The cell is at once the actor's ref (`tell`, `offer`) and its context (`ctx.state`,
 * `ctx.startTimer` ...), so an idle actor is one small object plus its state; everything shared
 * by the kind lives on `ActorKind`. Hot path: `tell` pushes into the ring and puts the cell on
 * the scheduler's ready queue; `runTurn` calls the behaviour directly and looks for a `then`
 * only when it returned something.
 */
export class ActorCell
  implements ActorContext<unknown, unknown>, ActorRef<unknown>, SupervisedChild, Runnable
{
  flags = 0;
  state: unknown = undefined;
  /** taken from the system's pool on demand and given back when the actor goes idle */
  mailbox: Mailbox | undefined = undefined;
  /** bumped whenever an incarnation ends, so late promise settlements and timers are ignored */
  incarnation = 0;
  lastActive = 0;
  /** what few actors need (timers, children, restart history, a parent other than the kind's) */
  private extras: CellExtras | undefined = undefined;

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

  private get rare(): CellExtras {
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

  private get restarts(): RestartIntensity | undefined {
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

  // ---- ActorRef ----------------------------------------------------------------------------

  tell(message: unknown): boolean {
    const kind = this.actorKind;
    if ((this.flags & DEAD) !== 0 || kind.host.closing) return this.tellSlow(message);
    let mailbox = this.mailbox;
    if (mailbox === undefined) {
      mailbox = kind.host.mailboxes.acquire();
      this.mailbox = mailbox;
    }
    if (mailbox.size >= kind.capacity) return this.overflow(mailbox, message);
    mailbox.push(message);
    kind.depth++;
    if ((this.flags & NOT_RUNNABLE) === 0) kind.host.scheduler.schedule(this);
    return true;
  }

  offer(message: unknown): Promise<void> {
    const kind = this.actorKind;
    if ((this.flags & DEAD) !== 0 && kind.cells !== undefined && !kind.host.closing) {
      return kind.host.ref(kind.name, this.key).offer(message);
    }
    if (this.tell(message)) return Promise.resolve();
    const mailbox = this.mailbox;
    if ((this.flags & DEAD) === 0 && !kind.host.closing && kind.overflow === "backpressure" && mailbox) {
      return new Promise<void>((resolve, reject) => {
        if (mailbox.waiters === undefined) mailbox.waiters = [];
        mailbox.waiters.push({ message, resolve, reject });
      });
    }
    const code =
      kind.overflow === "backpressure" || (this.flags & DEAD) !== 0 ? "ACTOR_STOPPED" : "MAILBOX_FULL";
    return Promise.reject(new PlatformError(ErrorCodes[code], `${this.address} did not accept the message`));
  }

  private tellSlow(message: unknown): boolean {
    const kind = this.actorKind;
    const host = kind.host;
    if (host.closing && !host.scheduler.running) {
      host.deadLetter(this.address, "system stopping");
      return false;
    }
    if ((this.flags & DEAD) !== 0) {
      // a sharded entity that passivated or stopped comes back on its next message
      if (kind.cells !== undefined && !host.closing) return host.ref(kind.name, this.key).tell(message);
      host.deadLetter(this.address, "actor stopped");
      return false;
    }
    const mailbox = this.ensureMailbox();
    if (mailbox.size >= kind.capacity) return this.overflow(mailbox, message);
    mailbox.push(message);
    kind.depth++;
    if ((this.flags & NOT_RUNNABLE) === 0) host.scheduler.schedule(this);
    return true;
  }

  private ensureMailbox(): Mailbox {
    if (this.mailbox === undefined) this.mailbox = this.actorKind.host.mailboxes.acquire();
    return this.mailbox;
  }

  private overflow(mailbox: Mailbox, message: unknown): boolean {
    const kind = this.actorKind;
    switch (kind.overflow) {
      case "backpressure":
        return false;
      case "drop-oldest":
        mailbox.shift();
        mailbox.push(message);
        kind.host.droppedMessages++;
        return true;
      case "fail": {
        kind.host.deadLetter(this.address, "mailbox full");
        const lane = mailbox.system;
        if (lane === undefined || !lane.some((entry) => entry.type === "fail")) {
          const reason = new PlatformError(ErrorCodes.MAILBOX_FULL, `${this.address} mailbox is full`, {
            details: { capacity: kind.capacity },
          });
          this.pushSystem({ type: "fail", reason });
        }
        return false;
      }
    }
  }

  // ---- scheduling --------------------------------------------------------------------------

  runTurn(budget: number): void {
    if ((this.flags & (BUSY | SUSPENDED | DEAD)) !== 0) return;
    const mailbox = this.mailbox;
    if (mailbox === undefined) return;
    if (mailbox.system !== undefined) {
      if (!this.runSystemLane(mailbox)) return;
      if ((this.flags & STOP_REQUESTED) !== 0) {
        this.afterMessage(mailbox);
        return;
      }
    }
    const kind = this.actorKind;
    if (kind.passivates) this.lastActive = kind.host.scheduler.sliceNow;
    const receive = kind.receive;
    if (kind.turnBudget !== 0) budget = kind.turnBudget;
    let handled = 0;
    while (handled < budget && mailbox.size > 0) {
      const message = mailbox.shift();
      handled++;
      let result: void | PromiseLike<void>;
      try {
        result = receive(this, message);
      } catch (error) {
        this.endTurn(kind, mailbox, handled);
        this.fail(error);
        return;
      }
      if (result !== undefined && typeof result.then === "function") {
        this.endTurn(kind, mailbox, handled);
        this.awaitReceive(result);
        return;
      }
      if ((this.flags & (STOP_REQUESTED | SUSPENDED | DEAD)) !== 0) break;
    }
    this.endTurn(kind, mailbox, handled);
    this.afterMessage(mailbox);
  }

  private endTurn(kind: ActorKind, mailbox: Mailbox, handled: number): void {
    kind.depth -= handled;
    kind.host.processed += handled;
    if (mailbox.waiters !== undefined) this.admitWaiters(mailbox);
  }

  private afterMessage(mailbox: Mailbox): void {
    if ((this.flags & STOP_REQUESTED) !== 0 && (this.flags & (SUSPENDED | DEAD)) === 0) {
      this.exitNormally();
      return;
    }
    if (mailbox.size > 0 || mailbox.system !== undefined) {
      if ((this.flags & NOT_RUNNABLE) === 0) this.actorKind.host.scheduler.schedule(this);
    } else if ((this.flags & IDLE_NOTED) === 0) {
      // idle: the mailbox goes back to the pool at the end of the scheduler's slice (not now:
      // a ping-pong actor goes idle after every message and would churn the pool)
      const scheduler = this.actorKind.host.scheduler;
      if (scheduler.running) {
        this.flags |= IDLE_NOTED;
        scheduler.noteIdle(this);
      } else {
        this.reclaim();
      }
    }
  }

  /** gives an empty mailbox back to the pool if the actor is still idle */
  reclaim(): void {
    this.flags &= ~IDLE_NOTED;
    const mailbox = this.mailbox;
    if (
      mailbox === undefined ||
      mailbox.size > 0 ||
      mailbox.system !== undefined ||
      mailbox.waiters !== undefined ||
      (this.flags & (SCHEDULED | BUSY | SUSPENDED | DEAD)) !== 0
    ) {
      return;
    }
    this.mailbox = undefined;
    this.actorKind.host.mailboxes.release(mailbox);
  }

  private awaitReceive(pending: PromiseLike<void>): void {
    const host = this.actorKind.host;
    const incarnation = this.incarnation;
    this.flags |= BUSY;
    host.asyncInFlight++;
    pending.then(
      () => this.receiveSettled(incarnation, false, undefined),
      (error: unknown) => this.receiveSettled(incarnation, true, error),
    );
  }

  private receiveSettled(incarnation: number, failed: boolean, error: unknown): void {
    this.actorKind.host.asyncInFlight--;
    if (incarnation !== this.incarnation) return; // that incarnation was restarted or stopped meanwhile
    this.flags &= ~BUSY;
    if (failed) {
      this.fail(error);
      return;
    }
    this.afterMessage(this.ensureMailbox());
  }

  private admitWaiters(mailbox: Mailbox): void {
    const waiters = mailbox.waiters!;
    const kind = this.actorKind;
    while (waiters.length > 0 && mailbox.size < kind.capacity) {
      const waiter = waiters.shift()!;
      mailbox.push(waiter.message);
      kind.depth++;
      waiter.resolve();
    }
    if (waiters.length === 0) mailbox.waiters = undefined;
  }

  pushSystem(entry: SystemLaneEntry): void {
    const mailbox = this.ensureMailbox();
    mailbox.pushSystem(entry);
    if ((this.flags & NOT_RUNNABLE) === 0) this.actorKind.host.scheduler.schedule(this);
  }

  /** system signals run before any user message; false when the actor cannot go on this turn */
  private runSystemLane(mailbox: Mailbox): boolean {
    const entries = mailbox.system!;
    mailbox.system = undefined;
    for (const entry of entries) {
      if (entry.type === "fail") {
        this.fail(entry.reason);
        return false;
      }
      if (!this.signal(entry)) return false;
    }
    return (this.flags & (BUSY | SUSPENDED | DEAD)) === 0;
  }

  private signal(signal: SystemSignal): boolean {
    const onSignal = this.actorKind.onSignal;
    if (onSignal === undefined) return true;
    try {
      onSignal(this as never, signal);
      return true;
    } catch (error) {
      if (signal.type === "stopping" || signal.type === "passivating") {
        this.actorKind.host.reportError(`${this.address} onSignal(${signal.type})`, error);
        return true;
      }
      this.fail(error);
      return false;
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** first incarnation: state from the snapshot (if any), then the `started` signal */
  start(snapshot: unknown): void {
    const kind = this.actorKind;
    this.lastActive = kind.host.now();
    try {
      this.state = kind.props.initialState(this.key, snapshot);
    } catch (error) {
      this.flags |= SUSPENDED;
      this.parent.childFailed(this, error);
      return;
    }
    if (kind.host.hasListeners)
      kind.host.publish({ type: "actor-started", address: this.address, at: this.lastActive });
    if (kind.onSignal !== undefined) this.pushSystem({ type: "started" });
    else if (this.mailbox !== undefined && this.mailbox.size > 0 && (this.flags & NOT_RUNNABLE) === 0) {
      kind.host.scheduler.schedule(this);
    }
  }

  fail(reason: unknown): void {
    if ((this.flags & (SUSPENDED | DEAD)) !== 0) return;
    this.flags = (this.flags & SCHEDULED) | SUSPENDED;
    this.incarnation++;
    this.halt();
    this.parent.childFailed(this, reason);
  }

  private exitNormally(): void {
    this.signal({ type: "stopping" });
    this.flags = (this.flags & SCHEDULED) | SUSPENDED;
    this.incarnation++;
    this.halt();
    this.parent.childExited(this);
  }

  /** ends the current incarnation's side effects: timers and children */
  private halt(): void {
    if (this.timers !== undefined) {
      this.timers.clear();
      this.timers = undefined;
    }
    if (this.children !== undefined) {
      this.children.terminateAll("parent stopped");
      this.children = undefined;
    }
  }

  restartLog(spec: SupervisorSpec): RestartIntensity {
    const rare = this.rare;
    if (rare.restarts === undefined) rare.restarts = new RestartIntensity(spec.intensity, spec.periodMs);
    return rare.restarts;
  }

  restart(reason: unknown, delayMs: number): void {
    if ((this.flags & DEAD) !== 0) return;
    if ((this.flags & SUSPENDED) === 0) {
      // a sibling taken down by one_for_all / rest_for_one
      this.signal({ type: "stopping" });
      this.flags = (this.flags & SCHEDULED) | SUSPENDED;
      this.incarnation++;
      this.halt();
    }
    const host = this.actorKind.host;
    if (delayMs > 0) host.later(delayMs, () => this.resume(reason));
    else this.resume(reason);
  }

  private resume(reason: unknown): void {
    if ((this.flags & DEAD) !== 0) return;
    const kind = this.actorKind;
    try {
      this.state = kind.props.initialState(this.key, undefined);
    } catch (error) {
      this.parent.childFailed(this, error);
      return;
    }
    this.flags &= ~SUSPENDED;
    this.lastActive = kind.host.now();
    if (kind.onSignal !== undefined) this.pushSystem({ type: "restarted", reason });
    else this.afterMessage(this.ensureMailbox());
  }

  terminate(reason: string): void {
    if ((this.flags & DEAD) !== 0) return;
    if ((this.flags & SUSPENDED) === 0) this.signal({ type: "stopping" });
    this.bury(reason);
    const host = this.actorKind.host;
    if (host.hasListeners)
      host.publish({ type: "actor-stopped", address: this.address, reason, at: host.now() });
  }

  /** passivation: snapshot the state, stop, and leave the entity table; the key comes back on demand */
  passivate(): unknown {
    this.signal({ type: "passivating" });
    const state = this.state;
    this.bury("passivated");
    return state;
  }

  private bury(reason: string): void {
    const kind = this.actorKind;
    this.flags = DEAD;
    this.incarnation++;
    this.halt();
    const mailbox = this.mailbox;
    if (mailbox !== undefined) {
      kind.depth -= mailbox.size;
      mailbox.clear(() => kind.host.deadLetter(this.address, reason));
      mailbox.system = undefined;
      const waiters = mailbox.waiters;
      mailbox.waiters = undefined;
      for (const waiter of waiters ?? []) {
        waiter.reject(new PlatformError(ErrorCodes.ACTOR_STOPPED, `${this.address} stopped: ${reason}`));
      }
      this.mailbox = undefined;
      kind.host.mailboxes.release(mailbox);
    }
    kind.actors--;
    if (kind.cells !== undefined && kind.cells.get(this.key) === this) kind.cells.delete(this.key);
    kind.host.forget(this, reason === "passivated");
  }

  get status(): SupervisionTreeNode["status"] {
    const flags = this.flags;
    if ((flags & DEAD) !== 0) return "stopped";
    if ((flags & SUSPENDED) !== 0) return "restarting";
    if ((flags & BUSY) !== 0) return "busy";
    return "running";
  }

  get depth(): number {
    return this.mailbox?.size ?? 0;
  }

  get restartCount(): number {
    return this.restarts?.total ?? 0;
  }

  treeNode(): SupervisionTreeNode {
    const node = {
      address: this.address,
      restarts: this.restartCount,
      mailboxDepth: this.depth,
      status: this.status,
      children: this.children?.tree() ?? [],
    };
    return this.children === undefined ? node : { ...node, strategy: this.children.spec.strategy };
  }

  // ---- ActorContext ------------------------------------------------------------------------

  ref<T>(kind: string, key: string): ActorRef<T> {
    return this.actorKind.host.ref<T>(kind, key);
  }

  spawnChild<T, C>(props: Props<T, C>, key: string, restart: RestartType = "permanent"): ActorRef<T> {
    return this.actorKind.host.spawnChild(
      this,
      props as unknown as Props<unknown, unknown>,
      key,
      restart,
    ) as ActorRef<T>;
  }

  startTimer(name: string, delayMs: number, message: unknown, options?: TimerOptions): void {
    if ((this.flags & (DEAD | SUSPENDED)) !== 0) return;
    if (this.timers === undefined) this.timers = new TimerTable();
    const incarnation = this.incarnation;
    this.timers.start(name, Math.max(0, delayMs), options?.repeat === true, () => {
      if (incarnation === this.incarnation) this.tell(message);
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
