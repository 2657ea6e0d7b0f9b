import type { SupervisionTreeNode, SupervisorSpec } from "../actor.ts";
import type { ActorKind } from "../actor-kind.ts";
import { decide } from "./decide.ts";
import { RestartIntensity } from "./restart-intensity.ts";
import {
  describeReason,
  type SupervisedChild,
  type SupervisionHost,
  type Supervisor,
} from "./supervised-child.ts";

/** Sharded entities: one_for_one, intensity per entity, back-off from 10 ms up to 5 s. */
export const DEFAULT_ENTITY_SUPERVISION: SupervisorSpec = {
  strategy: "one_for_one",
  intensity: 5,
  periodMs: 10_000,
  backoff: { minMs: 10, maxMs: 5_000, jitter: 0.2 },
  intensityScope: "child",
};

/** How many entities `tree()` lists per kind; the rest are only counted. */
const TREE_SAMPLE = 20;

/**
 * The supervisor of one sharded kind (`sensor/*`): one_for_one over entities that are spawned
 * on demand, so its children live in the kind's entity table, not in a list. Restart intensity
 * defaults to "child" scope (Akka's OneForOneStrategy) so one poisoned key stops only itself; in
 * "supervisor" scope, exceeding it fails the whole kind and escalates to the root, whose restart
 * stops every entity (they come back on demand with fresh state).
 */
export class KindSupervisor implements Supervisor, SupervisedChild {
  readonly address: string;
  readonly restartType = "permanent";
  private readonly log: RestartIntensity;
  private ownRestarts: RestartIntensity | undefined = undefined;
  private entityRestarts = 0;
  stopped = false;

  constructor(
    private readonly kind: ActorKind,
    readonly spec: SupervisorSpec,
    private readonly host: SupervisionHost,
    private readonly parent: Supervisor,
  ) {
    this.address = `${kind.name}/*`;
    this.log = new RestartIntensity(spec.intensity, spec.periodMs);
  }

  childFailed(child: SupervisedChild, reason: unknown): void {
    this.handle(child, true, reason);
  }

  childExited(child: SupervisedChild): void {
    this.handle(child, false, "normal");
  }

  private handle(child: SupervisedChild, failed: boolean, reason: unknown): void {
    const reasonText = describeReason(reason);
    if (this.stopped) {
      this.publish(child, "ignore", reasonText, 0, 0);
      child.terminate(reasonText);
      return;
    }
    const verdict = decide(this.spec, "child", child, failed, this.log, this.host.now(), () =>
      this.host.random(),
    );
    switch (verdict.decision) {
      case "stop": {
        const why = verdict.exceeded ? `restart intensity exceeded: ${reasonText}` : reasonText;
        this.publish(child, "stop", why, verdict.restarts, 0);
        child.terminate(why);
        return;
      }
      case "escalate":
        this.publish(child, "escalate", `restart intensity exceeded: ${reasonText}`, verdict.restarts, 0);
        this.stopped = true;
        child.terminate("supervisor escalated");
        this.terminateEntities("supervisor escalated");
        this.parent.childFailed(this, reason);
        return;
      case "restart":
        this.publish(child, "restart", reasonText, verdict.restarts, verdict.delayMs);
        this.entityRestarts++;
        this.host.countRestart();
        child.restart(reason, verdict.delayMs);
        return;
    }
  }

  private terminateEntities(reason: string): void {
    const cells = this.kind.cells;
    if (cells === undefined) return;
    for (const cell of [...cells.values()]) cell.terminate(reason);
  }

  // ---- as a child of the root --------------------------------------------------------------

  restartLog(spec: SupervisorSpec): RestartIntensity {
    if (this.ownRestarts === undefined)
      this.ownRestarts = new RestartIntensity(spec.intensity, spec.periodMs);
    return this.ownRestarts;
  }

  terminate(reason: string): void {
    this.stopped = true;
    this.terminateEntities(reason);
  }

  /** a restarted kind starts empty; its entities come back on their next message */
  restart(_reason: unknown, delayMs: number): void {
    this.stopped = true;
    this.terminateEntities("supervisor restarting");
    this.log.reset();
    if (delayMs > 0) {
      this.host.later(delayMs, () => {
        this.stopped = false;
      });
    } else {
      this.stopped = false;
    }
  }

  treeNode(): SupervisionTreeNode {
    const cells = this.kind.cells;
    const sample: SupervisionTreeNode[] = [];
    if (cells !== undefined) {
      for (const cell of cells.values()) {
        if (sample.length >= TREE_SAMPLE) break;
        sample.push(cell.treeNode());
      }
    }
    return {
      address: this.address,
      strategy: "one_for_one",
      restarts: this.entityRestarts,
      mailboxDepth: this.kind.depth,
      status: this.stopped ? "stopped" : "running",
      count: cells?.size ?? 0,
      children: sample,
    };
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
      strategy: "one_for_one",
      restarts,
      delayMs,
      at: this.host.now(),
    });
  }
}
