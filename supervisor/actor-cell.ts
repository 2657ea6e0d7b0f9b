import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { ActorRef, SupervisionTreeNode, SupervisorSpec, SystemSignal } from "./actor.ts";
import type { ActorKind } from "./actor-kind.ts";
import { CellContext } from "./cell-context.ts";
import { admitWaiters, cellTreeNode, offerTo, overflowInto, tellSlowly } from "./cell-delivery.ts";
import { BUSY, DEAD, IDLE_NOTED, NOT_RUNNABLE, STOP_REQUESTED, SUSPENDED } from "./cell-flags.ts";
import type { Mailbox, SystemLaneEntry } from "./mailbox.ts";
import { type Runnable, SCHEDULED } from "./scheduler.ts";
import { RestartIntensity } from "./supervision/restart-intensity.ts";
import type { SupervisedChild } from "./supervision/supervised-child.ts";
import { QuietMessage } from "./timers.ts";

/**
 * One actor: its state, its lazily created mailbox, and its place in the supervision tree.
 * The cell is at once the actor's ref (`tell`, `offer`) and its context (`ctx.state`,
 * `ctx.startTimer` ...), so an idle actor is one small object plus its state; everything shared
 * by the kind lives on `ActorKind`. Hot path: `tell` pushes into the ring and puts the cell on
 * the scheduler's ready queue; `runTurn` calls the behaviour directly and looks for a `then`
 * only when it returned something.
 */
export class ActorCell extends CellContext implements ActorRef<unknown>, SupervisedChild, Runnable {
  // ---- ActorRef ----------------------------------------------------------------------------

  tell(message: unknown): boolean {
    const kind = this.actorKind;
    if ((this.flags & DEAD) !== 0 || kind.host.closing) return tellSlowly(this, message);
    let mailbox = this.mailbox;
    if (mailbox === undefined) {
      mailbox = kind.host.mailboxes.acquire();
      this.mailbox = mailbox;
    }
    if (mailbox.size >= kind.capacity) return overflowInto(this, mailbox, message);
    mailbox.push(message);
    kind.depth++;
    if ((this.flags & NOT_RUNNABLE) === 0) kind.host.scheduler.schedule(this);
    return true;
  }

  offer(message: unknown): Promise<void> {
    return offerTo(this, message);
  }

  ensureMailbox(): Mailbox {
    if (this.mailbox === undefined) this.mailbox = this.actorKind.host.mailboxes.acquire();
    return this.mailbox;
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
    const passivates = kind.passivates;
    const receive = kind.receive;
    if (kind.turnBudget !== 0) budget = kind.turnBudget;
    let handled = 0;
    while (handled < budget && mailbox.size > 0) {
      let message = mailbox.shift();
      handled++;
      // a quiet timer's message is work, not activity: it must not hold off passivation
      if (message instanceof QuietMessage) message = message.message;
      else if (passivates) this.lastActive = kind.host.scheduler.sliceNow;
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
    if (mailbox.waiters !== undefined) admitWaiters(this, mailbox);
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
    const extras = this.extras;
    if (extras === undefined) return;
    extras.timers?.clear();
    extras.timers = undefined;
    extras.children?.terminateAll("parent stopped");
    extras.children = undefined;
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

  get restartCount(): number {
    return this.restarts?.total ?? 0;
  }

  treeNode(): SupervisionTreeNode {
    return cellTreeNode(this);
  }
}
