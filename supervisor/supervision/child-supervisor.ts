import type { SupervisionTreeNode, SupervisorSpec } from "../actor.ts";
import { decide } from "./decide.ts";
import { RestartIntensity } from "./restart-intensity.ts";
import { strategies } from "./strategies.ts";
import {
  describeReason,
  type SupervisedChild,
  type SupervisionHost,
  type Supervisor,
} from "./supervised-child.ts";

/**
 * An OTP supervisor over an ordered list of children (start order matters to rest_for_one):
 * the root supervisor, and every actor that spawns children. On a child's termination it
 * applies `decide` and its strategy, publishes one `supervision` event per affected child, and
 * past the restart intensity fails itself: its children are terminated and `onEscalate` hands
 * the failure to its own supervisor (or, at the root, stops the tree).
 */
export class ChildSupervisor implements Supervisor {
  readonly children: SupervisedChild[] = [];
  private readonly log: RestartIntensity;
  stopped = false;

  constructor(
    readonly address: string,
    readonly spec: SupervisorSpec,
    private readonly host: SupervisionHost,
    private readonly onEscalate: (reason: unknown) => void,
  ) {
    this.log = new RestartIntensity(spec.intensity, spec.periodMs);
  }

  add(child: SupervisedChild): void {
    this.children.push(child);
  }

  childFailed(child: SupervisedChild, reason: unknown): void {
    this.handle(child, true, reason);
  }

  childExited(child: SupervisedChild): void {
    this.handle(child, false, "normal");
  }

  /** terminates every child, last started first (OTP shutdown order) */
  terminateAll(reason: string): void {
    const children = this.children.splice(0);
    for (let i = children.length - 1; i >= 0; i--) children[i]!.terminate(reason);
  }

  get restarts(): number {
    return this.log.total;
  }

  tree(): SupervisionTreeNode[] {
    return this.children.map((child) => child.treeNode());
  }

  private handle(child: SupervisedChild, failed: boolean, reason: unknown): void {
    const index = this.children.indexOf(child);
    const reasonText = describeReason(reason);
    if (this.stopped || index < 0) {
      this.publish(child, "ignore", reasonText, 0, 0);
      child.terminate(reasonText);
      return;
    }
    const verdict = decide(this.spec, "supervisor", child, failed, this.log, this.host.now(), () =>
      this.host.random(),
    );
    if (verdict.decision === "stop") {
      this.children.splice(index, 1);
      const why = verdict.exceeded ? `restart intensity exceeded: ${reasonText}` : reasonText;
      this.publish(child, "stop", why, verdict.restarts, 0);
      child.terminate(why);
      return;
    }
    if (verdict.decision === "escalate") {
      this.publish(child, "escalate", `restart intensity exceeded: ${reasonText}`, verdict.restarts, 0);
      this.stopped = true;
      this.terminateAll("supervisor escalated");
      this.onEscalate(reason);
      return;
    }
    const affected = strategies[this.spec.strategy](this.children, index);
    // siblings go down last-started first; temporary siblings are not restarted (OTP)
    const restarting: SupervisedChild[] = [];
    for (let i = affected.length - 1; i >= 0; i--) {
      const sibling = affected[i]!;
      if (sibling !== child && sibling.restartType === "temporary") {
        this.children.splice(this.children.indexOf(sibling), 1);
        this.publish(sibling, "stop", `sibling ${child.address} restarting`, 0, 0);
        sibling.terminate("shutdown");
      } else {
        restarting.unshift(sibling);
      }
    }
    for (const sibling of restarting) {
      const why = sibling === child ? reasonText : `sibling ${child.address} failed: ${reasonText}`;
      const restarts = sibling === child ? verdict.restarts : sibling.restartLog(this.spec).total;
      this.publish(sibling, "restart", why, restarts, verdict.delayMs);
      this.host.countRestart();
      sibling.restart(reason, verdict.delayMs);
    }
  }

  private publish(
    child: SupervisedChild,
    decision: "restart" | "stop" | "escalate" | "ignore",
    reason: string,
    restarts: number,
    delayMs: number,
  ): void {
    this.host.publish({
      type: "supervision",
      supervisor: this.address,
      child: child.address,
      decision,
      reason,
      strategy: this.spec.strategy,
      restarts,
      delayMs,
      at: this.host.now(),
    });
  }
}
